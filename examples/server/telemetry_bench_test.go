package main

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// BenchmarkUserMeTelemetry measures an authenticated GET /api/user/me
// through httpadapter (warm cache, SQLite) without providers, with the
// SDK's meter provider (a manual reader, as a Prometheus scrape uses), and
// with that plus a tracer provider sampling every request into a batcher
// whose exporter drops the spans.
func BenchmarkUserMeTelemetry(b *testing.B) {
	for _, c := range []struct {
		name string
		opts func(b *testing.B) []usermgmt.Option
	}{
		{"off", func(*testing.B) []usermgmt.Option { return nil }},
		{"metrics", func(b *testing.B) []usermgmt.Option {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			b.Cleanup(func() { _ = mp.Shutdown(context.Background()) })
			return []usermgmt.Option{usermgmt.WithMeterProvider(mp)}
		}},
		{"metrics+traces", func(b *testing.B) []usermgmt.Option {
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
			tp := sdktrace.NewTracerProvider(sdktrace.WithSampler(sdktrace.AlwaysSample()),
				sdktrace.WithBatcher(tracetest.NewNoopExporter()))
			b.Cleanup(func() { _ = mp.Shutdown(context.Background()); _ = tp.Shutdown(context.Background()) })
			return []usermgmt.Option{usermgmt.WithMeterProvider(mp), usermgmt.WithTracerProvider(tp)}
		}},
	} {
		b.Run(c.name, func(b *testing.B) {
			ctx := context.Background()
			st, err := anydb.Open(ctx, "sqlite://"+filepath.Join(b.TempDir(), "app.db"))
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = st.Close() })
			m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-0123456789abcdef0123"), BcryptCost: 4,
				Logger: slog.New(slog.DiscardHandler)}, c.opts(b)...)
			if err != nil {
				b.Fatal(err)
			}
			b.Cleanup(func() { _ = m.Close() })
			const pw = "Correct-Horse-9"
			if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "bench_user", Email: "bench@example.com", Password: pw}); err != nil {
				b.Fatal(err)
			}
			tok, err := m.Login(ctx, "bench_user", pw)
			if err != nil {
				b.Fatal(err)
			}
			h := httpadapter.New(m, httpadapter.Options{Logger: slog.New(slog.DiscardHandler)})
			r := httptest.NewRequest(http.MethodGet, "/api/user/me", nil)
			r.Header.Set("Authorization", "Bearer "+tok.AccessToken)
			b.ReportAllocs()
			for b.Loop() {
				w := httptest.NewRecorder()
				h.ServeHTTP(w, r)
				if w.Code != http.StatusOK {
					b.Fatalf("GET /api/user/me = %d", w.Code)
				}
			}
		})
	}
}
