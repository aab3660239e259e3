package passkey_test

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/passkey"
	"github.com/usermgmt/usermgmt/passkey/internal/softauthn"
)

// setUser changes the stored user directly (what a test needs that no
// route gives: a password-less account, a second factor without setup).
func (e *env) setUser(uuid string, change func(u *usermgmt.User)) {
	e.t.Helper()
	ctx := context.Background()
	u, err := e.m.Store().UserByUUID(ctx, uuid)
	if err != nil {
		e.t.Fatal(err)
	}
	change(u)
	if err := e.m.Store().UpdateUser(ctx, u); err != nil {
		e.t.Fatal(err)
	}
	e.m.ForgetCached(uuid)
}

// TestPasskeySecondFactor: with user verification a passkey is both
// factors; without it, the account's second factor is asked as after a
// password (the OTP-REQUIRED answer).
func TestPasskeySecondFactor(t *testing.T) {
	e := newEnv(t)
	u, tok := e.user("jane_doe", "Secret-pass-123")
	auth := softauthn.New(origin)
	if a := e.register(auth, tok, "key"); a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.body)
	}
	e.setUser(u.UUID, func(u *usermgmt.User) { u.OTPMethod = usermgmt.OTPEmail })

	auth.UV = false
	a := e.login(auth, nil)
	if a.status != http.StatusUnauthorized || code(t, a) != usermgmt.ErrOTPRequired.Code || !strings.Contains(string(a.body), "OTP-REQUIRED") {
		t.Errorf("without UV on an account with a second factor: %d %s", a.status, a.body)
	}
	auth.UV = true
	if a = e.login(auth, nil); a.status != http.StatusOK {
		t.Errorf("with UV: %d %s", a.status, a.body)
	}
	// An inactive account gets its reason, as after a correct password.
	e.setUser(u.UUID, func(u *usermgmt.User) { u.IsActive = false })
	if a = e.login(auth, nil); a.status < 400 || a.status > 499 {
		t.Errorf("inactive account: %d %s", a.status, a.body)
	}
}

// TestPasskeyLastWayIn: an account without a password or a provider keeps
// one passkey.
func TestPasskeyLastWayIn(t *testing.T) {
	e := newEnv(t)
	u, tok := e.user("jane_doe", "Secret-pass-123")
	auth := softauthn.New(origin)
	if a := e.register(auth, tok, "one"); a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.body)
	}
	second := softauthn.New(origin)
	if a := e.register(second, tok, "two"); a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.body)
	}
	e.setUser(u.UUID, func(u *usermgmt.User) { u.PasswordHash = "" })
	var list []map[string]any
	a := e.do(http.MethodGet, "/api/auth/passkeys", tok, nil)
	if err := json.Unmarshal(a.body, &list); err != nil || len(list) != 2 {
		t.Fatalf("list: %d %s", a.status, a.body)
	}
	if a = e.do(http.MethodDelete, "/api/auth/passkeys/"+list[0]["id"].(string), tok, nil); a.status != http.StatusNoContent {
		t.Fatalf("remove the first of two: %d %s", a.status, a.body)
	}
	if a = e.do(http.MethodDelete, "/api/auth/passkeys/"+list[1]["id"].(string), tok, nil); a.status != http.StatusConflict || code(t, a) != "passkey_last_way_in" {
		t.Errorf("remove the last way in: %d %s", a.status, a.body)
	}
}

// TestPasskeyAdmin: admins list and remove a user's passkeys (policy
// resource passkey); other users may not.
func TestPasskeyAdmin(t *testing.T) {
	e := newEnv(t)
	u, tok := e.user("jane_doe", "Secret-pass-123")
	_, admin := e.user("the_admin", "Secret-pass-123", usermgmt.RoleAdmin)
	_, other := e.user("other_user", "Secret-pass-123")
	if a := e.register(softauthn.New(origin), tok, "k"); a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.body)
	}
	path := "/api/admin/users/" + u.UUID + "/passkeys"
	if a := e.do(http.MethodGet, path, other, nil); a.status != http.StatusForbidden {
		t.Errorf("a user lists another's passkeys: %d %s", a.status, a.body)
	}
	a := e.do(http.MethodGet, path, admin, nil)
	var list []map[string]any
	if err := json.Unmarshal(a.body, &list); err != nil || a.status != 200 || len(list) != 1 {
		t.Fatalf("admin list: %d %s", a.status, a.body)
	}
	id := list[0]["id"].(string)
	if a = e.do(http.MethodDelete, path+"/"+id, other, nil); a.status != http.StatusForbidden {
		t.Errorf("a user removes another's passkey: %d %s", a.status, a.body)
	}
	if a = e.do(http.MethodDelete, path+"/"+id, admin, nil); a.status != http.StatusNoContent {
		t.Errorf("admin remove: %d %s", a.status, a.body)
	}
	if a = e.do(http.MethodGet, "/api/admin/users/00000000-0000-4000-8000-000000000000/passkeys", admin, nil); a.status != http.StatusNotFound {
		t.Errorf("admin list of an unknown user: %d %s", a.status, a.body)
	}
}

// TestPasskeyOpenAPI: every route is in the OpenAPI document.
func TestPasskeyOpenAPI(t *testing.T) {
	pk := passkey.New(passkey.Config{})
	doc, err := httpadapter.OpenAPI("/api", "test", pk)
	if err != nil {
		t.Fatal(err)
	}
	var v struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	for _, e := range pk.Endpoints() {
		if _, ok := v.Paths["/api"+e.Path][strings.ToLower(e.Method)]; !ok {
			t.Errorf("%s %s is not in the OpenAPI document", e.Method, e.Path)
		}
	}
}

// TestPasskeyConfig: the relying party comes from BaseURL; without one
// (and no RPID), New fails.
func TestPasskeyConfig(t *testing.T) {
	e := newEnv(t)
	var pk *passkey.Passkeys
	for _, f := range e.m.Features() {
		pk, _ = f.(*passkey.Passkeys)
	}
	if pk.RPID() != "app.example.com" || len(pk.Origins()) != 1 || pk.Origins()[0] != origin {
		t.Errorf("relying party from BaseURL: %q %v", pk.RPID(), pk.Origins())
	}
	if _, err := usermgmt.New(usermgmt.Config{Store: e.m.Store(), JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BcryptCost: 4, DataDir: t.TempDir()},
		usermgmt.WithFeature(passkey.New(passkey.Config{}))); err == nil {
		t.Error("New without BaseURL or RPID succeeded")
	}
}
