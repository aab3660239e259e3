package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/org/orgstore"
)

// The organizations feature's capability (orgstore.Store).
var orgCases = []testCase{
	{"RoundTrip", testOrgRoundTrip},
	{"Unique", testOrgUnique},
	{"Update", testOrgUpdate},
	{"Delete", testOrgDelete},
	{"Search", testOrgSearch},
	{"Members", testOrgMembers},
	{"MembersPaging", testOrgMembersPaging},
	{"UserCascade", testOrgUserCascade},
	{"Invitations", testOrgInvitations},
	{"ActiveSessions", testOrgActiveSessions},
	{"TouchUsers", testOrgTouchUsers},
	{"InTx", testOrgInTx},
	{"DemoteRace", testOrgDemoteRace},
	{"LeaveRace", testOrgLeaveRace},
	{"AcceptRace", testOrgAcceptRace},
}

func newOrg(n int) *orgstore.Organization {
	o := &orgstore.Organization{
		ID: fmt.Sprintf("10000000-0000-4000-8000-%012d", n), Name: fmt.Sprintf("Org Nº %d", n),
		Slug: fmt.Sprintf("org-%03d", n), CreatedAt: t0.Add(time.Duration(n) * time.Hour),
	}
	o.UpdatedAt = o.CreatedAt.Add(time.Second)
	if n%2 == 1 {
		o.Metadata = []byte(`{"plan":"team","seats":5}`)
	}
	return o
}

func wantOrg(o *orgstore.Organization) *orgstore.Organization {
	w := *o
	w.CreatedAt, w.UpdatedAt = stored(o.CreatedAt), stored(o.UpdatedAt)
	return &w
}

func checkOrg(t *testing.T, what string, got, want *orgstore.Organization) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil organization", what)
	}
	checkUTC(t, what+" CreatedAt", got.CreatedAt)
	checkUTC(t, what+" UpdatedAt", got.UpdatedAt)
	if w := wantOrg(want); !reflect.DeepEqual(got, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, w)
	}
}

func newMember(o *orgstore.Organization, u *usermgmt.User, role string) *orgstore.Membership {
	return &orgstore.Membership{OrgID: o.ID, UserUUID: u.UUID, Role: role, JoinedAt: u.CreatedAt.Add(time.Hour)}
}

func checkMember(t *testing.T, what string, got, want *orgstore.Membership) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil membership", what)
	}
	checkUTC(t, what+" JoinedAt", got.JoinedAt)
	w := *want
	w.JoinedAt = stored(want.JoinedAt)
	if !reflect.DeepEqual(got, &w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, &w)
	}
}

func mustInsertOrgs(t *testing.T, st orgstore.Store, os ...*orgstore.Organization) {
	t.Helper()
	for _, o := range os {
		if err := st.InsertOrganization(context.Background(), o); err != nil {
			t.Fatalf("InsertOrganization(%s): %v", o.Slug, err)
		}
	}
}

func mustInsertMembers(t *testing.T, st orgstore.Store, ms ...*orgstore.Membership) {
	t.Helper()
	for _, m := range ms {
		if err := st.InsertMembership(context.Background(), m); err != nil {
			t.Fatalf("InsertMembership(%s, %s): %v", m.OrgID, m.UserUUID, err)
		}
	}
}

func countMembers(t *testing.T, st orgstore.Store, orgID, role string) int {
	t.Helper()
	n, err := st.CountMembers(context.Background(), orgID, role)
	if err != nil {
		t.Fatalf("CountMembers(%s, %q): %v", orgID, role, err)
	}
	return n
}

func testOrgRoundTrip(t *testing.T, st fullStore) {
	ctx := context.Background()
	o1, o2 := newOrg(1), newOrg(2)
	mustInsertOrgs(t, st, o1, o2)
	for _, o := range []*orgstore.Organization{o1, o2} {
		got, err := st.OrganizationByID(ctx, o.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkOrg(t, "OrganizationByID", got, o)
	}
	if got := must(st.OrganizationByID(ctx, o2.ID)); got.Metadata != nil {
		t.Errorf("Metadata of an organization without = %q, want nil", got.Metadata)
	}
	_, err := st.OrganizationByID(ctx, newOrg(9).ID)
	checkNotFound(t, "OrganizationByID(unknown)", err)
	_, err = st.LockOrganization(ctx, newOrg(9).ID)
	checkNotFound(t, "LockOrganization(unknown)", err)
}

// must returns v, ignoring err: the cases that call it check the call
// before.
func must[T any](v T, _ error) T { return v }

func testOrgUnique(t *testing.T, st fullStore) {
	ctx := context.Background()
	mustInsertOrgs(t, st, newOrg(1))
	sameSlug := newOrg(2)
	sameSlug.Slug = newOrg(1).Slug
	if err := st.InsertOrganization(ctx, sameSlug); !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("InsertOrganization(same slug) = %v, want ErrConflict", err)
	}
	sameID := newOrg(3)
	sameID.ID = newOrg(1).ID
	if err := st.InsertOrganization(ctx, sameID); !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("InsertOrganization(same ID) = %v, want ErrConflict", err)
	}
	a := newUser(1)
	mustInsertUsers(t, st, a)
	mustInsertMembers(t, st, newMember(newOrg(1), a, "owner"))
	if err := st.InsertMembership(ctx, newMember(newOrg(1), a, "member")); !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("InsertMembership(twice) = %v, want ErrConflict", err)
	}
	if err := st.InsertMembership(ctx, newMember(newOrg(8), a, "member")); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("InsertMembership(unknown organization) = %v, want ErrNotFound", err)
	}
	if err := st.InsertMembership(ctx, newMember(newOrg(1), newUser(8), "member")); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("InsertMembership(unknown user) = %v, want ErrNotFound", err)
	}
}

func testOrgUpdate(t *testing.T, st fullStore) {
	ctx := context.Background()
	o1, o2 := newOrg(1), newOrg(2)
	mustInsertOrgs(t, st, o1, o2)
	o1.Name, o1.Slug, o1.Metadata, o1.UpdatedAt = "Renamed", "renamed", []byte(`{"a":1}`), t0.Add(99*time.Hour)
	if err := st.UpdateOrganization(ctx, o1); err != nil {
		t.Fatal(err)
	}
	checkOrg(t, "after UpdateOrganization", must(st.OrganizationByID(ctx, o1.ID)), o1)
	o2.Slug = "renamed"
	if err := st.UpdateOrganization(ctx, o2); !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("UpdateOrganization(taken slug) = %v, want ErrConflict", err)
	}
	checkOrg(t, "after a refused update", must(st.OrganizationByID(ctx, o2.ID)), newOrg(2))
	checkNotFound(t, "UpdateOrganization(unknown)", st.UpdateOrganization(ctx, newOrg(9)))
	o1.Metadata = nil
	if err := st.UpdateOrganization(ctx, o1); err != nil {
		t.Fatal(err)
	}
	checkOrg(t, "metadata removed", must(st.OrganizationByID(ctx, o1.ID)), o1)
}

func testOrgDelete(t *testing.T, st fullStore) {
	ctx := context.Background()
	o1, o2 := newOrg(1), newOrg(2)
	a := newUser(1)
	mustInsertUsers(t, st, a)
	mustInsertOrgs(t, st, o1, o2)
	mustInsertMembers(t, st, newMember(o1, a, "owner"), newMember(o2, a, "owner"))
	inv := newInvitation(o1, a, 1)
	if err := st.InsertInvitation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteOrganization(ctx, o1.ID); err != nil {
		t.Fatal(err)
	}
	_, err := st.OrganizationByID(ctx, o1.ID)
	checkNotFound(t, "OrganizationByID(deleted)", err)
	_, err = st.Membership(ctx, o1.ID, a.UUID)
	checkNotFound(t, "Membership(deleted organization)", err)
	_, err = st.InvitationByHash(ctx, inv.Hash)
	checkNotFound(t, "InvitationByHash(deleted organization)", err)
	if ms, err := st.MembershipsByUser(ctx, a.UUID); err != nil || len(ms) != 1 || ms[0].Organization.ID != o2.ID {
		t.Errorf("MembershipsByUser after a deletion = %v, %v; want o2 only", ms, err)
	}
	checkNotFound(t, "DeleteOrganization(again)", st.DeleteOrganization(ctx, o1.ID))
}

func testOrgSearch(t *testing.T, st fullStore) {
	ctx := context.Background()
	var all []*orgstore.Organization
	for n := 1; n <= 5; n++ {
		all = append(all, newOrg(n))
	}
	all[2].Name = "The ACME Corp"
	mustInsertOrgs(t, st, all...)
	page, err := st.SearchOrganizations(ctx, "", "", 2)
	if err != nil || len(page) != 2 {
		t.Fatalf("SearchOrganizations(page 1) = %v, %v", page, err)
	}
	checkOrg(t, "page 1 [0]", page[0], all[0])
	checkOrg(t, "page 1 [1]", page[1], all[1])
	page, err = st.SearchOrganizations(ctx, "", page[1].Slug, 10)
	if err != nil || len(page) != 3 || page[0].ID != all[2].ID {
		t.Fatalf("SearchOrganizations(page 2) = %v, %v; want orgs 3 to 5", page, err)
	}
	for _, q := range []string{"acme", "ACME", "org-003"} {
		found, err := st.SearchOrganizations(ctx, q, "", 10)
		if err != nil || len(found) != 1 || found[0].ID != all[2].ID {
			t.Errorf("SearchOrganizations(%q) = %v, %v; want org 3 only", q, found, err)
		}
	}
	for _, q := range []string{"%", "_", "nothing"} {
		if found, err := st.SearchOrganizations(ctx, q, "", 10); err != nil || len(found) != 0 {
			t.Errorf("SearchOrganizations(%q) = %v, %v; want none", q, found, err)
		}
	}
}

func testOrgMembers(t *testing.T, st fullStore) {
	ctx := context.Background()
	o1, o2 := newOrg(1), newOrg(2)
	a, b, c := newUser(1), newUser(2), newUser(3)
	mustInsertUsers(t, st, a, b, c)
	mustInsertOrgs(t, st, o2, o1)
	ma := newMember(o1, a, "owner")
	mustInsertMembers(t, st, ma, newMember(o1, b, "admin"), newMember(o1, c, "member"), newMember(o2, a, "member"))
	got, err := st.Membership(ctx, o1.ID, a.UUID)
	if err != nil {
		t.Fatal(err)
	}
	checkMember(t, "Membership", got, ma)
	_, err = st.Membership(ctx, o2.ID, b.UUID)
	checkNotFound(t, "Membership(not a member)", err)
	for role, want := range map[string]int{"": 3, "owner": 1, "admin": 1, "member": 1, "billing": 0} {
		if n := countMembers(t, st, o1.ID, role); n != want {
			t.Errorf("CountMembers(o1, %q) = %d, want %d", role, n, want)
		}
	}
	if err := st.SetMemberRole(ctx, o1.ID, c.UUID, "owner"); err != nil {
		t.Fatal(err)
	}
	if n := countMembers(t, st, o1.ID, "owner"); n != 2 {
		t.Errorf("owners after SetMemberRole = %d, want 2", n)
	}
	checkNotFound(t, "SetMemberRole(not a member)", st.SetMemberRole(ctx, o2.ID, c.UUID, "owner"))
	mine, err := st.MembershipsByUser(ctx, a.UUID)
	if err != nil || len(mine) != 2 {
		t.Fatalf("MembershipsByUser(a) = %v, %v", mine, err)
	}
	checkOrg(t, "MembershipsByUser[0] (by slug)", mine[0].Organization, o1)
	checkMember(t, "MembershipsByUser[0] membership", mine[0].Membership, ma)
	checkOrg(t, "MembershipsByUser[1]", mine[1].Organization, o2)
	if none, err := st.MembershipsByUser(ctx, newUser(9).UUID); err != nil || none == nil || len(none) != 0 {
		t.Errorf("MembershipsByUser(none) = %#v, %v; want an empty slice", none, err)
	}
	if err := st.DeleteMembership(ctx, o1.ID, b.UUID); err != nil {
		t.Fatal(err)
	}
	checkNotFound(t, "DeleteMembership(again)", st.DeleteMembership(ctx, o1.ID, b.UUID))
	if n := countMembers(t, st, o1.ID, ""); n != 2 {
		t.Errorf("members after DeleteMembership = %d, want 2", n)
	}
}

func testOrgMembersPaging(t *testing.T, st fullStore) {
	ctx := context.Background()
	o := newOrg(1)
	mustInsertOrgs(t, st, o)
	const n = 7
	for i := n; i >= 1; i-- {
		u := newUser(i)
		mustInsertUsers(t, st, u)
		mustInsertMembers(t, st, newMember(o, u, "member"))
	}
	var seen []string
	after := ""
	for range n {
		page, err := st.Members(ctx, o.ID, after, 3)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		if len(page) > 3 {
			t.Fatalf("Members page of %d, want at most 3", len(page))
		}
		for _, m := range page {
			seen = append(seen, m.UserUUID)
		}
		after = page[len(page)-1].UserUUID
	}
	if len(seen) != n {
		t.Fatalf("paged %d members, want %d: %v", len(seen), n, seen)
	}
	for i, id := range seen {
		if id != newUser(i+1).UUID {
			t.Errorf("member %d = %s, want %s (UUID order)", i, id, newUser(i+1).UUID)
		}
	}
	if page, err := st.Members(ctx, newOrg(2).ID, "", 3); err != nil || len(page) != 0 {
		t.Errorf("Members(unknown organization) = %v, %v; want none", page, err)
	}
}

// testOrgUserCascade: a deleted user's memberships go with the row.
func testOrgUserCascade(t *testing.T, st fullStore) {
	ctx := context.Background()
	o := newOrg(1)
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	mustInsertOrgs(t, st, o)
	mustInsertMembers(t, st, newMember(o, a, "owner"), newMember(o, b, "owner"))
	if err := st.DeleteUser(ctx, b.UUID); err != nil {
		t.Fatal(err)
	}
	_, err := st.Membership(ctx, o.ID, b.UUID)
	checkNotFound(t, "Membership(deleted user)", err)
	if n := countMembers(t, st, o.ID, ""); n != 1 {
		t.Errorf("members after the user's deletion = %d, want 1", n)
	}
}

func newInvitation(o *orgstore.Organization, by *usermgmt.User, n int) *orgstore.Invitation {
	at := t0.Add(time.Duration(n) * time.Minute)
	return &orgstore.Invitation{
		ID: fmt.Sprintf("inv-%03d", n), OrgID: o.ID, Email: fmt.Sprintf("guest%d@example.com", n), Role: "member",
		Hash: []byte{1, 2, byte(n), 0, 255}, InvitedBy: by.UUID, CreatedAt: at, ExpiresAt: at.Add(7 * 24 * time.Hour),
	}
}

func checkInvitation(t *testing.T, what string, got, want *orgstore.Invitation) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil invitation", what)
	}
	checkUTC(t, what+" CreatedAt", got.CreatedAt)
	checkUTC(t, what+" ExpiresAt", got.ExpiresAt)
	w := *want
	w.CreatedAt, w.ExpiresAt = stored(want.CreatedAt), stored(want.ExpiresAt)
	if !reflect.DeepEqual(got, &w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, &w)
	}
}

func testOrgInvitations(t *testing.T, st fullStore) {
	ctx := context.Background()
	o1, o2 := newOrg(1), newOrg(2)
	a := newUser(1)
	mustInsertUsers(t, st, a)
	mustInsertOrgs(t, st, o1, o2)
	i1, i2, i3 := newInvitation(o1, a, 2), newInvitation(o1, a, 1), newInvitation(o2, a, 3)
	for _, inv := range []*orgstore.Invitation{i1, i2, i3} {
		if err := st.InsertInvitation(ctx, inv); err != nil {
			t.Fatal(err)
		}
	}
	got, err := st.InvitationByHash(ctx, i1.Hash)
	if err != nil {
		t.Fatal(err)
	}
	checkInvitation(t, "InvitationByHash", got, i1)
	_, err = st.InvitationByHash(ctx, []byte("nothing"))
	checkNotFound(t, "InvitationByHash(unknown)", err)
	list, err := st.InvitationsByOrg(ctx, o1.ID)
	if err != nil || len(list) != 2 {
		t.Fatalf("InvitationsByOrg = %v, %v", list, err)
	}
	checkInvitation(t, "InvitationsByOrg[0] (oldest)", list[0], i2)
	checkInvitation(t, "InvitationsByOrg[1]", list[1], i1)
	if none, err := st.InvitationsByOrg(ctx, newOrg(9).ID); err != nil || none == nil || len(none) != 0 {
		t.Errorf("InvitationsByOrg(none) = %#v, %v; want an empty slice", none, err)
	}
	sameHash := newInvitation(o1, a, 4)
	sameHash.Hash = i1.Hash
	if err := st.InsertInvitation(ctx, sameHash); !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("InsertInvitation(same hash) = %v, want ErrConflict", err)
	}
	if err := st.InsertInvitation(ctx, newInvitation(newOrg(9), a, 5)); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("InsertInvitation(unknown organization) = %v, want ErrNotFound", err)
	}
	checkNotFound(t, "DeleteInvitation(another organization's)", st.DeleteInvitation(ctx, o2.ID, i1.ID))
	if err := st.DeleteInvitation(ctx, o1.ID, i1.ID); err != nil {
		t.Fatal(err)
	}
	checkNotFound(t, "DeleteInvitation(again)", st.DeleteInvitation(ctx, o1.ID, i1.ID))
}

func testOrgInTx(t *testing.T, st fullStore) {
	ctx := context.Background()
	o := newOrg(1)
	a := newUser(1)
	mustInsertUsers(t, st, a)
	boom := errors.New("boom")
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ot := tx.(orgstore.Store)
		if err := ot.InsertOrganization(ctx, o); err != nil {
			return err
		}
		if err := ot.InsertMembership(ctx, newMember(o, a, "owner")); err != nil {
			return err
		}
		if _, err := ot.LockOrganization(ctx, o.ID); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	_, err = st.OrganizationByID(ctx, o.ID)
	checkNotFound(t, "OrganizationByID(rolled back)", err)
	if ms, err := st.MembershipsByUser(ctx, a.UUID); err != nil || len(ms) != 0 {
		t.Errorf("MembershipsByUser after a rollback = %v, %v; want none", ms, err)
	}
}

// errLastOwner is the refusal of the race cases' last-owner check.
var errLastOwner = errors.New("the last owner")

// ownerChange is the last-owner rule as the org feature applies it: lock
// the organization, check that the actor is an owner and that another
// owner remains, then change: the store's lock must make two such
// changes at once see each other.
func ownerChange(ctx context.Context, st fullStore, orgID, actor string, change func(orgstore.Store) error) error {
	return st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ot := tx.(orgstore.Store)
		if _, err := ot.LockOrganization(ctx, orgID); err != nil {
			return err
		}
		m, err := ot.Membership(ctx, orgID, actor)
		if err != nil {
			return err
		}
		if m.Role != "owner" {
			return errLastOwner
		}
		n, err := ot.CountMembers(ctx, orgID, "owner")
		if err != nil {
			return err
		}
		if n <= 1 {
			return errLastOwner
		}
		return change(ot)
	})
}

// raceOwners runs, rounds times, two owners' changes at once: exactly one
// must win each time, and one owner remain.
func raceOwners(t *testing.T, st fullStore, change func(o *orgstore.Organization, actor, other *usermgmt.User) func(orgstore.Store) error) {
	ctx := context.Background()
	const rounds = 5
	for r := range rounds {
		o := newOrg(r + 1)
		a, b := newUser(2*r+1), newUser(2*r+2)
		mustInsertUsers(t, st, a, b)
		mustInsertOrgs(t, st, o)
		mustInsertMembers(t, st, newMember(o, a, "owner"), newMember(o, b, "owner"))
		errs := make(chan error, 2)
		start := make(chan struct{})
		for _, p := range [][2]*usermgmt.User{{a, b}, {b, a}} {
			go func() {
				<-start
				errs <- ownerChange(ctx, st, o.ID, p[0].UUID, change(o, p[0], p[1]))
			}()
		}
		close(start)
		wins := 0
		for range 2 {
			switch err := <-errs; {
			case err == nil:
				wins++
			case !errors.Is(err, errLastOwner):
				t.Errorf("round %d: %v", r, err)
			}
		}
		if wins != 1 {
			t.Errorf("round %d: %d of 2 changes won, want exactly 1", r, wins)
		}
		if n := countMembers(t, st, o.ID, "owner"); n != 1 {
			t.Errorf("round %d: %d owners after the race, want 1", r, n)
		}
	}
}

// testOrgDemoteRace: two owners demoting each other at once.
func testOrgDemoteRace(t *testing.T, st fullStore) {
	raceOwners(t, st, func(o *orgstore.Organization, _, other *usermgmt.User) func(orgstore.Store) error {
		return func(ot orgstore.Store) error {
			return ot.SetMemberRole(context.Background(), o.ID, other.UUID, "admin")
		}
	})
}

// testOrgLeaveRace: the last two owners leaving at once.
func testOrgLeaveRace(t *testing.T, st fullStore) {
	raceOwners(t, st, func(o *orgstore.Organization, actor, _ *usermgmt.User) func(orgstore.Store) error {
		return func(ot orgstore.Store) error { return ot.DeleteMembership(context.Background(), o.ID, actor.UUID) }
	})
}

// testOrgAcceptRace: an invitation accepted twice at once joins once.
func testOrgAcceptRace(t *testing.T, st fullStore) {
	ctx := context.Background()
	o := newOrg(1)
	a, g := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, g)
	mustInsertOrgs(t, st, o)
	inv := newInvitation(o, a, 1)
	if err := st.InsertInvitation(ctx, inv); err != nil {
		t.Fatal(err)
	}
	wins := parallelWins(t, 4, "accept", func() error {
		return st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
			ot := tx.(orgstore.Store)
			if err := ot.DeleteInvitation(ctx, o.ID, inv.ID); err != nil {
				return err
			}
			return ot.InsertMembership(ctx, newMember(o, g, inv.Role))
		})
	})
	if wins != 1 {
		t.Errorf("%d of 4 accepts won, want 1", wins)
	}
	if n := countMembers(t, st, o.ID, ""); n != 1 {
		t.Errorf("%d members after the accepts, want 1", n)
	}
}
