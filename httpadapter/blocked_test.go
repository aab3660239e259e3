package httpadapter_test

import (
	"net/url"
	"slices"
	"testing"

	"github.com/usermgmt/usermgmt"
)

func TestBlockedUsers(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		mod := e.user("mod_user", usermgmt.RoleModerator)
		jane := e.register("jane_doe")
		bob := e.register("bob_smith")
		carl := e.register("carl_jones")
		path := func(uuid string) string { return "/api/user/" + uuid + "/blocked_users" }
		list := func(r result) []string {
			t.Helper()
			r.wantStatus(t, 200)
			var ids []string
			r.decode(t, &ids)
			slices.Sort(ids)
			return ids
		}
		sorted := func(ids ...string) []string { slices.Sort(ids); return ids }
		q := func(vs url.Values) string { return "?" + vs.Encode() }

		// Empty at first; the owner and admins may read it, others not.
		if got := list(e.do(request{method: "GET", path: path(jane.uuid), token: jane.AccessToken})); len(got) != 0 {
			t.Fatalf("initial list %v", got)
		}
		list(e.do(request{method: "GET", path: path(jane.uuid), token: admin.AccessToken}))
		e.do(request{method: "GET", path: path(jane.uuid), token: bob.AccessToken}).wantError(t, 403, "forbidden")
		e.do(request{method: "GET", path: path(jane.uuid), token: mod.AccessToken}).wantError(t, 403, "forbidden")
		e.do(request{method: "GET", path: path(jane.uuid)}).wantError(t, 401, "not_authenticated")

		// jane can see bob before blocking.
		e.do(request{method: "GET", path: "/api/user/" + bob.uuid + "/details", token: jane.AccessToken}).wantStatus(t, 200)

		// PUT with the query (reference) and with JSON.
		got := list(e.do(request{method: "PUT", path: path(jane.uuid) + q(url.Values{"users_ids": {bob.uuid}}), token: jane.AccessToken}))
		if !slices.Equal(got, []string{bob.uuid}) {
			t.Fatalf("after PUT %v", got)
		}
		got = list(e.do(request{method: "PUT", path: path(jane.uuid), json: map[string]any{"users_ids": []string{carl.uuid, bob.uuid}}, token: jane.AccessToken}))
		if want := sorted(bob.uuid, carl.uuid); !slices.Equal(got, want) {
			t.Fatalf("after second PUT %v, want %v", got, want)
		}

		// Blocked either way: neither sees the other's details.
		e.do(request{method: "GET", path: "/api/user/" + bob.uuid + "/details", token: jane.AccessToken}).wantError(t, 403, "forbidden")
		e.do(request{method: "GET", path: "/api/user/" + jane.uuid + "/details", token: bob.AccessToken}).wantError(t, 403, "forbidden")
		e.do(request{method: "GET", path: "/api/user/" + jane.uuid + "/details", token: admin.AccessToken}).wantStatus(t, 200)

		// Refusals: others' lists, bad or unknown UUIDs, self, bad JSON.
		e.do(request{method: "PUT", path: path(jane.uuid) + q(url.Values{"users_ids": {carl.uuid}}), token: bob.AccessToken}).wantError(t, 403, "forbidden")
		e.do(request{method: "PUT", path: path(jane.uuid) + q(url.Values{"users_ids": {"nope"}}), token: jane.AccessToken}).wantError(t, 400, "invalid_uuid")
		e.do(request{method: "PUT", path: path(jane.uuid) + q(url.Values{"users_ids": {"00000000-0000-4000-8000-000000000000"}}), token: jane.AccessToken}).wantError(t, 404, "user_not_found")
		e.do(request{method: "PUT", path: path(jane.uuid) + q(url.Values{"users_ids": {jane.uuid}}), token: jane.AccessToken}).wantError(t, 400, "invalid_input")
		e.do(request{method: "PUT", path: path(jane.uuid), json: map[string]any{"users_ids": 3}, token: jane.AccessToken}).wantError(t, 422, "invalid_request")
		e.do(request{method: "PUT", path: path("00000000-0000-4000-8000-000000000000") + q(url.Values{"users_ids": {bob.uuid}}), token: admin.AccessToken}).wantError(t, 404, "user_not_found")

		// PATCH: remove first, then add.
		got = list(e.do(request{method: "PATCH", path: path(jane.uuid) + q(url.Values{"remove": {bob.uuid, carl.uuid}, "add": {carl.uuid}}), token: jane.AccessToken}))
		if !slices.Equal(got, []string{carl.uuid}) {
			t.Fatalf("after PATCH %v", got)
		}
		e.do(request{method: "GET", path: "/api/user/" + bob.uuid + "/details", token: jane.AccessToken}).wantStatus(t, 200)

		// DELETE, by an admin; unknown entries are ignored.
		got = list(e.do(request{method: "DELETE", path: path(jane.uuid) + q(url.Values{"users_ids": {carl.uuid, bob.uuid}}), token: admin.AccessToken}))
		if len(got) != 0 {
			t.Fatalf("after DELETE %v", got)
		}
		e.do(request{method: "DELETE", path: path(jane.uuid) + q(url.Values{"users_ids": {carl.uuid}}), token: mod.AccessToken}).wantError(t, 403, "forbidden")

		// The change is in jane's history.
		me := e.do(request{method: "GET", path: "/api/user/me", token: jane.AccessToken}).object(t)
		hist, _ := me["user_history"].([]any)
		n := 0
		for _, h := range hist {
			if h.(map[string]any)["action"] == usermgmt.AuditBlockedUsers {
				n++
			}
		}
		if n != 4 {
			t.Fatalf("history has %d blocked-users entries, want 4: %v", n, hist)
		}
	})
}
