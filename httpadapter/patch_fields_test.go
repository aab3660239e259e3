package httpadapter_test

import (
	"context"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// TestPatchUserReferenceFields: the admin's edit applies the reference's
// email_verified and otp_method as the policy allows, refuses what it
// cannot do with a 4xx, and a self-edit that sends back its own unchanged
// roles or state is not refused for them.
func TestPatchUserReferenceFields(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		ctx := context.Background()
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		mod := e.user("mod_user", usermgmt.RoleModerator)
		jane := e.register("jane_doe")
		bob := e.register("bob_smith")
		patch := func(token, uuid string, body map[string]any) result {
			return e.do(request{method: "PATCH", path: "/api/user/" + uuid, token: token, json: body})
		}

		// email_verified: applied for an admin, in the answer and the store.
		r := patch(admin.AccessToken, jane.uuid, map[string]any{"email_verified": true})
		r.wantStatus(t, 200)
		if r.object(t)["email_verified"] != true {
			t.Fatalf("email_verified not applied: %s", r.body)
		}
		if u, err := e.m.User(ctx, jane.uuid); err != nil || !u.EmailVerified {
			t.Fatalf("stored user %+v, %v", u, err)
		}
		// A moderator may not vouch for an address, nor the owner.
		patch(mod.AccessToken, bob.uuid, map[string]any{"email_verified": true}).wantError(t, 403, "forbidden")
		patch(bob.AccessToken, bob.uuid, map[string]any{"email_verified": true}).wantError(t, 403, "forbidden")

		// otp_method: an admin turns a second factor off; turning one on
		// needs the owner's code.
		setup, err := e.m.SetupOTP(ctx, bob.uuid)
		if err != nil {
			t.Fatal(err)
		}
		if _, _, err := e.m.ChangeOTPMethod(ctx, bob.uuid, usermgmt.OTPAuthenticator, totpCode(t, setup.Secret, e.clock.Now()), ""); err != nil {
			t.Fatal(err)
		}
		patch(mod.AccessToken, bob.uuid, map[string]any{"otp_method": "none"}).wantError(t, 403, "forbidden")
		patch(admin.AccessToken, jane.uuid, map[string]any{"otp_method": "authenticator"}).wantError(t, 422, "otp_proof_required")
		patch(admin.AccessToken, jane.uuid, map[string]any{"otp_method": "sms"}).wantError(t, 400, "invalid_otp_method")
		r = patch(admin.AccessToken, bob.uuid, map[string]any{"otp_method": "none"})
		r.wantStatus(t, 200)
		if r.object(t)["otp_method"] != "none" {
			t.Fatalf("otp_method not applied: %s", r.body)
		}
		if u, err := e.m.User(ctx, bob.uuid); err != nil || u.OTPMethod != usermgmt.OTPNone || u.OTPSecret != "" {
			t.Fatalf("stored user after otp off: %+v, %v", u, err)
		}
		// bob logs in with the password alone again.
		e.login("bob_smith")

		// Fields the reference took that an edit does not set: a 422 that
		// names them, and nothing changed.
		for _, field := range []string{"blocked_uuids", "profile_picture_id", "is_external_only", "action", "isActive"} {
			var v any = true
			switch field {
			case "blocked_uuids":
				v = []string{bob.uuid}
			case "profile_picture_id":
				v = 1
			case "action":
				v = map[string]string{"action": "x", "description": "y", "by": "z"}
			}
			msg := patch(admin.AccessToken, jane.uuid, map[string]any{"description": "changed", field: v}).wantError(t, 422, "invalid_request")
			if !strings.Contains(msg, field) {
				t.Fatalf("%s: message %q does not name the field", field, msg)
			}
		}
		if u, _ := e.m.User(ctx, jane.uuid); u.Description == "changed" {
			t.Fatal("a refused edit changed the user")
		}

		// A self-edit sending its own unchanged roles and state (what a
		// client read back) is applied; a changed one is still refused.
		r = patch(jane.AccessToken, jane.uuid, map[string]any{"description": "mine", "roles": []string{"user"}, "is_active": true,
			"email_verified": true, "otp_method": "none"})
		r.wantStatus(t, 200)
		if r.object(t)["description"] != "mine" {
			t.Fatalf("self-edit not applied: %s", r.body)
		}
		patch(jane.AccessToken, jane.uuid, map[string]any{"roles": []string{"user", "tester"}}).wantError(t, 403, "forbidden")
		patch(jane.AccessToken, jane.uuid, map[string]any{"is_active": false}).wantError(t, 403, "forbidden")
		patch(jane.AccessToken, jane.uuid, map[string]any{"email_verified": false}).wantError(t, 403, "forbidden")
	})
}
