package main

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// The reference scenario runs against the library's handler with the
// reference's statuses at every step.
func TestReferenceScenario(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := anydb.Open(ctx, "sqlite://"+filepath.Join(dir, "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("bench-test-secret-0123456789abcdef"),
		BcryptCost: 4, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpadapter.New(m, httpadapter.Options{}))
	defer srv.Close()

	o, err := parseFlags([]string{"-target", srv.URL, "-scenario", "reference", "-reference-duration", "1s",
		"-reference-sleep", "0s", "-reference-vus", "2", "-strict"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runReference(ctx, o, newAPI(o.target, o.prefix, 8), &out); err != nil {
		t.Fatalf("runReference: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep referenceJSON
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("JSON line: %v\n%s", err, out.String())
	}
	if rep.Iterations < 2 || rep.Unexpected != 0 || rep.Requests != 9*rep.Iterations ||
		rep.Statuses[401] != rep.Iterations || rep.Statuses[200] != 8*rep.Iterations || rep.RequestsPS <= 0 {
		t.Fatalf("report %+v\n%s", rep, out.String())
	}
	if _, err := parseFlags([]string{"-scenario", "other"}); err == nil {
		t.Error("-scenario other accepted")
	}
}

// With the rate limiter on, as examples/server runs by default, the
// reference's iteration spends the per-account login limit (10 per 5
// minutes, two logins an iteration) in five iterations: the sixth
// iteration's first login is refused with 429, which is why the reference's
// k6 script fails most of its requests against the defaults
// (docs/load-test.md).
func TestReferenceScenarioDefaultLimits(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := anydb.Open(ctx, "sqlite://"+filepath.Join(dir, "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("bench-test-secret-0123456789abcdef"),
		BcryptCost: 4, DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpadapter.New(m, httpadapter.Options{
		RateLimit: httpadapter.RateLimitOptions{Enabled: true}}))
	defer srv.Close()

	o, err := parseFlags([]string{"-target", srv.URL, "-scenario", "reference", "-reference-duration", "4s",
		"-reference-sleep", "0s", "-reference-vus", "1"})
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := runReference(ctx, o, newAPI(o.target, o.prefix, 4), &out); err != nil {
		t.Fatalf("runReference: %v\n%s", err, out.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	var rep referenceJSON
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &rep); err != nil {
		t.Fatalf("JSON line: %v\n%s", err, out.String())
	}
	if rep.Iterations < 6 || rep.Statuses[429] == 0 || rep.Statuses[200] < 5*8 || rep.Unexpected == 0 ||
		!strings.HasPrefix(rep.FirstError, "step 1 ") || !strings.Contains(rep.FirstError, "status 429") {
		t.Fatalf("report %+v\n%s", rep, out.String())
	}
}
