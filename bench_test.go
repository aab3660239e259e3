package usermgmt_test

import (
	"context"
	"fmt"
	"log/slog"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// benchSetup returns a Manager over a SQLite file with one user and its tokens.
func benchSetup(b *testing.B) (*usermgmt.Manager, *usermgmt.Tokens) {
	b.Helper()
	m := newManager(b, openStore(b), nil)
	mustCreate(b, m, "bench_user")
	tok, err := m.Login(context.Background(), "bench_user", goodPassword)
	if err != nil {
		b.Fatal(err)
	}
	return m, tok
}

// BenchmarkAuthenticate is the hot path of every authenticated request with
// a warm cache: JWT verification plus two cache lookups.
func BenchmarkAuthenticate(b *testing.B) {
	m, tok := benchSetup(b)
	ctx := context.Background()
	if _, err := m.Authenticate(ctx, tok.AccessToken); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := m.Authenticate(ctx, tok.AccessToken); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkAuthenticateCold measures a cache miss on every call: the session
// and the profile (user plus history) come from SQLite.
func BenchmarkAuthenticateCold(b *testing.B) {
	st := openStore(b)
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: testSecret, BcryptCost: 4, CacheSize: 1, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	toks := make([]*usermgmt.Tokens, 2)
	for i := range toks {
		name := fmt.Sprintf("cold_user_%d", i)
		mustCreate(b, m, name)
		if toks[i], err = m.Login(ctx, name, goodPassword); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		// Alternating users in a one-entry cache: every call misses.
		if _, err := m.Authenticate(ctx, toks[i%2].AccessToken); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkUserLookup is a user lookup by UUID and by login name.
func BenchmarkUserLookup(b *testing.B) {
	m, tok := benchSetup(b)
	ctx := context.Background()
	b.Run("uuid", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := m.User(ctx, tok.User.UUID); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("login", func(b *testing.B) {
		b.ReportAllocs()
		for i := 0; i < b.N; i++ {
			if _, err := m.UserByLogin(ctx, "bench_user@example.com"); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkRefresh rotates one session's refresh token over and over.
func BenchmarkRefresh(b *testing.B) {
	m, tok := benchSetup(b)
	ctx := context.Background()
	refresh := tok.RefreshToken
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		t, err := m.Refresh(ctx, refresh)
		if err != nil {
			b.Fatal(err)
		}
		refresh = t.RefreshToken
	}
}
