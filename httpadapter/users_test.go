package httpadapter_test

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

// userKeys are the keys of UserRead, user_history aside.
var userKeys = []string{
	"uuid", "username", "display_name", "email", "email_verified", "otp_method", "roles", "description",
	"is_external_only", "is_active", "blocked_uuids", "profile_picture", "created_at", "updated_at",
	"external_accounts", "files", "picture_url",
}

// detailKeys are what GET /user/{uuid}/details shows.
var detailKeys = []string{
	"uuid", "username", "display_name", "roles", "description", "is_active", "profile_picture",
	"created_at", "updated_at", "files", "picture_url",
}

// wantKeys fails unless obj has exactly keys.
func wantKeys(t *testing.T, obj map[string]any, keys ...string) {
	t.Helper()
	var got []string
	for k := range obj {
		got = append(got, k)
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(keys))
	if !slices.Equal(got, want) {
		t.Fatalf("keys = %v, want %v", got, want)
	}
}

var historyTime = regexp.MustCompile(`^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC$`)

func TestUserMe(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		a := e.register("me_user")
		r := e.do(request{method: "GET", path: "/api/user/me", token: a.AccessToken})
		r.wantStatus(t, 200)
		u := r.object(t)
		wantKeys(t, u, append(userKeys, "user_history")...)
		want := map[string]any{
			"uuid": a.uuid, "username": "me_user", "display_name": "me_user", "email": "me_user@example.com",
			"email_verified": false, "otp_method": "none", "description": nil, "is_external_only": false,
			"is_active": true, "profile_picture": nil, "created_at": float64(e.clock.Now().Unix()),
			"picture_url": baseURL + "/api/user/" + a.uuid + "/image",
		}
		for k, v := range want {
			if u[k] != v {
				t.Errorf("%s = %#v, want %#v", k, u[k], v)
			}
		}
		for k, v := range map[string]string{"roles": `["user"]`, "blocked_uuids": `[]`, "external_accounts": `[]`, "files": `[]`} {
			if got := mustJSON(t, u[k]); got != v {
				t.Errorf("%s = %s, want %s", k, got, v)
			}
		}
		history, _ := u["user_history"].([]any)
		if len(history) == 0 {
			t.Fatalf("user_history = %v, want the register entry", u["user_history"])
		}
		var actions []string
		for _, h := range history {
			h := h.(map[string]any)
			wantKeys(t, h, "time", "action", "description", "by")
			if !historyTime.MatchString(h["time"].(string)) {
				t.Errorf("history time %q", h["time"])
			}
			actions = append(actions, h["action"].(string))
		}
		if !slices.Contains(actions, usermgmt.AuditRegister) {
			t.Errorf("history actions %v lack %q", actions, usermgmt.AuditRegister)
		}
		if strings.Contains(string(r.body), "password") || strings.Contains(string(r.body), "otp_secret") {
			t.Fatalf("UserRead leaks a secret field: %s", r.body)
		}

		e.do(request{method: "GET", path: "/api/user/me"}).wantError(t, 401, "not_authenticated")
	})
}

func TestUserDetails(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		reader := e.register("reader_user")
		target := e.register("target_user")
		banned := e.register("banned_user")
		mod := e.user("mod_user", usermgmt.RoleModerator)
		if _, err := e.m.Ban(context.Background(), banned.uuid, "spam"); err != nil {
			t.Fatal(err)
		}
		get := func(uuid, token string) result {
			return e.do(request{method: "GET", path: "/api/user/" + uuid + "/details", token: token})
		}

		r := get(target.uuid, reader.AccessToken)
		r.wantStatus(t, 200)
		d := r.object(t)
		wantKeys(t, d, detailKeys...)
		if d["uuid"] != target.uuid || d["username"] != "target_user" || d["is_active"] != true {
			t.Fatalf("details = %s", r.body)
		}
		// Upper-case UUIDs are the same user.
		get(strings.ToUpper(target.uuid), reader.AccessToken).wantStatus(t, 200)

		get(banned.uuid, reader.AccessToken).wantError(t, 403, "forbidden") // inactive target, plain reader
		get(banned.uuid, mod.AccessToken).wantStatus(t, 200)
		get("not-a-uuid", reader.AccessToken).wantError(t, 404, "user_not_found") // no such user can exist
		get("00000000-0000-4000-8000-000000000000", reader.AccessToken).wantError(t, 404, "user_not_found")
		get(target.uuid, "").wantError(t, 401, "not_authenticated")
	})
}

func TestListAndCountUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		// Created a second apart: lists are oldest first.
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		e.clock.Advance(time.Second)
		mod := e.user("mod_user", usermgmt.RoleModerator)
		e.clock.Advance(time.Second)
		plain := e.register("plain_user")
		get := func(path, token string) result { return e.do(request{method: "GET", path: path, token: token}) }

		// GET /user/
		for _, tok := range []string{admin.AccessToken, mod.AccessToken} {
			r := get("/api/user/", tok)
			r.wantStatus(t, 200)
			var list []map[string]any
			r.decode(t, &list)
			if len(list) != 3 {
				t.Fatalf("list = %d users, want 3", len(list))
			}
			wantKeys(t, list[0], userKeys...) // no user_history in lists
			if list[0]["username"] != "admin_user" {
				t.Fatalf("not oldest first: %v", list[0]["username"])
			}
		}
		r := get("/api/user/?skip=1&limit=1", admin.AccessToken)
		r.wantStatus(t, 200)
		var page []map[string]any
		r.decode(t, &page)
		if len(page) != 1 || page[0]["username"] != "mod_user" {
			t.Fatalf("page = %s", r.body)
		}
		get("/api/user/", plain.AccessToken).wantError(t, 403, "forbidden")
		get("/api/user/", "").wantError(t, 401, "not_authenticated")
		get("/api/user/?skip=abc", admin.AccessToken).wantError(t, 422, "invalid_request")
		get("/api/user/?limit=99999999999999999999", admin.AccessToken).wantError(t, 422, "invalid_request")
		get("/api/user/?skip=%zz", admin.AccessToken).wantError(t, 422, "invalid_request")
		get("/api/user/?skip=-1", admin.AccessToken).wantError(t, 400, "invalid_input")
		get("/api/user/?limit=5000", admin.AccessToken).wantError(t, 400, "invalid_input")

		// GET /user/users
		q := url.Values{"users_ids": {plain.uuid, mod.uuid, "00000000-0000-4000-8000-000000000000"}}
		r = get("/api/user/users?"+q.Encode(), mod.AccessToken)
		r.wantStatus(t, 200)
		var some []map[string]any
		r.decode(t, &some)
		var names []string
		for _, u := range some {
			names = append(names, u["username"].(string))
			wantKeys(t, u, userKeys...)
		}
		slices.Sort(names)
		if !slices.Equal(names, []string{"mod_user", "plain_user"}) {
			t.Fatalf("users = %v", names)
		}
		r = get("/api/user/users", admin.AccessToken)
		r.wantStatus(t, 200)
		if string(r.body) != "[]" {
			t.Fatalf("no ids = %s, want []", r.body)
		}
		// Malformed ids name no user: skipped, like unknown ones.
		r = get("/api/user/users?users_ids=bad&users_ids="+plain.uuid, admin.AccessToken)
		r.wantStatus(t, 200)
		var skipped []map[string]any
		r.decode(t, &skipped)
		if len(skipped) != 1 || skipped[0]["username"] != "plain_user" {
			t.Fatalf("users with a malformed id = %s", r.body)
		}
		get("/api/user/users?users_ids="+plain.uuid, plain.AccessToken).wantError(t, 403, "forbidden")

		// GET /user/count
		r = get("/api/user/count", mod.AccessToken)
		r.wantStatus(t, 200)
		if string(r.body) != "3" {
			t.Fatalf("count = %s", r.body)
		}
		get("/api/user/count", plain.AccessToken).wantError(t, 403, "forbidden")
	})
}

func TestCreateUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		mod := e.user("mod_user", usermgmt.RoleModerator)
		plain := e.register("plain_user")
		body := func(username string, extra map[string]any) map[string]any {
			b := map[string]any{"username": username, "email": username + "@example.com", "password": password}
			for k, v := range extra {
				b[k] = v
			}
			return b
		}
		tests := []struct {
			name   string
			token  string
			req    request
			status int
			code   string
			check  func(t *testing.T, u map[string]any)
		}{
			{name: "admin makes a moderator", token: admin.AccessToken,
				req:    request{json: body("new_mod", map[string]any{"roles": []string{"moderator"}, "display_name": "New Mod", "description": "hi", "email_verified": true})},
				status: 200, check: func(t *testing.T, u map[string]any) {
					if mustJSON(t, u["roles"]) != `["moderator"]` || u["display_name"] != "New Mod" || u["description"] != "hi" || u["email_verified"] != true {
						t.Fatalf("created %v", u)
					}
				}},
			{name: "inactive", token: admin.AccessToken, req: request{json: body("sleeper", map[string]any{"is_active": false})}, status: 200,
				check: func(t *testing.T, u map[string]any) {
					if u["is_active"] != false {
						t.Fatalf("is_active = %v", u["is_active"])
					}
				}},
			{name: "moderator makes a user", token: mod.AccessToken, req: request{json: body("mods_user", nil)}, status: 200},
			{name: "moderator makes an admin", token: mod.AccessToken, req: request{json: body("mods_admin", map[string]any{"roles": []string{"admin"}})}, status: 403, code: "forbidden"},
			{name: "user makes a user", token: plain.AccessToken, req: request{json: body("users_user", nil)}, status: 403, code: "forbidden"},
			{name: "no token", req: request{json: body("anon_user", nil)}, status: 401, code: "not_authenticated"},
			{name: "unknown role", token: admin.AccessToken, req: request{json: body("role_user", map[string]any{"roles": []string{"wizard"}})}, status: 400, code: "invalid_role"},
			{name: "taken", token: admin.AccessToken, req: request{json: body("plain_user", nil)}, status: 409, code: "username_taken"},
			{name: "missing password", token: admin.AccessToken, req: request{json: map[string]any{"username": "nopw_user", "email": "n@example.com"}}, status: 422, code: "invalid_request"},
			{name: "roles not a list", token: admin.AccessToken, req: request{json: body("roles_user", map[string]any{"roles": "admin"})}, status: 422, code: "invalid_request"},
			{name: "form", token: admin.AccessToken, req: request{form: url.Values{"username": {"form_user"}, "email": {"f@example.com"}, "password": {password}}}, status: 415, code: "unsupported_media_type"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.req.method, tt.req.path, tt.req.token = "POST", "/api/user/", tt.token
				r := e.do(tt.req)
				if tt.status != 200 {
					r.wantError(t, tt.status, tt.code)
					return
				}
				r.wantStatus(t, 200)
				u := r.object(t)
				wantKeys(t, u, append(userKeys, "user_history")...)
				if tt.check != nil {
					tt.check(t, u)
				}
			})
		}
	})
}

func TestPatchUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		mod := e.user("mod_user", usermgmt.RoleModerator)
		mod2 := e.user("mod_two", usermgmt.RoleModerator)
		jane := e.register("jane_doe")
		bob := e.register("bob_smith")
		tests := []struct {
			name   string
			token  string
			target string
			req    request
			status int
			code   string
			check  func(t *testing.T, u map[string]any)
		}{
			{name: "own display name and description", token: jane.AccessToken, target: jane.uuid,
				req: request{json: map[string]any{"display_name": "Jane Doe", "description": "Hello", "unknown_field": 1}}, status: 200,
				check: func(t *testing.T, u map[string]any) {
					if u["display_name"] != "Jane Doe" || u["description"] != "Hello" {
						t.Fatalf("patched %v", u)
					}
				}},
			{name: "nulls are not sent", token: jane.AccessToken, target: jane.uuid,
				req: request{json: map[string]any{"display_name": nil, "description": nil, "roles": nil}}, status: 200,
				check: func(t *testing.T, u map[string]any) {
					if u["display_name"] != "Jane Doe" || u["description"] != "Hello" || mustJSON(t, u["roles"]) != `["user"]` {
						t.Fatalf("nulls changed something: %v", u)
					}
				}},
			{name: "own roles", token: jane.AccessToken, target: jane.uuid, req: request{json: map[string]any{"roles": []string{"admin"}}}, status: 403, code: "forbidden"},
			{name: "own state", token: jane.AccessToken, target: jane.uuid, req: request{json: map[string]any{"is_active": false}}, status: 403, code: "forbidden"},
			{name: "someone else", token: jane.AccessToken, target: bob.uuid, req: request{json: map[string]any{"description": "hacked"}}, status: 403, code: "forbidden"},
			{name: "bad display name", token: jane.AccessToken, target: jane.uuid, req: request{json: map[string]any{"display_name": "Bob"}}, status: 400, code: "invalid_display_name"},
			{name: "email taken", token: jane.AccessToken, target: jane.uuid, req: request{json: map[string]any{"email": "BOB_SMITH@example.com"}}, status: 409, code: "email_taken"},
			{name: "wrong type", token: jane.AccessToken, target: jane.uuid, req: request{json: map[string]any{"description": 5}}, status: 422, code: "invalid_request"},
			{name: "not an object", token: jane.AccessToken, target: jane.uuid, req: request{raw: `"x"`, contentType: "application/json"}, status: 422, code: "invalid_request"},
			{name: "form", token: jane.AccessToken, target: jane.uuid, req: request{form: url.Values{"description": {"x"}}}, status: 415, code: "unsupported_media_type"},
			{name: "moderator sets a user's roles", token: mod.AccessToken, target: bob.uuid, req: request{json: map[string]any{"roles": []string{"user", "tester"}}}, status: 200,
				check: func(t *testing.T, u map[string]any) {
					if mustJSON(t, u["roles"]) != `["user","tester"]` {
						t.Fatalf("roles = %v", u["roles"])
					}
				}},
			{name: "moderator makes an admin", token: mod.AccessToken, target: bob.uuid, req: request{json: map[string]any{"roles": []string{"admin"}}}, status: 403, code: "forbidden"},
			{name: "moderator edits a moderator", token: mod.AccessToken, target: mod2.uuid, req: request{json: map[string]any{"description": "x"}}, status: 403, code: "forbidden"},
			{name: "moderator edits an admin", token: mod.AccessToken, target: admin.uuid, req: request{json: map[string]any{"description": "x"}}, status: 403, code: "forbidden"},
			{name: "admin makes a moderator", token: admin.AccessToken, target: mod2.uuid, req: request{json: map[string]any{"roles": []string{"admin"}}}, status: 200},
			{name: "no roles at all", token: admin.AccessToken, target: bob.uuid, req: request{json: map[string]any{"roles": []string{}}}, status: 400, code: "invalid_role"},
			{name: "unknown user", token: admin.AccessToken, target: "00000000-0000-4000-8000-000000000000", req: request{json: map[string]any{}}, status: 404, code: "user_not_found"},
			{name: "malformed uuid", token: admin.AccessToken, target: "nope", req: request{json: map[string]any{}}, status: 404, code: "user_not_found"},
			{name: "no token", target: jane.uuid, req: request{json: map[string]any{}}, status: 401, code: "not_authenticated"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.req.method, tt.req.path, tt.req.token = "PATCH", "/api/user/"+tt.target, tt.token
				r := e.do(tt.req)
				if tt.status != 200 {
					r.wantError(t, tt.status, tt.code)
					return
				}
				r.wantStatus(t, 200)
				if tt.check != nil {
					tt.check(t, r.object(t))
				}
			})
		}
		// Deactivating a user ends their sessions.
		e.do(request{method: "PATCH", path: "/api/user/" + bob.uuid, token: admin.AccessToken, json: map[string]any{"is_active": false}}).wantStatus(t, 200)
		e.do(request{method: "GET", path: "/api/user/me", token: bob.AccessToken}).wantError(t, 401, "session_revoked")
	})
}

func TestDeleteUser(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		mod := e.user("mod_user", usermgmt.RoleModerator)
		jane := e.register("jane_doe")
		bob := e.register("bob_smith")
		del := func(uuid, token string) result {
			return e.do(request{method: "DELETE", path: "/api/user/" + uuid, token: token})
		}
		login := func(username string) result {
			return e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {username}, "password": {password}}})
		}

		del(bob.uuid, jane.AccessToken).wantError(t, 403, "forbidden")
		del(bob.uuid, mod.AccessToken).wantError(t, 403, "forbidden")
		del(bob.uuid, "").wantError(t, 401, "not_authenticated")
		del("00000000-0000-4000-8000-000000000000", admin.AccessToken).wantError(t, 404, "user_not_found")
		del("bad", admin.AccessToken).wantError(t, 404, "user_not_found")

		// A user deletes themself: the token dies, the login looks like an
		// unknown user's, the username is free again.
		r := del(jane.uuid, jane.AccessToken)
		r.wantStatus(t, 200)
		if len(r.body) != 0 {
			t.Fatalf("delete body = %q, want empty", r.body)
		}
		e.do(request{method: "GET", path: "/api/user/me", token: jane.AccessToken}).wantError(t, 401, "session_revoked")
		sameResponse(t, login("jane_doe"), login("never_existed"))
		e.register("jane_doe")

		// An admin deletes anyone.
		del(bob.uuid, admin.AccessToken).wantStatus(t, 200)
		e.do(request{method: "GET", path: "/api/user/" + bob.uuid + "/details", token: admin.AccessToken}).wantError(t, 404, "user_not_found")
	})
}

// historyActions returns the actions of a UserRead's user_history, in wire
// order.
func historyActions(t *testing.T, u map[string]any) []string {
	t.Helper()
	history, ok := u["user_history"].([]any)
	if !ok {
		t.Fatalf("user_history = %#v, want a list", u["user_history"])
	}
	var actions []string
	for _, h := range history {
		actions = append(actions, h.(map[string]any)["action"].(string))
	}
	return actions
}

// TestUserHistoryOrder: user_history is oldest first (the reference
// appended to it; clients read history[-1] as the latest), and the answers
// of PATCH /user/{uuid} and POST /user/ carry the real history.
func TestUserHistoryOrder(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		jane := e.register("jane_doe")
		e.clock.Advance(time.Second)

		// PATCH answers the history, the update last.
		r := e.do(request{method: "PATCH", path: "/api/user/" + jane.uuid, token: jane.AccessToken, json: map[string]any{"description": "one"}})
		r.wantStatus(t, 200)
		actions := historyActions(t, r.object(t))
		if len(actions) < 2 || actions[0] != usermgmt.AuditRegister || actions[len(actions)-1] != usermgmt.AuditUserUpdated {
			t.Fatalf("PATCH user_history actions = %v, want register first, user-updated last", actions)
		}
		e.clock.Advance(time.Second)
		r = e.do(request{method: "PATCH", path: "/api/user/" + jane.uuid, token: admin.AccessToken, json: map[string]any{"description": "two"}})
		r.wantStatus(t, 200)
		u := r.object(t)
		if u["description"] != "two" {
			t.Fatalf("PATCH answered description %v, want two", u["description"])
		}
		history := u["user_history"].([]any)
		last := history[len(history)-1].(map[string]any)
		if last["action"] != usermgmt.AuditUserUpdated || last["by"] != admin.uuid {
			t.Fatalf("latest entry = %v, want the admin's update", last)
		}

		// /user/me agrees, and is fresh after the write.
		r = e.do(request{method: "GET", path: "/api/user/me", token: jane.AccessToken})
		r.wantStatus(t, 200)
		me := r.object(t)
		if got := historyActions(t, me); got[0] != usermgmt.AuditRegister || got[len(got)-1] != usermgmt.AuditUserUpdated {
			t.Fatalf("/user/me user_history actions = %v, want register first, user-updated last", got)
		}
		if got := historyActions(t, me); !slices.Equal(got, historyActions(t, u)) || me["description"] != "two" {
			t.Fatalf("/user/me history %v (description %v), PATCH answered %v", got, me["description"], historyActions(t, u))
		}

		// POST /user/ answers the creation entry.
		r = e.do(request{method: "POST", path: "/api/user/", token: admin.AccessToken, json: map[string]any{
			"username": "new_user", "email": "new_user@example.com", "password": password,
		}})
		r.wantStatus(t, 200)
		if got := historyActions(t, r.object(t)); !slices.Equal(got, []string{usermgmt.AuditUserCreated}) {
			t.Fatalf("POST /user/ user_history actions = %v, want [%s]", got, usermgmt.AuditUserCreated)
		}
	})
}

// TestJSONWithoutContentType: a non-empty body without a Content-Type is
// JSON, as in FastAPI.
func TestJSONWithoutContentType(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		jane := e.register("jane_doe")
		r := e.do(request{method: "PATCH", path: "/api/user/" + jane.uuid, token: jane.AccessToken, raw: `{"description":"no type"}`})
		r.wantStatus(t, 200)
		if d := r.object(t)["description"]; d != "no type" {
			t.Fatalf("description = %v", d)
		}
		// Login takes JSON too; a form without a type is not JSON.
		e.do(request{method: "POST", path: "/api/auth/login", raw: `{"username":"jane_doe","password":"` + password + `"}`}).tokens(t)
		e.do(request{method: "POST", path: "/api/auth/login", raw: "username=jane_doe&password=x"}).wantError(t, 422, "invalid_request")
	})
}
