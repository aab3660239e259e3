package storetest

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

var auditCases = []testCase{
	{"AppendAndQuery", testAudit},
	{"DefaultAndMaxLimit", testAuditLimits},
}

func testAudit(t *testing.T, st fullStore) {
	ctx := context.Background()
	alice, bob := newUser(1).UUID, newUser(2).UUID // no users: entries need none
	entries := []*usermgmt.AuditEntry{
		{Time: t0, ActorUUID: alice, SubjectUUID: alice, Action: usermgmt.AuditRegister, Detail: "signed up", IP: "192.0.2.1"},
		{Time: t0.Add(time.Second), ActorUUID: "", SubjectUUID: bob, Action: usermgmt.AuditLoginFailed, IP: "192.0.2.2"},
		{Time: t0.Add(2 * time.Second), ActorUUID: alice, SubjectUUID: alice, Action: usermgmt.AuditLogin, Detail: "", IP: "2001:db8::1"},
		{Time: t0.Add(3 * time.Second), ActorUUID: alice, SubjectUUID: bob, Action: usermgmt.AuditBan, Detail: "spam"},
		{Time: t0.Add(4 * time.Second), ActorUUID: bob, SubjectUUID: bob, Action: usermgmt.AuditLogin},
		// The same time as the previous one: the ID orders them.
		{Time: t0.Add(4 * time.Second), ActorUUID: alice, SubjectUUID: alice, Action: usermgmt.AuditLogout},
	}
	var last int64
	for i, e := range entries {
		if err := st.AppendAudit(ctx, e); err != nil {
			t.Fatalf("AppendAudit #%d: %v", i, err)
		}
		if e.ID <= last {
			t.Fatalf("AppendAudit #%d set ID %d after %d; want increasing IDs", i, e.ID, last)
		}
		last = e.ID
	}

	tests := []struct {
		name string
		q    usermgmt.AuditQuery
		want []int // indexes into entries, newest first
	}{
		{"all", usermgmt.AuditQuery{}, []int{5, 4, 3, 2, 1, 0}},
		{"subject", usermgmt.AuditQuery{SubjectUUID: alice}, []int{5, 2, 0}},
		{"other subject", usermgmt.AuditQuery{SubjectUUID: bob}, []int{4, 3, 1}},
		{"action", usermgmt.AuditQuery{Actions: []string{usermgmt.AuditLogin}}, []int{4, 2}},
		{"actions", usermgmt.AuditQuery{Actions: []string{usermgmt.AuditLogin, usermgmt.AuditBan}}, []int{4, 3, 2}},
		{"subject and actions", usermgmt.AuditQuery{SubjectUUID: bob, Actions: []string{usermgmt.AuditLogin, usermgmt.AuditLoginFailed}}, []int{4, 1}},
		{"limit", usermgmt.AuditQuery{Limit: 2}, []int{5, 4}},
		{"subject and limit", usermgmt.AuditQuery{SubjectUUID: alice, Limit: 1}, []int{5}},
		{"unknown subject", usermgmt.AuditQuery{SubjectUUID: newUser(9).UUID}, nil},
		{"unknown action", usermgmt.AuditQuery{Actions: []string{"no-such-action"}}, nil},
	}
	for _, tt := range tests {
		got, err := st.Audit(ctx, tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if len(got) != len(tt.want) {
			t.Errorf("%s: %d entries, want %d", tt.name, len(got), len(tt.want))
			continue
		}
		for i, g := range got {
			checkAuditEntry(t, fmt.Sprintf("%s #%d", tt.name, i), g, entries[tt.want[i]])
		}
	}

	// Returned entries are fresh copies.
	got, err := st.Audit(ctx, usermgmt.AuditQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	got[0].Action = "mutated"
	again, err := st.Audit(ctx, usermgmt.AuditQuery{Limit: 1})
	if err != nil {
		t.Fatal(err)
	}
	checkAuditEntry(t, "after mutating a returned entry", again[0], entries[5])
}

func checkAuditEntry(t *testing.T, what string, got, want *usermgmt.AuditEntry) {
	t.Helper()
	checkUTC(t, what, got.Time)
	w := *want
	w.Time = stored(want.Time)
	if !got.Time.Equal(w.Time) || got.ID != w.ID || got.ActorUUID != w.ActorUUID || got.SubjectUUID != w.SubjectUUID ||
		got.Action != w.Action || got.Detail != w.Detail || got.IP != w.IP {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, &w)
	}
}

func testAuditLimits(t *testing.T, st fullStore) {
	ctx := context.Background()
	const n = 1005
	subject := newUser(1).UUID
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		for i := range n {
			e := &usermgmt.AuditEntry{Time: t0.Add(time.Duration(i) * time.Millisecond), SubjectUUID: subject, Action: usermgmt.AuditLogin}
			if err := tx.AppendAudit(ctx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    usermgmt.AuditQuery
		want int
	}{
		{usermgmt.AuditQuery{}, 50},
		{usermgmt.AuditQuery{SubjectUUID: subject}, 50},
		{usermgmt.AuditQuery{Limit: -1}, 50},
		{usermgmt.AuditQuery{Limit: 1000}, 1000},
		{usermgmt.AuditQuery{Limit: 100000}, 1000},
	}
	for _, tt := range tests {
		got, err := st.Audit(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("Audit(%+v) returned %d entries, want %d", tt.q, len(got), tt.want)
		}
		if !slices.IsSortedFunc(got, func(a, b *usermgmt.AuditEntry) int { return int(b.ID - a.ID) }) {
			t.Errorf("Audit(%+v) is not newest first", tt.q)
		}
		if len(got) > 0 && !got[0].Time.Equal(stored(t0.Add((n-1)*time.Millisecond))) {
			t.Errorf("Audit(%+v) starts at %v, want the newest entry", tt.q, got[0].Time)
		}
	}
}
