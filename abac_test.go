package usermgmt_test

import (
	"context"
	"errors"
	"testing"

	"github.com/usermgmt/usermgmt"
)

func TestDefaultPolicy(t *testing.T) {
	admin := &usermgmt.User{UUID: "a", Roles: []string{"admin"}, IsActive: true}
	mod := &usermgmt.User{UUID: "m", Roles: []string{"moderator", "user"}, IsActive: true}
	alice := &usermgmt.User{UUID: "alice", Roles: []string{"user"}, IsActive: true}
	bob := &usermgmt.User{UUID: "bob", Roles: []string{"user"}, IsActive: true}
	blocker := &usermgmt.User{UUID: "blocker", Roles: []string{"user"}, IsActive: true, BlockedUUIDs: []string{"alice"}}
	inactive := &usermgmt.User{UUID: "inactive", Roles: []string{"user"}}
	tester := &usermgmt.User{UUID: "t", Roles: []string{"tester"}, IsActive: true}
	modOnly := &usermgmt.User{UUID: "mo", Roles: []string{"moderator"}, IsActive: true}

	type req = usermgmt.AccessRequest
	tests := []struct {
		name string
		req  req
		want bool
	}{
		{"admin lists users", req{Actor: admin, Resource: "user", Action: "read"}, true},
		{"moderator lists users", req{Actor: mod, Resource: "user", Action: "read"}, true},
		{"user cannot list users", req{Actor: alice, Resource: "user", Action: "read"}, false},
		{"user reads other", req{Actor: alice, Resource: "user", Action: "read", Target: bob}, true},
		{"user reads self", req{Actor: alice, Resource: "user", Action: "read", Target: alice}, true},
		{"user cannot read who blocked them", req{Actor: alice, Resource: "user", Action: "read", Target: blocker}, false},
		{"blocker cannot read whom they blocked", req{Actor: blocker, Resource: "user", Action: "read", Target: alice}, false},
		{"user cannot read inactive", req{Actor: alice, Resource: "user", Action: "read", Target: inactive}, false},
		{"user edits own profile", req{Actor: alice, Resource: "user", Action: "update", Target: alice, Fields: []string{"display_name", "description"}}, true},
		{"user cannot change own roles", req{Actor: alice, Resource: "user", Action: "update", Target: alice, Roles: []string{"admin"}, Fields: []string{"roles"}}, false},
		{"user cannot reactivate self", req{Actor: alice, Resource: "user", Action: "update", Target: alice, Fields: []string{"is_active"}}, false},
		{"user cannot set own password by patch", req{Actor: alice, Resource: "user", Action: "update", Target: alice, Fields: []string{"password"}}, false},
		{"user cannot edit other", req{Actor: alice, Resource: "user", Action: "update", Target: bob, Fields: []string{"description"}}, false},
		{"moderator edits plain user", req{Actor: mod, Resource: "user", Action: "update", Target: bob, Fields: []string{"description"}}, true},
		{"moderator cannot promote", req{Actor: mod, Resource: "user", Action: "update", Target: bob, Roles: []string{"moderator"}, Fields: []string{"roles"}}, false},
		{"moderator cannot edit admin", req{Actor: mod, Resource: "user", Action: "update", Target: admin}, false},
		{"moderator creates plain user", req{Actor: mod, Resource: "user", Action: "create", Roles: []string{"user"}}, true},
		{"moderator cannot create admin", req{Actor: mod, Resource: "user", Action: "create", Roles: []string{"user", "admin"}}, false},
		{"user cannot create", req{Actor: alice, Resource: "user", Action: "create", Roles: []string{"user"}}, false},
		{"user deletes self", req{Actor: alice, Resource: "user", Action: "delete", Target: alice}, true},
		{"user cannot delete other", req{Actor: alice, Resource: "user", Action: "delete", Target: bob}, false},
		{"moderator cannot delete", req{Actor: &usermgmt.User{UUID: "m2", Roles: []string{"moderator"}}, Resource: "user", Action: "delete", Target: bob}, false},
		{"moderator-only deletes self", req{Actor: modOnly, Resource: "user", Action: "delete", Target: modOnly}, true},
		{"moderator-only edits own profile", req{Actor: modOnly, Resource: "user", Action: "update", Target: modOnly, Fields: []string{"description"}}, true},
		{"moderator-only cannot drop own role", req{Actor: modOnly, Resource: "user", Action: "update", Target: modOnly, Roles: []string{"user"}, Fields: []string{"roles"}}, false},
		{"moderator bans plain user", req{Actor: mod, Resource: "admin", Action: "ban", Target: bob}, true},
		{"moderator cannot ban admin", req{Actor: mod, Resource: "admin", Action: "ban", Target: admin}, false},
		{"moderator cannot unban", req{Actor: mod, Resource: "admin", Action: "unban", Target: bob}, false},
		{"admin unbans", req{Actor: admin, Resource: "admin", Action: "unban", Target: bob}, true},
		{"admin unlocks", req{Actor: admin, Resource: "admin", Action: "unlock", Target: bob}, true},
		{"moderator cannot unlock", req{Actor: mod, Resource: "admin", Action: "unlock", Target: bob}, false},
		{"tester can do nothing", req{Actor: tester, Resource: "user", Action: "read", Target: tester}, false},
		{"unknown resource denied", req{Actor: admin, Resource: "nuclear", Action: "launch"}, false},
		{"nil actor denied", req{Resource: "user", Action: "read"}, false},
	}
	p := usermgmt.DefaultPolicy()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := p.Allows(tt.req); got != tt.want {
				t.Errorf("Allows = %v, want %v", got, tt.want)
			}
		})
	}
}

func TestCustomPolicy(t *testing.T) {
	p := usermgmt.NewPolicy("reader").
		Set("reader", "report", "read", usermgmt.Allow).
		Set("reader", "report", "write", usermgmt.When(func(r usermgmt.AccessRequest) bool { return r.Data == "draft" }))
	u := &usermgmt.User{Roles: []string{"reader"}}
	if !p.Allows(usermgmt.AccessRequest{Actor: u, Resource: "report", Action: "read"}) {
		t.Error("read not allowed")
	}
	if p.Allows(usermgmt.AccessRequest{Actor: u, Resource: "report", Action: "write", Data: "final"}) {
		t.Error("write of final allowed")
	}
	if !p.Allows(usermgmt.AccessRequest{Actor: u, Resource: "report", Action: "write", Data: "draft"}) {
		t.Error("write of draft not allowed")
	}
	if got := p.Roles(); len(got) != 1 || got[0] != "reader" {
		t.Errorf("Roles() = %v", got)
	}
}

func TestActorEnforcesPolicy(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, openStore(t), nil)
	admin := mustCreate(t, m, "admin_one", "admin")
	mod := mustCreate(t, m, "moder_one", "moderator", "user")
	alice := mustCreate(t, m, "alice_one")
	bob := mustCreate(t, m, "bob_the_user")

	if _, err := m.As(alice).ListUsers(ctx, usermgmt.UserQuery{}); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("plain user listed users: %v", err)
	}
	if _, err := m.As(alice).CountUsers(ctx); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("plain user counted users: %v", err)
	}
	if n, err := m.As(mod).CountUsers(ctx); err != nil || n != 4 {
		t.Errorf("moderator count = %d, %v", n, err)
	}
	desc := "hello"
	if u, err := m.As(alice).UpdateUser(ctx, alice.UUID, usermgmt.UserPatch{Description: &desc}); err != nil || u.Description != "hello" {
		t.Errorf("self edit: %v", err)
	}
	roles := []string{"admin"}
	if _, err := m.As(alice).UpdateUser(ctx, alice.UUID, usermgmt.UserPatch{Roles: &roles}); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("self promotion: %v", err)
	}
	if _, err := m.As(alice).UpdateUser(ctx, bob.UUID, usermgmt.UserPatch{Description: &desc}); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("edit of another user: %v", err)
	}
	if _, err := m.As(mod).Ban(ctx, admin.UUID, "no"); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("moderator banned admin: %v", err)
	}
	if _, err := m.As(admin).Ban(ctx, admin.UUID, "oops"); !errors.Is(err, usermgmt.ErrCannotBanSelf) {
		t.Errorf("self ban: %v", err)
	}
	if _, err := m.As(mod).Ban(ctx, bob.UUID, ""); !errors.Is(err, usermgmt.ErrInvalidInput) {
		t.Errorf("ban without reason: %v", err)
	}
	if u, err := m.As(mod).Ban(ctx, bob.UUID, "spam"); err != nil || u.IsActive {
		t.Errorf("moderator ban of plain user: %v", err)
	}
	if _, err := m.As(mod).Unban(ctx, bob.UUID, ""); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("moderator unban: %v", err)
	}
	if u, err := m.As(admin).Unban(ctx, bob.UUID, "appeal accepted"); err != nil || !u.IsActive {
		t.Errorf("admin unban: %v", err)
	}
	if _, err := m.As(mod).CreateUser(ctx, usermgmt.NewUser{Username: "new_admin", Email: "na@example.com", Password: goodPassword, Roles: []string{"admin"}}); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("moderator created an admin: %v", err)
	}
	if err := m.As(alice).DeleteUser(ctx, bob.UUID); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("user deleted another: %v", err)
	}
	if err := m.As(alice).DeleteUser(ctx, alice.UUID); err != nil {
		t.Errorf("self delete: %v", err)
	}
	if _, err := m.As(nil).User(ctx, bob.UUID); !errors.Is(err, usermgmt.ErrForbidden) {
		t.Errorf("nil actor read a user: %v", err)
	}
}
