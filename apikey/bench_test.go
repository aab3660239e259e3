package apikey_test

import (
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/internal/cputime"
)

// BenchmarkMe is GET /user/me, the hot path of an authenticated request,
// with a session's access token (JWT) and with an API key, through the
// whole handler on SQLite. The key's rate limit stays on (at a rate the
// benchmark does not reach), so its cost is counted. cpu-ns/op is the
// process's CPU time per request, which a loaded machine's wait for a
// core does not inflate as it does ns/op.
func BenchmarkMe(b *testing.B) {
	e := newEnv(b, "sqlite://"+b.TempDir()+"/bench.db", false, apikey.Config{Rate: usermgmt.Rate{Limit: 1 << 30, Window: time.Minute}})
	_, tok := e.user("jane_doe")
	key, _ := e.create(tok, map[string]any{"name": "bench", "scopes": []string{"user:read"}})
	for _, c := range []struct{ name, header, value string }{
		{"jwt", "Authorization", "Bearer " + tok},
		{"apikey", "Authorization", "Bearer " + key},
		{"apikey-header", "X-API-Key", key},
	} {
		b.Run(c.name, func(b *testing.B) {
			r := httptest.NewRequest(http.MethodGet, "/api/user/me", nil)
			r.Header.Set(c.header, c.value)
			b.ReportAllocs()
			cpu0, ok := cputime.Process()
			n := 0
			for b.Loop() {
				rec := httptest.NewRecorder()
				e.h.ServeHTTP(rec, r)
				if rec.Code != http.StatusOK {
					b.Fatalf("%d %s", rec.Code, rec.Body)
				}
				n++
			}
			if cpu1, _ := cputime.Process(); ok && n > 0 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
			}
		})
	}
}

// BenchmarkAuthenticate is Manager.Authenticate alone, cached, with a
// session's access token and with an API key.
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b, "sqlite://"+b.TempDir()+"/bench.db", false, apikey.Config{Rate: usermgmt.Rate{Limit: 1 << 30, Window: time.Minute}})
	_, tok := e.user("jane_doe")
	key, _ := e.create(tok, map[string]any{"name": "bench", "scopes": []string{"user:read"}})
	for _, c := range []struct{ name, credential string }{{"jwt", tok}, {"apikey", key}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := b.Context()
			b.ReportAllocs()
			cpu0, ok := cputime.Process()
			n := 0
			for b.Loop() {
				if _, err := e.m.Authenticate(ctx, c.credential); err != nil {
					b.Fatal(err)
				}
				n++
			}
			if cpu1, _ := cputime.Process(); ok && n > 0 {
				b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
			}
		})
	}
}
