package httpadapter_test

import (
	"net/http"
	"runtime"
	"slices"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/httpadapter/swaggerui"
)

func TestRootRoutes(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{Version: "1.2.3"})
	r := e.do(request{method: "GET", path: "/ping"})
	r.wantStatus(t, 200)
	if string(r.body) != `"pong"` || r.header.Get("Content-Type") != "application/json" {
		t.Fatalf("ping = %s (%s)", r.body, r.header.Get("Content-Type"))
	}
	r = e.do(request{method: "GET", path: "/version"})
	r.wantStatus(t, 200)
	if got, want := string(r.body), `{"Project_Version":"1.2.3","Go_Version":"`+runtime.Version()+`"}`; got != want {
		t.Fatalf("version = %s, want %s", got, want)
	}

	// Without Options.Version, the build info's (a test binary: "(devel)").
	e = newEnv(t, backends[0].dsn(t), httpadapter.Options{})
	v := e.do(request{method: "GET", path: "/version"}).object(t)
	if v["Project_Version"] == "" || v["Go_Version"] != runtime.Version() {
		t.Fatalf("version = %v", v)
	}
}

func TestRouting(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{})
	tests := []struct {
		method, path string
		status       int
		code         string
		allow        string
	}{
		{"GET", "/nope", 404, "not_found", ""},
		{"GET", "/api/nope", 404, "not_found", ""},
		{"GET", "/api/user/me/extra", 404, "not_found", ""},
		{"POST", "/ping/", 404, "not_found", ""},
		{"DELETE", "/api/auth/login", 405, "method_not_allowed", "POST"},
		{"POST", "/api/user/me", 405, "method_not_allowed", "GET, HEAD, PATCH, DELETE"}, // {uuid} matches "me"
		{"POST", "/api/auth/token/validate", 405, "method_not_allowed", "GET, HEAD"},
		{"PUT", "/api/user/00000000-0000-4000-8000-000000000000", 405, "method_not_allowed", "PATCH, DELETE"},
		{"GET", "/api/admin/ban/x", 405, "method_not_allowed", "POST"},
		{"OPTIONS", "/ping", 405, "method_not_allowed", "GET, HEAD"},
	}
	for _, tt := range tests {
		t.Run(tt.method+" "+tt.path, func(t *testing.T) {
			r := e.do(request{method: tt.method, path: tt.path})
			r.wantError(t, tt.status, tt.code)
			if got := r.header.Get("Allow"); got != tt.allow {
				t.Fatalf("Allow = %q, want %q", got, tt.allow)
			}
		})
	}
	if r := e.do(request{method: "GET", path: "/nope"}); string(r.body) != `{"detail":"Not Found","code":"not_found"}` {
		t.Fatalf("404 body = %s", r.body)
	}
	// The reference's trailing-slash redirect (FastAPI answers 307 too).
	r := e.do(request{method: "GET", path: "/api/user"})
	if r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != "/api/user/" {
		t.Fatalf("GET /api/user = %d %q", r.status, r.header.Get("Location"))
	}
	// HEAD is GET without a body.
	if r := e.do(request{method: "HEAD", path: "/ping"}); r.status != 200 {
		t.Fatalf("HEAD /ping = %s", r)
	}
}

func TestPrefix(t *testing.T) {
	for _, prefix := range []string{"/v1", "v1/", "/v1/"} {
		e := newEnv(t, backends[0].dsn(t), httpadapter.Options{Prefix: prefix})
		tk := e.do(request{method: "POST", path: "/v1/auth/register", json: map[string]string{
			"username": "prefix_user", "email": "p@example.com", "password": password, "confirm_password": password,
		}}).tokens(t)
		r := e.do(request{method: "GET", path: "/v1/user/me", token: tk.AccessToken})
		r.wantStatus(t, 200)
		if u := r.object(t); !strings.HasPrefix(u["picture_url"].(string), baseURL+"/v1/user/") {
			t.Fatalf("picture_url = %v", u["picture_url"])
		}
		e.do(request{method: "GET", path: "/api/user/me", token: tk.AccessToken}).wantError(t, 404, "not_found")
		e.do(request{method: "GET", path: "/ping"}).wantStatus(t, 200)
	}
}

func TestRouteTable(t *testing.T) {
	routes := httpadapter.Routes(httpFeatures()...)
	wantFlags := []string{
		"LOGIN", "LOGOUT", "REGISTER", "VALIDATE_TOKEN", "READ_USERS_ME", "READ_USER", "READ_USERS",
		"READ_USERS_LIST", "READ_USERS_NUMBER", "NEW_USER", "PATCH_USER", "REMOVE_USER", "BAN_USER",
		"UNBAN_USER", "_PING", "_VERSION", "REFRESH_TOKEN", "READ_SESSIONS", "REVOKE_SESSION",
		// account security
		"LOGIN_OTP", "CHANGE_OTP_METHOD", "GET_OTP_QR", "OTP_SETUP", "SEND_EMAIL_OTP", "VERIFY_EMAIL",
		"RESEND_VERIFICATION", "FORGOT_PASSWORD_REQUEST", "FORGOT_PASSWORD_REQUEST_GET", "FORGOT_PASSWORD_RESET", "FORGOT_PASSWORD_RESET_GET",
		"CHANGE_PASSWORD", "RESET_PASSWORD_RESET", "REQUEST_PASSWORD_REQUEST",
		// files
		"NEW_USER_IMAGE", "READ_USER_IMAGE", "DELETE_USER_IMAGE", "NEW_USER_FILE", "NEW_FILE", "READ_FILES",
		"READ_FILES_LIST", "READ_FILES_NUMBER", "READ_FILE", "READ_FILE_FILE", "PATCH_FILE", "REMOVE_FILE",
		// third-party login
		"OAUTH_LOGIN", "OAUTH_CALLBACK", "OAUTH_LINK", "OAUTH_LINK_URL", "OAUTH_UNLINK", "OAUTH_REVOKE",
		"READ_FEATURE_FLAGS", "UPDATE_FEATURE_FLAGS",
		// issue 7
		"READ_BLOCKED_USERS", "BLOCK_USERS", "UPDATE_BLOCKED_USERS", "DELETE_BLOCKED_USERS", "READ_AUDIT",
		"DB_EXPORT", "DB_IMPORT", "DB_RECOVER", "READ_USERS_ME_EXPORT", "_OPENAPI", "_REDOC_HTML",
		"_DOCS_ASSET", "_CUSTOM_SWAGGER_UI_HTML", "REDIRECT_URI",
		"SEND_EMAIL_SINGLE", "SEND_EMAIL_MULTIPLE", "SEND_EMAIL_ALL", "TEST_EMAIL", "OTP_EMAIL",
		"RESET_PASSWORD_EMAIL", "VALIDATION_EMAIL",
		// issue 15
		"UNLOCK_USER",
		// issue 17
		"_JWKS", "_OPENID_CONFIGURATION",
		// issue 19: readiness
		"_READY",
	}
	// The pages keep the reference's flags, which their form posts and
	// aliases (/signin, /signup) share.
	wantPageFlags := []string{"_404", "_INDEX", "_TERMS", "_PRIVACY", "_SUPPORT", "_LOGIN", "_SIGNUP", "_LOGOUT",
		"_FAVICON", "_LOGO", "_EMAIL_VERIFIED", "_PAGE_ASSET", "_LOGIN_OAUTH", "_OTP", "_FORGOT_PASSWORD_REQUEST",
		"_FORGOT_PASSWORD_RESET", "_RESET_PASSWORD_REQUEST", "_RESET_PASSWORD_RESET",
		// issue 15 item 10: the account page
		"_ACCOUNT"}
	var flags, pageFlags []string
	seen := map[string]bool{}
	for _, r := range routes {
		if r.Page {
			if !strings.HasPrefix(r.Flag, "_") || !r.Root || r.Auth {
				t.Errorf("%s %s: a page is a root route with a _FLAG and no Auth: %+v", r.Method, r.Path, r)
			}
			if key := r.Method + " " + r.Path; seen[key] || seen[r.Name] {
				t.Errorf("duplicate route or name: %s %s", key, r.Name)
			}
			seen[r.Method+" "+r.Path], seen[r.Name] = true, true
			if !slices.Contains(pageFlags, r.Flag) {
				pageFlags = append(pageFlags, r.Flag)
			}
			continue
		}
		if r.Summary == "" || r.Name == "" || r.Status == 0 || r.Tag == "" {
			t.Errorf("%s %s is not fully described: %+v", r.Method, r.Path, r)
		}
		if r.Flag != strings.ToUpper(r.Name) {
			t.Errorf("%s %s: flag %q is not the upper-cased name %q", r.Method, r.Path, r.Flag, r.Name)
		}
		key := r.Method + " " + r.Path
		if seen[key] || seen[r.Flag] {
			t.Errorf("duplicate route or flag: %s %s", key, r.Flag)
		}
		seen[key], seen[r.Flag] = true, true
		flags = append(flags, r.Flag)
	}
	slices.Sort(flags)
	slices.Sort(wantFlags)
	if !slices.Equal(flags, wantFlags) {
		t.Fatalf("flags = %v, want %v", flags, wantFlags)
	}
	slices.Sort(pageFlags)
	slices.Sort(wantPageFlags)
	if !slices.Equal(pageFlags, wantPageFlags) {
		t.Fatalf("page flags = %v, want %v", pageFlags, wantPageFlags)
	}
	// The table is fresh data each time.
	routes[0].Path = "/changed"
	if httpadapter.Routes(httpFeatures()...)[0].Path == "/changed" {
		t.Fatal("Routes returns shared data")
	}

	// Every route is served, and exactly the Auth ones need a token.
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{Pages: &httpadapter.PagesOptions{}, SwaggerUI: swaggerui.FS()})
	for _, rt := range httpadapter.Routes(httpFeatures()...) {
		path := strings.NewReplacer("{uuid}", "00000000-0000-4000-8000-000000000000", "{id}", "00000000-0000-4000-8000-000000000000",
			"{file_id}", "1", "{method}", "email").Replace(rt.Path)
		// {file} names an embedded asset: one of the docs' or one of the pages'.
		if strings.HasPrefix(path, "/docs/") {
			path = strings.Replace(path, "{file}", "docs-init.js", 1)
		}
		path = strings.Replace(path, "{file}", "style.css", 1)
		if !rt.Root {
			path = "/api" + path
		}
		q := request{method: rt.Method, path: path}
		switch {
		case slices.Contains(rt.Encodings, "application/json"):
			q.json = map[string]string{"username": "x", "password": "y", "email": "e", "confirm_password": "y", "reason": "r", "refresh_token": "t",
				"old_password": "y", "new_password": "y", "otp_code": "1", "token": "t"}
		case rt.Encodings != nil: // uploads: multipart only
			q.multipart = map[string][]string{"description": {"d"}}
		}
		r := e.do(q)
		if r.status == 404 && strings.Contains(string(r.body), `"not_found"`) || r.status == 405 {
			t.Errorf("%s %s is not served: %s", rt.Method, path, r)
		}
		if got := r.status == 401 && strings.Contains(string(r.body), "not_authenticated"); got != rt.Auth {
			t.Errorf("%s %s: Auth = %v but the anonymous answer is %s", rt.Method, path, rt.Auth, r)
		}
		if r.status >= 500 {
			t.Errorf("%s %s: %s", rt.Method, path, r)
		}

		// The route takes exactly the encodings the table says.
		if rt.Encodings == nil {
			continue
		}
		for _, ct := range []string{"application/json", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/xml"} {
			body := map[string]string{"application/json": "{}", "application/xml": "<a/>"}[ct]
			if strings.HasPrefix(ct, "multipart") {
				body = "--x--\r\n"
			}
			r := e.do(request{method: rt.Method, path: path, raw: body, contentType: ct})
			listed := slices.Contains(rt.Encodings, strings.Split(ct, ";")[0])
			if got := r.status == 415; got == listed {
				t.Errorf("%s %s with %s: %s (listed: %v)", rt.Method, path, ct, r, listed)
			}
		}
	}
}
