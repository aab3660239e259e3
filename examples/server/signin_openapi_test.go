package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// TestEmailSignInMatchesOpenAPI: the answers of the emaillogin routes,
// successes and errors, are what the OpenAPI document the server serves
// declares (status and body schema), checked by kin-openapi. It lives
// here, in the examples module, so that the library's go.mod needs no
// kin-openapi.
func TestEmailSignInMatchesOpenAPI(t *testing.T) {
	ctx := context.Background()
	st, err := anydb.Open(ctx, "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	box := &mail.Memory{}
	el := emaillogin.New(emaillogin.Config{})
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: "https://id.example.com",
		BcryptCost: 4, DataDir: t.TempDir(), Logger: slog.New(slog.DiscardHandler)},
		usermgmt.WithMailer(box), usermgmt.WithResolver(anyDomain{}), usermgmt.WithFeature(el))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { el.Wait(); _ = m.Close() })
	if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane_doe@example.com", Password: "Secret-pass-123", EmailVerified: true}); err != nil {
		t.Fatal(err)
	}
	h := httpadapter.New(m, httpadapter.Options{Prefix: "/api"})

	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/openapi.json", nil))
	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	if err != nil {
		t.Fatalf("load /openapi.json: %v", err)
	}
	if err := doc.Validate(ctx); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	doc.Servers = nil // match the request paths as they are
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	check := func(method, target, body string, want int) []byte {
		t.Helper()
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, target, rec.Code, rec.Body, want)
		}
		again := httptest.NewRequest(method, target, strings.NewReader(body))
		again.Header = req.Header.Clone()
		route, params, err := router.FindRoute(again)
		if err != nil {
			t.Fatalf("%s %s: not in the document: %v", method, target, err)
		}
		if route.Operation.Responses.Status(rec.Code) == nil {
			t.Errorf("%s %s: status %d not declared", method, target, rec.Code)
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: again, PathParams: params, Route: route},
			Status:                 rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		if err := openapi3filter.ValidateResponse(ctx, in); err != nil {
			t.Errorf("%s %s → %d: %v (body %.300s)", method, target, rec.Code, err, rec.Body)
		}
		return rec.Body.Bytes()
	}
	next := func() mail.Message {
		t.Helper()
		el.Wait()
		ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		msg, err := box.Next(ctx)
		if err != nil {
			t.Fatalf("no mail: %v", err)
		}
		return msg
	}
	email := func(addr string) string { b, _ := json.Marshal(map[string]string{"email": addr}); return string(b) }

	check(http.MethodPost, "/api/auth/magic-link", email("jane_doe@example.com"), http.StatusAccepted)
	link := regexp.MustCompile(`https://\S+token=\S+`).FindString(next().Text)
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("link %q", link)
	}
	token := url.QueryEscape(u.Query().Get("token"))
	check(http.MethodGet, "/api/auth/magic-link/verify?token="+token, "", http.StatusOK)
	check(http.MethodGet, "/api/auth/magic-link/verify?token="+token, "", http.StatusUnauthorized)
	check(http.MethodPost, "/api/auth/magic-link", `{"email":"jane_doe@example.com","redirect_uri":"https://evil.example.net/"}`, http.StatusBadRequest)
	check(http.MethodPost, "/api/auth/magic-link", email("not-an-address"), http.StatusBadRequest)
	check(http.MethodPost, "/api/auth/magic-link", `{}`, http.StatusUnprocessableEntity)

	check(http.MethodPost, "/api/auth/email-code", email("jane_doe@example.com"), http.StatusAccepted)
	code := regexp.MustCompile(`\b[0-9]{6}\b`).FindString(next().Text)
	wrong := "000000"
	if code == wrong {
		wrong = "000001"
	}
	check(http.MethodPost, "/api/auth/email-code/verify", `{"email":"jane_doe@example.com","code":"`+wrong+`"}`, http.StatusUnauthorized)
	check(http.MethodPost, "/api/auth/email-code/verify", `{"email":"jane_doe@example.com","code":"`+code+`"}`, http.StatusOK)
	check(http.MethodPost, "/api/auth/email-code/verify", `{"email":"jane_doe@example.com","code":"12"}`, http.StatusUnprocessableEntity)
	check(http.MethodPost, "/api/auth/email-code", `[1]`, http.StatusUnprocessableEntity)
}
