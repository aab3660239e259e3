package storetest

import (
	"context"
	"testing"
	"time"
)

// testOrgActiveSessions: a session's active organization is set, replaced
// and cleared, and goes with its organization and with its session (the
// user's deletion); an unknown organization is an error.
func testOrgActiveSessions(t *testing.T, st fullStore) {
	ctx := context.Background()
	o1, o2 := newOrg(1), newOrg(2)
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	mustInsertOrgs(t, st, o1, o2)
	mustInsertSessions(t, st, newSession("sess-a", a.UUID, 0), newSession("sess-b", b.UUID, 1))
	active := func(sid, want string) {
		t.Helper()
		got, err := st.ActiveOrganization(ctx, sid)
		if err != nil || got != want {
			t.Errorf("ActiveOrganization(%s) = %q, %v; want %q", sid, got, err, want)
		}
	}
	active("sess-a", "")
	active("no-such-session", "")
	if err := st.SetActiveOrganization(ctx, "sess-a", o1.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.SetActiveOrganization(ctx, "sess-b", o1.ID, t0); err != nil {
		t.Fatal(err)
	}
	active("sess-a", o1.ID)
	if err := st.SetActiveOrganization(ctx, "sess-a", o2.ID, t0.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	active("sess-a", o2.ID)
	if err := st.SetActiveOrganization(ctx, "sess-a", "", t0); err != nil {
		t.Fatal(err)
	}
	active("sess-a", "")
	if err := st.SetActiveOrganization(ctx, "sess-a", "", t0); err != nil {
		t.Errorf("clearing twice: %v", err)
	}
	if err := st.SetActiveOrganization(ctx, "sess-a", "00000000-0000-4000-8000-00000000ffff", t0); err == nil {
		t.Error("SetActiveOrganization(unknown organization) = nil")
	}
	if err := st.SetActiveOrganization(ctx, "sess-a", o2.ID, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteOrganization(ctx, o1.ID); err != nil {
		t.Fatal(err)
	}
	active("sess-b", "") // with its organization
	active("sess-a", o2.ID)
	if err := st.DeleteUser(ctx, a.UUID); err != nil {
		t.Fatal(err)
	}
	active("sess-a", "") // with its session
}

// testOrgTouchUsers: TouchUsers sets the users' updated_at (skipping
// unknown UUIDs), TouchOrganizationMembers that of every member and
// returns them in UUID order.
func testOrgTouchUsers(t *testing.T, st fullStore) {
	ctx := context.Background()
	o := newOrg(1)
	a, b, c := newUser(1), newUser(2), newUser(3)
	mustInsertUsers(t, st, a, b, c)
	mustInsertOrgs(t, st, o)
	mustInsertMembers(t, st, newMember(o, a, "owner"), newMember(o, b, "member"))
	updated := func(uuid string) time.Time {
		t.Helper()
		u, err := st.UserByUUID(ctx, uuid)
		if err != nil {
			t.Fatal(err)
		}
		return u.UpdatedAt
	}
	before := updated(c.UUID)
	at := t0.Add(48 * time.Hour).Truncate(time.Microsecond) // as stored
	if err := st.TouchUsers(ctx, at, c.UUID, "00000000-0000-4000-8000-00000000ffff"); err != nil {
		t.Fatal(err)
	}
	if got := updated(c.UUID); !got.Equal(at) || got.Equal(before) {
		t.Errorf("updated_at after TouchUsers = %v, want %v", got, at)
	}
	if err := st.TouchUsers(ctx, at); err != nil {
		t.Errorf("TouchUsers() = %v", err)
	}
	later := at.Add(time.Hour)
	got, err := st.TouchOrganizationMembers(ctx, o.ID, later)
	if err != nil {
		t.Fatal(err)
	}
	want := sortedPairOf(a.UUID, b.UUID)
	if len(got) != 2 || got[0] != want[0] || got[1] != want[1] {
		t.Errorf("TouchOrganizationMembers = %v, want %v", got, want)
	}
	for _, u := range []string{a.UUID, b.UUID} {
		if !updated(u).Equal(later) {
			t.Errorf("member %s updated_at = %v, want %v", u, updated(u), later)
		}
	}
	if !updated(c.UUID).Equal(at) {
		t.Errorf("a non-member was touched: %v", updated(c.UUID))
	}
}

func sortedPairOf(a, b string) []string {
	if b < a {
		return []string{b, a}
	}
	return []string{a, b}
}
