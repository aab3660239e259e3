package httpadapter_test

import (
	"net/url"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

// Issue 15 item 1: anybody could lock the admin out and nothing over HTTP
// lifted the lock. POST /admin/unlock/{uuid} does, for an admin; with
// Lockout.TellOwner the owner's password meanwhile answers 429
// account_locked with Retry-After.
func TestAdminUnlock(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			e := newSecEnv(t, b.dsn(t), func(c *usermgmt.Config) { c.Lockout.TellOwner = true })
			admin := e.user("admin_user", usermgmt.RoleAdmin)
			mod := e.user("mod_user", usermgmt.RoleModerator)
			jane := e.register("jane_doe")
			login := func(pw string) result {
				return e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"jane_doe"}, "password": {pw}}})
			}
			unlock := func(target, token string) result {
				return e.do(request{method: "POST", path: "/api/admin/unlock/" + target, token: token})
			}
			for range usermgmt.DefaultLockout.Threshold {
				login("Wr0ng!pass").wantError(t, 401, "invalid_credentials")
			}
			e.clock.Advance(time.Minute)
			login("Wr0ng!pass").wantError(t, 401, "invalid_credentials")
			r := login(password)
			r.wantError(t, 429, "account_locked")
			if got := r.header.Get("Retry-After"); got != "840" {
				t.Errorf("Retry-After = %q, want 840 (14 minutes)", got)
			}

			unlock(jane.uuid, "").wantError(t, 401, "not_authenticated")
			unlock(jane.uuid, mod.AccessToken).wantError(t, 403, "forbidden")
			unlock(jane.uuid, jane.AccessToken).wantError(t, 403, "forbidden")
			unlock("00000000-0000-4000-8000-000000000000", admin.AccessToken).wantError(t, 404, "user_not_found")
			r = unlock(jane.uuid, admin.AccessToken)
			r.wantStatus(t, 200)
			if got, want := string(r.body), `{"Admin":"admin_user","Action":"Unlocked","User":"jane_doe","Reason":""}`; got != want {
				t.Fatalf("unlock = %s, want %s", got, want)
			}
			login(password).tokens(t)
		})
	}
}
