package httpadapter_test

import (
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// BenchmarkUserMe measures an authenticated GET /api/user/me through the
// whole handler (middleware, token check, cached profile, encoding) on
// SQLite with a warm cache: the fake clock stands still, so the cache
// entry never expires and the path makes no database query.
func BenchmarkUserMe(b *testing.B) {
	e := newEnv(b, backends[0].dsn(b), httpadapter.Options{Logger: slog.New(slog.DiscardHandler)})
	a := e.register("bench_user")
	r := httptest.NewRequest("GET", "/api/user/me", nil)
	r.Header.Set("Authorization", "Bearer "+a.AccessToken)
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r) // warms the cache
	if rec.Code != 200 {
		b.Fatalf("GET /api/user/me = %d %s", rec.Code, rec.Body)
	}
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatalf("GET /api/user/me = %d", rec.Code)
		}
	}
}

// BenchmarkPing measures the cheapest route through the global middleware.
func BenchmarkPing(b *testing.B) {
	e := newEnv(b, backends[0].dsn(b), httpadapter.Options{Logger: slog.New(slog.DiscardHandler)})
	r := httptest.NewRequest("GET", "/ping", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatalf("GET /ping = %d", rec.Code)
		}
	}
}
