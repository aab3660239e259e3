// Command usersearch measures GET /user/ paging at scale: it seeds a
// PostgreSQL database with N users by SQL (generate_series, seconds for a
// million rows) and times the store's ListUsers for the first page, a page
// deep in the order by cursor (keyset) and by offset, and prefix searches.
// It is a manual benchmark, not part of CI:
//
//	go run ./bench/usersearch -dsn 'postgres://postgres@127.0.0.1:55432/bench?sslmode=disable' -users 1000000
//
// The database must exist; the users table is filled up to -users rows
// (existing rows are kept, so a second run skips the seeding).
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"os"
	"slices"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/anydb"
)

func main() {
	dsn := flag.String("dsn", os.Getenv("USERMGMT_BENCH_POSTGRES"), "PostgreSQL DSN (default $USERMGMT_BENCH_POSTGRES)")
	n := flag.Int("users", 1_000_000, "users to seed")
	runs := flag.Int("runs", 50, "timed runs per query")
	flag.Parse()
	if *dsn == "" {
		log.Fatal("usersearch: give -dsn or USERMGMT_BENCH_POSTGRES")
	}
	ctx := context.Background()
	db, err := anydb.Open(ctx, *dsn)
	if err != nil {
		log.Fatal(err)
	}
	defer db.Close()
	if db.Dialect() != store.DialectPostgres {
		log.Fatal("usersearch: this benchmark seeds with PostgreSQL's generate_series")
	}
	have, err := db.CountUsers(ctx)
	if err != nil {
		log.Fatal(err)
	}
	if have < *n {
		start := time.Now()
		// Usernames user_<n> and emails u<n>@example.com; creation times one
		// second apart; UUIDs from md5, shaped as version 4.
		_, err := db.Bun().ExecContext(ctx, `
INSERT INTO users (uuid, username, display_name, email, password_hash, roles, blocked_uuids, created_at, updated_at)
SELECT overlay(overlay(md5('u' || i) placing '4' from 13 for 1) placing '8' from 17 for 1)::uuid::text,
       'user_' || i, 'User_' || i, 'u' || i || '@example.com', '', '["user"]', '[]',
       timestamptz '2020-01-01' + i * interval '1 second', timestamptz '2020-01-01' + i * interval '1 second'
FROM generate_series(?::bigint, ?::bigint) AS i`, have+1, *n)
		if err != nil {
			log.Fatal(err)
		}
		if _, err := db.Bun().ExecContext(ctx, "ANALYZE users"); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("seeded %d users in %s\n", *n-have, time.Since(start).Round(time.Millisecond))
	}
	total, _ := db.CountUsers(ctx)

	// The cursor of the middle of the order.
	mid, err := db.ListUsers(ctx, usermgmt.UserQuery{Offset: total / 2, Limit: 1})
	if err != nil || len(mid) == 0 {
		log.Fatalf("middle user: %v", err)
	}
	after := &usermgmt.UserCursor{CreatedAt: mid[0].CreatedAt, UUID: mid[0].UUID}

	// The cursor after the first page of a broad search.
	first, err := db.ListUsers(ctx, usermgmt.UserQuery{Limit: 100, Search: "user_1"})
	if err != nil {
		log.Fatal(err)
	}
	searchNext := usermgmt.NextUserCursor(first, 100)

	cases := []struct {
		name string
		q    usermgmt.UserQuery
	}{
		{"first page (limit 100)", usermgmt.UserQuery{Limit: 100}},
		{"page at the middle, by cursor", usermgmt.UserQuery{Limit: 100, After: after}},
		{"page at the middle, by offset (skip)", usermgmt.UserQuery{Limit: 100, Offset: total / 2}},
		{"search user_12345 (11 matches)", usermgmt.UserQuery{Limit: 100, Search: "user_12345"}},
		{"search u9999 (email, 111 matches)", usermgmt.UserQuery{Limit: 100, Search: "u9999"}},
		{"search user_1 (111,112 matches)", usermgmt.UserQuery{Limit: 100, Search: "user_1"}},
		{"search user_1, page 2 by cursor", usermgmt.UserQuery{Limit: 100, Search: "user_1", After: searchNext}},
		// The worst case: a search with few matches after the cursor walks
		// the (created_at, uuid) index from the cursor to the end.
		{"search user_1, after the middle (1 match)", usermgmt.UserQuery{Limit: 100, Search: "user_1", After: after}},
	}
	fmt.Printf("%d users; %d runs each; median and p95 of ListUsers\n", total, *runs)
	for _, c := range cases {
		var ds []time.Duration
		var got int
		for range *runs {
			start := time.Now()
			us, err := db.ListUsers(ctx, c.q)
			ds = append(ds, time.Since(start))
			if err != nil {
				log.Fatalf("%s: %v", c.name, err)
			}
			got = len(us)
		}
		slices.Sort(ds)
		fmt.Printf("%-40s rows %3d  median %8s  p95 %8s\n", c.name, got,
			ds[len(ds)/2].Round(time.Microsecond), ds[len(ds)*95/100].Round(time.Microsecond))
	}
}
