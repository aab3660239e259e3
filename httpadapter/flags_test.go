package httpadapter_test

import (
	"context"
	"net/http"
	"net/url"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// eachBackendWith is eachBackend serving with opts.
func eachBackendWith(t *testing.T, opts httpadapter.Options, fn func(t *testing.T, e *env)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newEnv(t, b.dsn(t), opts))
		})
	}
}

func TestFeatureFlagGating(t *testing.T) {
	eachBackendWith(t, httpadapter.Options{FeatureFlags: true}, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		jane := e.register("jane_doe")
		patchFlags := func(token string, q request) result {
			q.method, q.path, q.token = "PATCH", "/api/admin/feature_flags", token
			return e.do(q)
		}
		r := patchFlags(admin.AccessToken, request{json: map[string]any{"add": map[string]any{
			"LOGIN":      false,
			"READ_USERS": []any{map[string]any{"userRoles": []string{"admin"}}},
			"_PING":      []any{map[string]any{"percentageOfUsers": 1}},
		}}})
		r.wantStatus(t, 200)
		if got, want := string(r.body), `{"LOGIN":false,"READ_USERS":[{"userRoles":["admin"]}],"_PING":[{"percentageOfUsers":1}]}`; got != want {
			t.Fatalf("PATCH = %s, want %s", got, want)
		}

		login := request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"jane_doe"}, "password": {password}}}
		detail := e.do(login).wantError(t, 403, "feature_disabled")
		if detail != "Access to feature 'LOGIN' is denied." {
			t.Errorf("detail %q", detail)
		}
		// Matching is by route and method: READ_USERS gates GET /api/user/
		// only, not POST /api/user/ (NEW_USER, absent: allowed).
		e.do(request{method: "GET", path: "/api/user/", token: admin.AccessToken}).wantStatus(t, 200)
		e.do(request{method: "GET", path: "/api/user/", token: jane.AccessToken}).wantError(t, 403, "feature_disabled")
		e.do(request{method: "POST", path: "/api/user/", token: admin.AccessToken, json: map[string]any{
			"username": "new_person", "email": "new@example.com", "password": password,
		}}).wantStatus(t, 200)
		// An anonymous caller on a rule list gets 403, never 500; a caller
		// with a token is evaluated (everyone is in a 100% bucket).
		e.do(request{method: "GET", path: "/api/user/"}).wantError(t, 403, "feature_disabled")
		e.do(request{method: "GET", path: "/ping"}).wantError(t, 403, "feature_disabled")
		e.do(request{method: "GET", path: "/ping", token: jane.AccessToken}).wantStatus(t, 200)
		e.do(request{method: "GET", path: "/ping", token: "not-a-token"}).wantError(t, 403, "feature_disabled")
		// Absent flags allow.
		e.do(request{method: "GET", path: "/version"}).wantStatus(t, 200)

		// The reference's form: remove by name.
		r = patchFlags(admin.AccessToken, request{form: url.Values{"remove": {"LOGIN"}}})
		r.wantStatus(t, 200)
		e.do(login).wantStatus(t, 200)
		// remove as a JSON object (its keys) in a form, add as JSON text.
		r = patchFlags(admin.AccessToken, request{form: url.Values{"remove": {`{"_PING": true}`}, "add": {`{"NEW_FLAG": true}`}}})
		r.wantStatus(t, 200)
		if got, want := string(r.body), `{"NEW_FLAG":true,"READ_USERS":[{"userRoles":["admin"]}]}`; got != want {
			t.Fatalf("PATCH = %s, want %s", got, want)
		}
		e.do(request{method: "GET", path: "/ping"}).wantStatus(t, 200)

		// Only admins read and change flags.
		get := e.do(request{method: "GET", path: "/api/admin/feature_flags", token: admin.AccessToken})
		get.wantStatus(t, 200)
		if string(get.body) != string(r.body) {
			t.Errorf("GET = %s, want %s", get.body, r.body)
		}
		e.do(request{method: "GET", path: "/api/admin/feature_flags", token: jane.AccessToken}).wantError(t, 403, "forbidden")
		patchFlags(jane.AccessToken, request{json: map[string]any{"remove": []string{"READ_USERS"}}}).wantError(t, 403, "forbidden")
		patchFlags("", request{json: map[string]any{}}).wantError(t, 401, "not_authenticated")

		// Bad changes are 422.
		for _, body := range []any{
			map[string]any{"add": map[string]any{"X": "yes"}},
			map[string]any{"add": map[string]any{"X": []any{map[string]any{"percentageOfUsers": 2}}}},
			map[string]any{"add": []string{"X"}},
			map[string]any{"remove": 3},
		} {
			patchFlags(admin.AccessToken, request{json: body}).wantError(t, 422, "invalid_request")
		}
		patchFlags(admin.AccessToken, request{form: url.Values{"add": {"{not json"}}}).wantError(t, 422, "invalid_request")

		// Every change is audited with the admin as actor.
		entries, err := e.m.Store().Audit(context.Background(), usermgmt.AuditQuery{Actions: []string{usermgmt.AuditFlagsChanged}})
		if err != nil || len(entries) != 3 || entries[0].ActorUUID != admin.uuid {
			t.Fatalf("audit = %v, %v", entries, err)
		}
	})
}

func TestFeatureFlagsOffByDefault(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{})
	if _, err := e.m.UpdateFeatureFlags(context.Background(), "", usermgmt.FlagChange{Add: usermgmt.FlagSet{"_PING": usermgmt.BoolFlag(false)}}); err != nil {
		t.Fatal(err)
	}
	e.do(request{method: "GET", path: "/ping"}).wantStatus(t, 200)
}

func TestFeatureFlagMiddleware(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{})
	admin := e.user("admin_user", usermgmt.RoleAdmin)
	plain := e.user("plain_user")
	if _, err := e.m.UpdateFeatureFlags(context.Background(), "", usermgmt.FlagChange{Add: usermgmt.FlagSet{
		"DASHBOARD": usermgmt.RuleFlag(usermgmt.FlagRule{UserRoles: []string{usermgmt.RoleAdmin}}),
		"CLOSED":    usermgmt.BoolFlag(false),
	}}); err != nil {
		t.Fatal(err)
	}
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(204) })
	mux := http.NewServeMux()
	mux.Handle("GET /dashboard", httpadapter.RequireAuth(e.m)(httpadapter.FeatureFlag(e.m, "DASHBOARD")(ok)))
	mux.Handle("GET /closed", httpadapter.FeatureFlag(e.m, "CLOSED")(ok))
	mux.Handle("GET /open", httpadapter.FeatureFlag(e.m, "NOT_SET")(ok))
	do := func(path, token string) result {
		return serve(t, mux, request{method: "GET", path: path, token: token}.build(t))
	}
	do("/dashboard", admin.AccessToken).wantStatus(t, 204)
	do("/dashboard", plain.AccessToken).wantError(t, 403, "feature_disabled")
	do("/dashboard", "").wantError(t, 401, "not_authenticated")
	do("/closed", admin.AccessToken).wantError(t, 403, "feature_disabled")
	do("/open", "").wantStatus(t, 204)
}
