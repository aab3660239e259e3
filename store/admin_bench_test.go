package store_test

import (
	"context"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store"
)

// BenchmarkListUsersCursor is a page of GET /user/ deep in the order, by
// cursor; BenchmarkListUsersSearch a prefix search. bench/usersearch has the
// same at a million users on PostgreSQL.
func BenchmarkListUsersCursor(b *testing.B) {
	benchStores(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		mid, err := db.ListUsers(ctx, usermgmt.UserQuery{Offset: 500, Limit: 1})
		if err != nil || len(mid) != 1 {
			b.Fatal(err)
		}
		q := usermgmt.UserQuery{Limit: 100, After: &usermgmt.UserCursor{CreatedAt: mid[0].CreatedAt, UUID: mid[0].UUID}}
		for b.Loop() {
			if us, err := db.ListUsers(ctx, q); err != nil || len(us) != 100 {
				b.Fatal(len(us), err)
			}
		}
	})
}

func BenchmarkListUsersSearch(b *testing.B) {
	benchStores(b, func(b *testing.B, db *store.DB) {
		ctx := context.Background()
		all, _ := db.ListUsers(ctx, usermgmt.UserQuery{Offset: 700, Limit: 1})
		q := usermgmt.UserQuery{Limit: 100, Search: all[0].Username}
		for b.Loop() {
			if us, err := db.ListUsers(ctx, q); err != nil || len(us) == 0 {
				b.Fatal(len(us), err)
			}
		}
	})
}
