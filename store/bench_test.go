package store_test

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store"
)

// benchStores runs bench on a SQLite file and on PostgreSQL, each holding
// 1000 users with a session each.
func benchStores(b *testing.B, bench func(b *testing.B, db *store.DB)) {
	backends := []struct {
		name string
		dsn  func(b *testing.B) string
	}{
		{"sqlite", func(b *testing.B) string { return "sqlite://" + filepath.Join(b.TempDir(), "bench.db") }},
		{"postgres", func(b *testing.B) string { return testpg.DSN(b) }},
	}
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			db := openStore(b, be.dsn(b))
			b.Cleanup(func() { db.Close() })
			ctx := context.Background()
			err := db.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
				for i := range 1000 {
					if err := tx.InsertUser(ctx, user(i)); err != nil {
						return err
					}
					if err := tx.InsertSession(ctx, benchSession(i)); err != nil {
						return err
					}
				}
				return nil
			})
			if err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			bench(b, db)
		})
	}
}

func benchSession(i int) *usermgmt.Session {
	now := time.Now()
	return &usermgmt.Session{
		ID:          fmt.Sprintf("session-%06d", i),
		UserUUID:    user(i).UUID,
		RefreshHash: make([]byte, 32),
		CreatedAt:   now,
		RotatedAt:   now,
		ExpiresAt:   now.Add(30 * 24 * time.Hour),
	}
}

func BenchmarkUserByUUID(b *testing.B) {
	benchStores(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		b.RunParallel(func(pb *testing.PB) {
			i := 0
			for pb.Next() {
				if _, err := db.UserByUUID(ctx, user(i%1000).UUID); err != nil {
					b.Error(err)
					return
				}
				i++
			}
		})
	})
}

func BenchmarkRotateSession(b *testing.B) {
	benchStores(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		hash := make([]byte, 32)
		now := time.Now()
		// Each iteration rotates one session one generation further.
		gens := make([]int64, 1000)
		i := 0
		for b.Loop() {
			s := i % 1000
			ok, err := db.RotateSession(ctx, benchSession(s).ID, gens[s], usermgmt.SessionRotation{
				Generation: gens[s] + 1, RefreshHash: hash, PrevRefreshHash: hash, SealedSuccessor: hash,
				RotatedAt: now, ExpiresAt: now.Add(time.Hour),
			})
			if err != nil || !ok {
				b.Fatalf("RotateSession = %v, %v", ok, err)
			}
			gens[s]++
			i++
		}
	})
}

func BenchmarkAppendAudit(b *testing.B) {
	benchStores(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		i := 0
		for b.Loop() {
			e := &usermgmt.AuditEntry{Time: time.Now(), ActorUUID: user(i % 1000).UUID, SubjectUUID: user(i % 1000).UUID, Action: usermgmt.AuditLogin, IP: "192.0.2.1"}
			if err := db.AppendAudit(ctx, e); err != nil {
				b.Fatal(err)
			}
			i++
		}
	})
}
