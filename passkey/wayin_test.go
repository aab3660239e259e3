package passkey_test

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/passkey/internal/softauthn"
)

// TestUnlinkCountsPasskeys: the core's rule that an account keeps a way
// in counts passkeys. An account without a password whose only provider
// is its last way in keeps it; once it has a passkey the provider can go,
// and then the passkey is the last way in and stays.
func TestUnlinkCountsPasskeys(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u, tok := e.user("jane_doe", "Secret-pass-123")
	e.setUser(u.UUID, func(u *usermgmt.User) { u.PasswordHash, u.IsExternalOnly = "", true })
	u, err := e.m.User(ctx, u.UUID)
	if err != nil {
		t.Fatal(err)
	}
	now := e.clock.Now()
	if err := e.m.Store().(usermgmt.ExternalStore).InsertExternalIdentity(ctx, &usermgmt.ExternalIdentity{
		Provider: "github", Subject: "4242", UserUUID: u.UUID, Username: "janeocto", CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		t.Fatal(err)
	}
	if n, err := e.m.WaysIn(ctx, e.m.Store(), u, nil); err != nil || n != 1 {
		t.Fatalf("ways in with a provider only: %d, %v", n, err)
	}
	if err := e.m.UnlinkOAuth(ctx, u.UUID, "github"); !errors.Is(err, usermgmt.ErrLastLoginMethod) {
		t.Fatalf("unlink of the only way in = %v", err)
	}

	auth := softauthn.New(origin)
	if a := e.register(auth, tok, "laptop"); a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.body)
	}
	if n, err := e.m.WaysIn(ctx, e.m.Store(), u, nil); err != nil || n != 2 {
		t.Fatalf("ways in with a provider and a passkey: %d, %v", n, err)
	}
	if err := e.m.UnlinkOAuth(ctx, u.UUID, "github"); err != nil {
		t.Fatalf("unlink with a passkey left = %v", err)
	}
	if a := e.login(auth, nil); a.status != http.StatusOK {
		t.Fatalf("sign-in with the passkey after the unlink: %d %s", a.status, a.body)
	}
	var list []map[string]any
	if a := e.do(http.MethodGet, "/api/auth/passkeys", tok, nil); json.Unmarshal(a.body, &list) != nil || len(list) != 1 {
		t.Fatalf("list: %d %s", a.status, a.body)
	}
	if a := e.do(http.MethodDelete, "/api/auth/passkeys/"+list[0]["id"].(string), tok, nil); a.status != http.StatusConflict || code(t, a) != "passkey_last_way_in" {
		t.Errorf("remove the last way in: %d %s", a.status, a.body)
	}
}
