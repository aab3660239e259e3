package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

var adminSearchCases = []testCase{
	{"AuditFiltersAndCursor", testAuditFilters},
	{"UserSearchAndKeyset", testUserSearch},
}

func testAuditFilters(t *testing.T, st fullStore) {
	ctx := context.Background()
	alice, bob := newUser(1).UUID, newUser(2).UUID
	var ids []int64
	for i := range 10 {
		actor, subject, action := alice, bob, usermgmt.AuditBan
		if i%2 == 1 {
			actor, subject, action = bob, alice, usermgmt.AuditLogin
		}
		e := &usermgmt.AuditEntry{Time: t0.Add(time.Duration(i) * time.Minute), ActorUUID: actor, SubjectUUID: subject, Action: action}
		if err := st.AppendAudit(ctx, e); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, e.ID)
	}
	got := func(q usermgmt.AuditQuery) []int64 {
		t.Helper()
		es, err := st.Audit(ctx, q)
		if err != nil {
			t.Fatalf("Audit(%+v): %v", q, err)
		}
		out := make([]int64, len(es))
		for i, e := range es {
			out[i] = e.ID
		}
		return out
	}
	tests := []struct {
		name string
		q    usermgmt.AuditQuery
		want []int64
	}{
		{"actor", usermgmt.AuditQuery{ActorUUID: bob}, []int64{ids[9], ids[7], ids[5], ids[3], ids[1]}},
		{"actor and subject", usermgmt.AuditQuery{ActorUUID: alice, SubjectUUID: alice}, []int64{}},
		{"action", usermgmt.AuditQuery{Actions: []string{usermgmt.AuditBan}, Limit: 2}, []int64{ids[8], ids[6]}},
		{"since until", usermgmt.AuditQuery{Since: t0.Add(2 * time.Minute), Until: t0.Add(5 * time.Minute)}, []int64{ids[4], ids[3], ids[2]}},
		{"since in another zone", usermgmt.AuditQuery{Since: t0.Add(8 * time.Minute).In(time.FixedZone("X", -5*3600))}, []int64{ids[9], ids[8]}},
		{"cursor", usermgmt.AuditQuery{BeforeID: ids[3], Limit: 2}, []int64{ids[2], ids[1]}},
		{"cursor and actor", usermgmt.AuditQuery{BeforeID: ids[5], ActorUUID: bob}, []int64{ids[3], ids[1]}},
	}
	for _, tc := range tests {
		if g := got(tc.q); fmt.Sprint(g) != fmt.Sprint(tc.want) {
			t.Errorf("%s: got %v, want %v", tc.name, g, tc.want)
		}
	}
}

func testUserSearch(t *testing.T, st fullStore) {
	ctx := context.Background()
	var us []*usermgmt.User
	for n := 1; n <= 12; n++ {
		u := newUser(n)
		if n%3 == 0 {
			u.Username = fmt.Sprintf("zed_%03d", n)
			u.Email = fmt.Sprintf("Alpha%03d@example.com", n)
		}
		if n == 5 || n == 6 {
			u.CreatedAt = t0.Add(5 * time.Minute) // a tie: the UUID orders them
		}
		us = append(us, u)
	}
	mustInsertUsers(t, st, us...)
	names := func(q usermgmt.UserQuery) string {
		t.Helper()
		got, err := st.ListUsers(ctx, q)
		if err != nil {
			t.Fatalf("ListUsers(%+v): %v", q, err)
		}
		s := ""
		for _, u := range got {
			s += u.Username + " "
		}
		return s
	}
	tests := []struct {
		name string
		q    usermgmt.UserQuery
		want string
	}{
		{"username prefix", usermgmt.UserQuery{Search: "zed_"}, "zed_003 zed_006 zed_009 zed_012 "},
		{"email prefix, lower-cased in the store", usermgmt.UserQuery{Search: "alpha01"}, "zed_012 "},
		{"either", usermgmt.UserQuery{Search: "user01"}, "user_010 user_011 "},
		{"underscore is literal", usermgmt.UserQuery{Search: "user_01"}, "user_010 user_011 "},
		{"percent is literal", usermgmt.UserQuery{Search: "user%"}, ""},
		{"no match", usermgmt.UserQuery{Search: "zz"}, ""},
		{"first page", usermgmt.UserQuery{Limit: 3}, "user_001 user_002 zed_003 "},
		{"after a tie", usermgmt.UserQuery{Limit: 2, After: &usermgmt.UserCursor{CreatedAt: stored(us[4].CreatedAt), UUID: us[4].UUID}}, "zed_006 user_007 "},
		{"after, with a search", usermgmt.UserQuery{Search: "zed", After: &usermgmt.UserCursor{CreatedAt: stored(us[5].CreatedAt), UUID: us[5].UUID}}, "zed_009 zed_012 "},
	}
	for _, tc := range tests {
		if got := names(tc.q); got != tc.want {
			t.Errorf("%s: got %q, want %q", tc.name, got, tc.want)
		}
	}
	// Walking every page by cursor visits every user once, in order.
	var seen []string
	q := usermgmt.UserQuery{Limit: 5}
	for {
		page, err := st.ListUsers(ctx, q)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range page {
			seen = append(seen, u.UUID)
		}
		c := usermgmt.NextUserCursor(page, q.Limit)
		if c == nil {
			break
		}
		q.After = c
	}
	if len(seen) != len(us) {
		t.Fatalf("walked %d users, want %d", len(seen), len(us))
	}
}
