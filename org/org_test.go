package org_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/org"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// databases are the stores every test runs on: a DSN per test.
var databases = []struct {
	name string
	dsn  func(t testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return "sqlite://" + t.TempDir() + "/orgs.db" }},
	{"postgres", func(t testing.TB) string { return testpg.DSN(t) }},
}

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

type env struct {
	t    testing.TB
	m    *usermgmt.Manager
	orgs *org.Orgs
	n    int
}

func newEnv(t testing.TB, dsn string, cfg org.Config, opts ...usermgmt.Option) *env {
	t.Helper()
	return newEnvClock(t, dsn, cfg, nil, opts...)
}

// newEnvClock is newEnv with the Manager's clock (nil: time.Now).
func newEnvClock(t testing.TB, dsn string, cfg org.Config, clock func() time.Time, opts ...usermgmt.Option) *env {
	t.Helper()
	st, err := anydb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	orgs := org.New(cfg)
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"),
		BcryptCost: 4, Logger: quiet, Clock: clock, AccountSecurity: usermgmt.AccountSecurity{FrontendURL: "https://app.example.com"}}, append([]usermgmt.Option{usermgmt.WithFeature(orgs)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return &env{t: t, m: m, orgs: orgs}
}

func (e *env) user(roles ...string) *usermgmt.User {
	e.t.Helper()
	return e.userVerified(false, roles...)
}

func (e *env) userVerified(verified bool, roles ...string) *usermgmt.User {
	e.t.Helper()
	e.n++
	u, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: fmt.Sprintf("person_%d", e.n),
		Email: fmt.Sprintf("person%d@example.com", e.n), Password: "Correct-Horse-42", Roles: roles, EmailVerified: verified})
	if err != nil {
		e.t.Fatal(err)
	}
	return u
}

func (e *env) create(owner *usermgmt.User, slug string) *org.Organization {
	e.t.Helper()
	o, err := e.orgs.Create(context.Background(), owner, org.NewOrganization{Name: "Org " + slug, Slug: slug})
	if err != nil {
		e.t.Fatalf("Create(%s): %v", slug, err)
	}
	return o
}

// join makes u a member of o with role, added by owner.
func (e *env) join(owner *usermgmt.User, o *org.Organization, u *usermgmt.User, role string) {
	e.t.Helper()
	if err := e.orgs.AddMember(context.Background(), owner, o.ID, u.UUID, role); err != nil {
		e.t.Fatalf("AddMember(%s, %s): %v", o.Slug, role, err)
	}
}

func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Errorf("%s = %v, want %v", what, err, want)
	}
}

func forEachDB(t *testing.T, fn func(t *testing.T, e *env)) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) { fn(t, newEnv(t, db.dsn(t), org.Config{})) })
	}
}

func TestCreateRules(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a, b := e.user(), e.user()
		o := e.create(a, "acme")
		if o.Role != org.RoleOwner || o.ID == "" || usermgmt.ValidateUUID(o.ID) != nil {
			t.Errorf("Create = %+v, want the creator as owner and a UUID", o)
		}
		for _, slug := range []string{"ab", "Acme-2", "-acme", "acme-", "ac me", "acmé", strings.Repeat("a", 49), ""} {
			_, err := e.orgs.Create(ctx, a, org.NewOrganization{Name: "x", Slug: slug})
			wantErr(t, fmt.Sprintf("Create(slug %q)", slug), err, org.ErrInvalidSlug)
		}
		for _, name := range []string{"", "  ", strings.Repeat("n", 65), "a\x00b"} {
			_, err := e.orgs.Create(ctx, a, org.NewOrganization{Name: name, Slug: "fine"})
			wantErr(t, fmt.Sprintf("Create(name %q)", name), err, org.ErrInvalidName)
		}
		for _, meta := range []string{`[1]`, `"s"`, `{"a":`, `{"a":"` + strings.Repeat("x", 4096) + `"}`} {
			_, err := e.orgs.Create(ctx, a, org.NewOrganization{Name: "x", Slug: "fine", Metadata: json.RawMessage(meta)})
			wantErr(t, "Create(metadata "+meta[:min(len(meta), 10)]+")", err, org.ErrInvalidMetadata)
		}
		_, err := e.orgs.Create(ctx, b, org.NewOrganization{Name: "Other", Slug: "acme"})
		wantErr(t, "Create(slug taken)", err, org.ErrSlugTaken)
		withMeta, err := e.orgs.Create(ctx, b, org.NewOrganization{Name: " Beta ", Slug: "beta-2", Metadata: json.RawMessage(`{ "plan" : "team" }`)})
		if err != nil || withMeta.Name != "Beta" || string(withMeta.Metadata) != `{"plan":"team"}` {
			t.Errorf("Create(metadata) = %+v, %v", withMeta, err)
		}
		mine, err := e.orgs.Mine(ctx, b)
		if err != nil || len(mine) != 1 || mine[0].Slug != "beta-2" || mine[0].Role != org.RoleOwner {
			t.Errorf("Mine(b) = %+v, %v", mine, err)
		}
		_, err = e.orgs.Get(ctx, b, o.ID)
		wantErr(t, "Get(not a member)", err, org.ErrNotFound)
		_, err = e.orgs.Get(ctx, b, "not-a-uuid")
		wantErr(t, "Get(not a UUID)", err, org.ErrNotFound)
		admin := e.user(usermgmt.RoleAdmin)
		if got, err := e.orgs.Get(ctx, admin, o.ID); err != nil || got.Role != "" {
			t.Errorf("Get(global admin) = %+v, %v", got, err)
		}
		_, err = e.orgs.Update(ctx, b, withMeta.ID, org.Patch{Slug: ptr("acme")})
		wantErr(t, "Update(slug taken)", err, org.ErrSlugTaken)
	})
}

func ptr[T any](v T) *T { return &v }

func TestLimits(t *testing.T) {
	e := newEnv(t, "sqlite://"+t.TempDir()+"/orgs.db", org.Config{MaxOrganizationsPerUser: 2, MaxMembersPerOrganization: 2})
	ctx := context.Background()
	a, b, c := e.user(), e.user(), e.user()
	o := e.create(a, "one")
	e.create(a, "two")
	_, err := e.orgs.Create(ctx, a, org.NewOrganization{Name: "Three", Slug: "three"})
	wantErr(t, "Create(beyond MaxOrganizationsPerUser)", err, org.ErrTooManyOrgs)
	e.join(a, o, b, org.RoleMember)
	wantErr(t, "AddMember(beyond MaxMembersPerOrganization)", e.orgs.AddMember(ctx, a, o.ID, c.UUID, org.RoleMember), org.ErrTooManyMembers)
	wantErr(t, "AddMember(twice)", e.orgs.AddMember(ctx, a, o.ID, b.UUID, org.RoleMember), org.ErrAlreadyMember)
}

func TestRoles(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		owner, adm, mem, out := e.user(), e.user(), e.user(), e.user()
		o := e.create(owner, "team")
		e.join(owner, o, adm, org.RoleAdmin)
		e.join(owner, o, mem, org.RoleMember)

		_, err := e.orgs.SetRole(ctx, owner, o.ID, owner.UUID, org.RoleAdmin)
		wantErr(t, "SetRole(the last owner demotes themself)", err, org.ErrLastOwner)
		wantErr(t, "RemoveMember(the last owner leaves)", e.orgs.RemoveMember(ctx, owner, o.ID, owner.UUID), org.ErrLastOwner)
		_, err = e.orgs.SetRole(ctx, adm, o.ID, mem.UUID, org.RoleOwner)
		wantErr(t, "SetRole(an admin makes an owner)", err, usermgmt.ErrForbidden)
		_, err = e.orgs.SetRole(ctx, adm, o.ID, owner.UUID, org.RoleMember)
		wantErr(t, "SetRole(an admin demotes the owner)", err, usermgmt.ErrForbidden)
		wantErr(t, "RemoveMember(an admin removes the owner)", e.orgs.RemoveMember(ctx, adm, o.ID, owner.UUID), usermgmt.ErrForbidden)
		_, err = e.orgs.SetRole(ctx, mem, o.ID, adm.UUID, org.RoleMember)
		wantErr(t, "SetRole(by a member)", err, usermgmt.ErrForbidden)
		_, err = e.orgs.SetRole(ctx, owner, o.ID, mem.UUID, "emperor")
		wantErr(t, "SetRole(unknown role)", err, org.ErrInvalidRole)
		_, err = e.orgs.SetRole(ctx, owner, o.ID, out.UUID, org.RoleAdmin)
		wantErr(t, "SetRole(not a member)", err, org.ErrMemberNotFound)
		_, err = e.orgs.SetRole(ctx, out, o.ID, mem.UUID, org.RoleAdmin)
		wantErr(t, "SetRole(by an outsider)", err, org.ErrNotFound)
		_, err = e.orgs.Update(ctx, mem, o.ID, org.Patch{Name: ptr("Mine now")})
		wantErr(t, "Update(by a member)", err, usermgmt.ErrForbidden)
		if u, err := e.orgs.Update(ctx, adm, o.ID, org.Patch{Name: ptr("Renamed")}); err != nil || u.Name != "Renamed" {
			t.Errorf("Update(by an admin) = %+v, %v", u, err)
		}
		wantErr(t, "Delete(by an admin)", e.orgs.Delete(ctx, adm, o.ID), usermgmt.ErrForbidden)

		_, err = e.orgs.Transfer(ctx, adm, o.ID, mem.UUID)
		wantErr(t, "Transfer(by an admin)", err, usermgmt.ErrForbidden)
		_, err = e.orgs.Transfer(ctx, owner, o.ID, owner.UUID)
		wantErr(t, "Transfer(to themself)", err, org.ErrTransferToSelf)
		if m, err := e.orgs.Transfer(ctx, owner, o.ID, mem.UUID); err != nil || m.Role != org.RoleOwner {
			t.Fatalf("Transfer = %+v, %v", m, err)
		}
		if got, _ := e.orgs.Get(ctx, owner, o.ID); got.Role != org.RoleAdmin {
			t.Errorf("the former owner's role = %q, want admin", got.Role)
		}
		if err := e.orgs.RemoveMember(ctx, owner, o.ID, owner.UUID); err != nil {
			t.Errorf("RemoveMember(the former owner leaves) = %v", err)
		}
		if err := e.orgs.RemoveMember(ctx, mem, o.ID, adm.UUID); err != nil {
			t.Errorf("RemoveMember(the owner removes an admin) = %v", err)
		}
		ms, next, err := e.orgs.Members(ctx, mem, o.ID, "", 0)
		if err != nil || len(ms) != 1 || ms[0].UUID != mem.UUID || next != "" {
			t.Errorf("Members = %+v, %q, %v; want the new owner alone", ms, next, err)
		}
		if err := e.orgs.Delete(ctx, mem, o.ID); err != nil {
			t.Fatalf("Delete(by the owner) = %v", err)
		}
		_, err = e.orgs.Get(ctx, mem, o.ID)
		wantErr(t, "Get(deleted)", err, org.ErrNotFound)
	})
}

// TestDeleteUser: a user's deletion takes their memberships, and is
// refused while they are an organization's last owner.
func TestDeleteUser(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a, b := e.user(), e.user()
		o := e.create(a, "keep")
		e.join(a, o, b, org.RoleMember)
		err := e.m.DeleteUser(ctx, a.UUID)
		wantErr(t, "DeleteUser(the last owner)", err, org.ErrLastOwner)
		if _, err := e.m.User(ctx, a.UUID); err != nil {
			t.Errorf("the refused user is gone: %v", err)
		}
		if _, err := e.orgs.SetRole(ctx, a, o.ID, b.UUID, org.RoleOwner); err != nil {
			t.Fatal(err)
		}
		if err := e.m.DeleteUser(ctx, a.UUID); err != nil {
			t.Fatalf("DeleteUser(one of two owners) = %v", err)
		}
		ms, _, err := e.orgs.Members(ctx, b, o.ID, "", 0)
		if err != nil || len(ms) != 1 || ms[0].UUID != b.UUID {
			t.Errorf("Members after the deletion = %+v, %v", ms, err)
		}
	})
}

// TestDemoteRace: two owners demoting each other at once through the
// feature: exactly one wins, one owner stays.
func TestDemoteRace(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		for r := range 4 {
			a, b := e.user(), e.user()
			o := e.create(a, fmt.Sprintf("race-%d", r))
			e.join(a, o, b, org.RoleOwner)
			var wg sync.WaitGroup
			errs := make([]error, 2)
			for i, p := range [][2]*usermgmt.User{{a, b}, {b, a}} {
				wg.Go(func() { _, errs[i] = e.orgs.SetRole(ctx, p[0], o.ID, p[1].UUID, org.RoleAdmin) })
			}
			wg.Wait()
			wins := 0
			for _, err := range errs {
				switch {
				case err == nil:
					wins++
				case !errors.Is(err, org.ErrLastOwner) && !errors.Is(err, usermgmt.ErrForbidden):
					t.Errorf("round %d: %v", r, err)
				}
			}
			owners := 0
			ms, _, _ := e.orgs.Members(ctx, a, o.ID, "", 0)
			for _, m := range ms {
				if m.Role == org.RoleOwner {
					owners++
				}
			}
			if wins != 1 || owners != 1 {
				t.Errorf("round %d: %d wins, %d owners; want 1 and 1", r, wins, owners)
			}
		}
	})
}

func TestMembersPaging(t *testing.T) {
	e := newEnv(t, "sqlite://"+t.TempDir()+"/orgs.db", org.Config{})
	ctx := context.Background()
	a := e.user()
	o := e.create(a, "big")
	for range 6 {
		e.join(a, o, e.user(), org.RoleMember)
	}
	seen := map[string]bool{}
	after := ""
	for page := 0; ; page++ {
		ms, next, err := e.orgs.Members(ctx, a, o.ID, after, 3)
		if err != nil || len(ms) > 3 {
			t.Fatalf("page %d: %d members, %v", page, len(ms), err)
		}
		for _, m := range ms {
			seen[m.UUID] = true
		}
		if next == "" {
			break
		}
		after = next
	}
	if len(seen) != 7 {
		t.Errorf("paged %d members, want 7", len(seen))
	}
	_, _, err := e.orgs.Members(ctx, a, o.ID, "junk", 3)
	wantErr(t, "Members(bad cursor)", err, org.ErrInvalidCursor)
}

// TestDeleteUserWithOrgs: a global admin deletes a last owner with the
// organizations only they own, in one transaction.
func TestDeleteUserWithOrgs(t *testing.T) {
	forEachDB(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		a, b, admin := e.user(), e.user(), e.user(usermgmt.RoleAdmin)
		solo := e.create(a, "solo")
		shared := e.create(b, "shared")
		e.join(b, shared, a, org.RoleOwner)
		_, err := e.orgs.DeleteUserWithOrgs(ctx, b, a.UUID)
		wantErr(t, "DeleteUserWithOrgs(not a global admin)", err, usermgmt.ErrForbidden)
		deleted, err := e.orgs.DeleteUserWithOrgs(ctx, admin, a.UUID)
		if err != nil || len(deleted) != 1 || deleted[0] != solo.ID {
			t.Fatalf("DeleteUserWithOrgs = %v, %v; want [%s]", deleted, err, solo.ID)
		}
		_, err = e.m.User(ctx, a.UUID)
		wantErr(t, "User(deleted)", err, usermgmt.ErrUserNotFound)
		_, err = e.orgs.Get(ctx, admin, solo.ID)
		wantErr(t, "Get(the solo organization)", err, org.ErrNotFound)
		ms, _, err := e.orgs.Members(ctx, b, shared.ID, "", 0)
		if err != nil || len(ms) != 1 || ms[0].UUID != b.UUID {
			t.Errorf("shared members = %+v, %v; want b alone", ms, err)
		}
	})
}
