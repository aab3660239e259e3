package webhook_test

import (
	"context"
	"testing"

	"github.com/usermgmt/usermgmt/webhook"
)

// BenchmarkLogin measures what the outbox adds to a login (an event:
// session.created) on SQLite: "off" has no endpoint (no outbox row),
// "on" writes one row per endpoint in the login's transaction. No worker
// runs, so only the request's cost is measured.
func BenchmarkLogin(b *testing.B) {
	for _, bc := range []struct {
		name      string
		endpoints []string
	}{
		{"off", nil},
		{"on-1-endpoint", []string{"https://hooks.example.com/a"}},
		{"on-2-endpoints", []string{"https://hooks.example.com/a", "https://hooks.example.com/b"}},
	} {
		b.Run(bc.name, func(b *testing.B) {
			e := newEnv(b, "sqlite://"+b.TempDir()+"/bench.db", webhook.Config{Endpoints: bc.endpoints})
			e.user("jane_doe")
			ctx := context.Background()
			b.ResetTimer()
			for b.Loop() {
				if _, err := e.m.Login(ctx, "jane_doe", "Password-123!"); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
