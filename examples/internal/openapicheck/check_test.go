package main

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// document returns the OpenAPI document a default handler serves.
func document(t *testing.T) []byte {
	t.Helper()
	ctx := context.Background()
	st, err := anydb.Open(ctx, "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: "http://127.0.0.1", BcryptCost: 4, DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	rec := httptest.NewRecorder()
	httpadapter.New(m, httpadapter.Options{}).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("GET /openapi.json: %d", rec.Code)
	}
	return rec.Body.Bytes()
}

func newTestChecker(t *testing.T) *checker {
	doc := document(t)
	return newChecker(func(string) ([]byte, error) { return doc, nil })
}

var jsonHeader = http.Header{"Content-Type": {"application/json"}}

// TestCheckCatches shows the check is not vacuous: an answer with an
// undeclared status, or a body of the wrong shape, is reported.
func TestCheckCatches(t *testing.T) {
	c := newTestChecker(t)
	for _, tt := range []struct {
		name   string
		status int
		header http.Header
		body   string
	}{
		{"undeclared status", http.StatusTeapot, jsonHeader, `{"detail":"x","code":"y"}`},
		{"body of the wrong type", http.StatusOK, jsonHeader, `"many"`},
		{"error without its fields", http.StatusUnauthorized, jsonHeader, `{}`},
		{"an undeclared header", http.StatusOK, http.Header{"Content-Type": {"application/json"}, "X-Secret-Cursor": {"1"}}, "3"},
		{"a rate-limit header of the wrong type", http.StatusOK, http.Header{"Content-Type": {"application/json"}, "Ratelimit-Remaining": {"many"}}, "3"},
	} {
		a := Answer{Test: tt.name, Doc: "d", Method: http.MethodGet, Target: "/api/user/count", Status: tt.status, Header: tt.header, Body: []byte(tt.body)}
		if err := c.check(a); err == nil {
			t.Errorf("%s: %d %s passed the check", tt.name, tt.status, tt.body)
		}
	}
	good := Answer{Doc: "d", Method: http.MethodGet, Target: "/api/user/count", Status: http.StatusOK, Header: jsonHeader, Body: []byte("3")}
	if err := c.check(good); err != nil {
		t.Errorf("a conforming answer was refused: %v", err)
	}
	// Requests the document does not describe are not checked.
	page := Answer{Doc: "d", Method: http.MethodGet, Target: "/login", Status: http.StatusTeapot, Header: jsonHeader, Body: []byte("x")}
	if err := c.check(page); err != nil {
		t.Errorf("an undescribed path was checked: %v", err)
	}
}

// TestCheckOAuthResult: a provider login's token answer matches exactly
// one branch of OAuthResult, and so does a link's account.
func TestCheckOAuthResult(t *testing.T) {
	c := newTestChecker(t)
	for _, body := range []string{
		`{"access_token":"a","token_type":"bearer","refresh_token":"r","expires_in":900}`,
		`{"external_account_id":"sub","provider":"oidc","user_uuid":"u","username":"x","display_name":"","email":"","picture_url":""}`,
	} {
		a := Answer{Doc: "d", Method: http.MethodGet, Target: "/api/oauth/oidc/callback?state=s&code=c", Status: http.StatusOK, Header: jsonHeader, Body: []byte(body)}
		if err := c.check(a); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}

// TestRun reads a recorded directory as the suite writes it and reports
// each violation with the test that recorded it.
func TestRun(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "abc.json"), document(t), 0o600); err != nil {
		t.Fatal(err)
	}
	lines := `{"test":"TestGood","doc":"abc","method":"GET","target":"/api/user/count","status":200,"header":{"Content-Type":["application/json"]},"body":"Mw=="}
{"test":"TestBad","doc":"abc","method":"GET","target":"/api/user/count","status":418,"header":{"Content-Type":["application/json"]},"body":"e30="}
`
	if err := os.WriteFile(filepath.Join(dir, "answers.jsonl"), []byte(lines), 0o600); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	bad, err := run(dir, &out)
	if err != nil {
		t.Fatal(err)
	}
	if bad != 1 || !strings.Contains(out.String(), "TestBad: OpenAPI conformance of GET /api/user/count → 418") || strings.Contains(out.String(), "TestGood:") {
		t.Errorf("run = %d violations, output:\n%s", bad, out.String())
	}
	if !strings.Contains(out.String(), "2 answers against 1 documents, 1 violations") {
		t.Errorf("no summary line:\n%s", out.String())
	}
}
