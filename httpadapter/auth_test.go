package httpadapter_test

import (
	"context"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"
)

func TestRegister(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.register("taken_user")
		fields := func(username, email, pw, confirm string) map[string]string {
			return map[string]string{"username": username, "email": email, "password": pw, "confirm_password": confirm}
		}
		asForm := func(m map[string]string) url.Values {
			v := url.Values{}
			for k, s := range m {
				v.Set(k, s)
			}
			return v
		}
		ok := fields("new_user", "new@example.com", password, password)
		tests := []struct {
			name   string
			req    request
			status int
			code   string
			detail string
		}{
			{name: "json", req: request{json: ok}, status: 200},
			{name: "form", req: request{form: asForm(fields("form_user", "form@example.com", password, password))}, status: 200},
			{name: "multipart", req: request{multipart: asForm(fields("multi_user", "multi@example.com", password, password))}, status: 200},
			{name: "json with display name", req: request{json: map[string]string{
				"username": "shown_user", "email": "shown@example.com", "password": password, "confirm_password": password, "display_name": "Shown User",
			}}, status: 200},
			{name: "passwords differ", req: request{form: asForm(fields("other_user", "o@example.com", password, password+"x"))}, status: 400, code: "password_mismatch", detail: "Passwords do not match"},
			{name: "weak password", req: request{json: fields("other_user", "o@example.com", "short", "short")}, status: 400, code: "weak_password"},
			{name: "bad username", req: request{json: fields("No", "o@example.com", password, password)}, status: 400, code: "invalid_username"},
			{name: "bad email", req: request{json: fields("other_user", "not-an-email", password, password)}, status: 400, code: "invalid_email"},
			{name: "bad display name", req: request{json: map[string]string{
				"username": "other_user", "email": "o@example.com", "password": password, "confirm_password": password, "display_name": "Someone Else",
			}}, status: 400, code: "invalid_display_name"},
			{name: "username taken", req: request{json: fields("taken_user", "fresh@example.com", password, password)}, status: 409, code: "username_taken"},
			{name: "email taken (other case)", req: request{form: asForm(fields("fresh_user", "TAKEN_USER@EXAMPLE.COM", password, password))}, status: 409, code: "email_taken"},
			{name: "missing confirm_password", req: request{json: map[string]string{"username": "other_user", "email": "o@example.com", "password": password}}, status: 422, code: "invalid_request"},
			{name: "empty form field", req: request{form: asForm(fields("", "o@example.com", password, password))}, status: 422, code: "invalid_request"},
			{name: "wrong JSON type", req: request{json: map[string]any{"username": 12345, "email": "o@example.com", "password": password, "confirm_password": password}}, status: 422, code: "invalid_request"},
			{name: "malformed JSON", req: request{raw: `{"username":`, contentType: "application/json"}, status: 422, code: "invalid_request"},
			{name: "JSON array", req: request{raw: `["a"]`, contentType: "application/json"}, status: 422, code: "invalid_request"},
			{name: "JSON null", req: request{raw: `null`, contentType: "application/json"}, status: 422, code: "invalid_request"},
			{name: "malformed form", req: request{raw: "username=%zz", contentType: "application/x-www-form-urlencoded"}, status: 422, code: "invalid_request"},
			{name: "no body", req: request{}, status: 422, code: "invalid_request"},
			{name: "text body", req: request{raw: "hello", contentType: "text/plain"}, status: 415, code: "unsupported_media_type"},
			{name: "oversized", req: request{raw: `{"username":"` + strings.Repeat("a", 2<<20) + `"}`, contentType: "application/json"}, status: 413, code: "request_too_large"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.req.method, tt.req.path = "POST", "/api/auth/register"
				r := e.do(tt.req)
				if tt.status == 200 {
					tk := r.tokens(t)
					if tk.ExpiresIn != 900 {
						t.Errorf("expires_in = %d, want 900", tk.ExpiresIn)
					}
					e.whoami(tk.AccessToken)
					return
				}
				detail := r.wantError(t, tt.status, tt.code)
				if tt.detail != "" && detail != tt.detail {
					t.Errorf("detail = %q, want %q", detail, tt.detail)
				}
			})
		}
	})
}

// TestRegisterOversizedStream sends a body over the limit without a
// Content-Length: the limit trips while reading.
func TestRegisterOversizedStream(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapterOptions(1024))
	r := (request{method: "POST", path: "/api/auth/register", raw: `{"username":"` + strings.Repeat("a", 4096) + `"}`, contentType: "application/json"}).build(t)
	r.ContentLength = -1
	serve(t, e.h, r).wantError(t, 413, "request_too_large")
}

func TestRegisterConcurrentSameUsername(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		const n = 20
		statuses := make([]int, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Go(func() {
				r := e.do(request{method: "POST", path: "/api/auth/register", json: map[string]string{
					"username": "race_user", "email": "race" + string(rune('a'+i)) + "@example.com",
					"password": password, "confirm_password": password,
				}})
				statuses[i] = r.status
				if r.status == 409 {
					r.wantError(t, 409, "username_taken")
				}
			})
		}
		wg.Wait()
		count := map[int]int{}
		for _, s := range statuses {
			count[s]++
		}
		if count[200] != 1 || count[409] != n-1 {
			t.Fatalf("statuses %v, want one 200 and %d 409", count, n-1)
		}
		if c, err := e.m.CountUsers(context.Background()); err != nil || c != 1 {
			t.Fatalf("CountUsers = %d, %v; want 1", c, err)
		}
	})
}

func TestLogin(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		a := e.register("login_user")
		tests := []struct {
			name   string
			req    request
			status int
			code   string
		}{
			{name: "form", req: request{form: url.Values{"grant_type": {"password"}, "username": {a.username}, "password": {password}}}, status: 200},
			{name: "form by email", req: request{form: url.Values{"grant_type": {"password"}, "username": {"Login_User@Example.com"}, "password": {password}}}, status: 200},
			{name: "form without grant_type", req: request{form: url.Values{"username": {a.username}, "password": {password}}}, status: 200},
			{name: "form with ignored OAuth2 fields", req: request{form: url.Values{"grant_type": {"password"}, "username": {a.username}, "password": {password}, "scope": {"x y"}, "client_id": {"c"}, "client_secret": {"s"}}}, status: 200},
			{name: "multipart", req: request{multipart: url.Values{"username": {a.username}, "password": {password}}}, status: 200},
			{name: "json", req: request{json: map[string]string{"username": a.username, "password": password}}, status: 200},
			{name: "other grant_type", req: request{form: url.Values{"grant_type": {"client_credentials"}, "username": {a.username}, "password": {password}}}, status: 400, code: "unsupported_grant_type"},
			{name: "wrong password", req: request{form: url.Values{"username": {a.username}, "password": {"Wr0ng!pass"}}}, status: 401, code: "invalid_credentials"},
			{name: "unknown user", req: request{json: map[string]string{"username": "nobody_here", "password": password}}, status: 401, code: "invalid_credentials"},
			{name: "missing password", req: request{form: url.Values{"username": {a.username}}}, status: 422, code: "invalid_request"},
			{name: "number password", req: request{json: map[string]any{"username": a.username, "password": 1234567890}}, status: 422, code: "invalid_request"},
			{name: "text body", req: request{raw: "username=x", contentType: "text/plain"}, status: 415, code: "unsupported_media_type"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				tt.req.method, tt.req.path = "POST", "/api/auth/login"
				r := e.do(tt.req)
				if tt.status == 200 {
					if got := e.whoami(r.tokens(t).AccessToken); got != a.uuid {
						t.Fatalf("logged in as %s, want %s", got, a.uuid)
					}
					return
				}
				r.wantError(t, tt.status, tt.code)
			})
		}
	})
}

// sameResponse fails unless a and b are byte-identical (the Date header
// aside).
func sameResponse(t *testing.T, a, b result) {
	t.Helper()
	if a.status != b.status || string(a.body) != string(b.body) {
		t.Fatalf("responses differ:\n%s\n%s", a, b)
	}
	ha, hb := a.header.Clone(), b.header.Clone()
	ha.Del("Date")
	hb.Del("Date")
	if len(ha) != len(hb) {
		t.Fatalf("headers differ:\n%v\n%v", ha, hb)
	}
	for k := range ha {
		if strings.Join(ha[k], "\n") != strings.Join(hb[k], "\n") {
			t.Fatalf("header %s differs: %q vs %q", k, ha[k], hb[k])
		}
	}
}

func TestLoginUnknownUserAndWrongPasswordIdentical(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		e.register("known_user")
		login := func(username, pw string) result {
			return e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"grant_type": {"password"}, "username": {username}, "password": {pw}}})
		}
		wrong := login("known_user", "Wr0ng!pass")
		unknown := login("unknown_user", "Wr0ng!pass")
		wrong.wantError(t, 401, "invalid_credentials")
		sameResponse(t, wrong, unknown)
		sameResponse(t, wrong, login("known_user@example.com", "Wr0ng!pass"))
		sameResponse(t, wrong, login("unknown@example.com", "Wr0ng!pass"))
	})
}

func TestRefresh(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		a := e.register("refresh_user")
		refresh := func(q request) result {
			q.method, q.path = "POST", "/api/auth/refresh"
			return e.do(q)
		}

		// JSON, then the OAuth2 form, each rotating the token.
		t1 := refresh(request{json: map[string]string{"refresh_token": a.RefreshToken}}).tokens(t)
		if t1.RefreshToken == a.RefreshToken {
			t.Fatal("refresh token not rotated")
		}
		if e.whoami(t1.AccessToken) != a.uuid {
			t.Fatal("new access token is not the user's")
		}
		t2 := refresh(request{form: url.Values{"grant_type": {"refresh_token"}, "refresh_token": {t1.RefreshToken}}}).tokens(t)

		// Errors.
		refresh(request{form: url.Values{"grant_type": {"password"}, "refresh_token": {t2.RefreshToken}}}).wantError(t, 400, "unsupported_grant_type")
		refresh(request{json: map[string]string{"refresh_token": "garbage"}}).wantError(t, 401, "invalid_token")
		refresh(request{json: map[string]string{}}).wantError(t, 422, "invalid_request")
		refresh(request{json: map[string]int{"refresh_token": 1}}).wantError(t, 422, "invalid_request")

		// Within the grace window the previous token yields the same
		// successor.
		t3 := refresh(request{json: map[string]string{"refresh_token": t2.RefreshToken}}).tokens(t)
		again := refresh(request{json: map[string]string{"refresh_token": t2.RefreshToken}}).tokens(t)
		if again.RefreshToken != t3.RefreshToken {
			t.Fatal("reuse within the grace window gave another successor")
		}

		// After it, reuse is theft: 401, and the session is dead.
		e.clock.Advance(3 * time.Second)
		refresh(request{json: map[string]string{"refresh_token": t2.RefreshToken}}).wantError(t, 401, "session_revoked")
		refresh(request{json: map[string]string{"refresh_token": t3.RefreshToken}}).wantError(t, 401, "session_revoked")
		e.do(request{method: "GET", path: "/api/user/me", token: t3.AccessToken}).wantError(t, 401, "session_revoked")
	})
}

func TestLogout(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		a := e.register("logout_user")
		other := e.login(a.username)

		e.do(request{method: "POST", path: "/api/auth/logout"}).wantError(t, 401, "not_authenticated")
		e.do(request{method: "POST", path: "/api/auth/logout", token: "not.a.jwt"}).wantError(t, 401, "invalid_token")

		r := e.do(request{method: "POST", path: "/api/auth/logout", token: a.AccessToken})
		r.wantStatus(t, 200)
		if string(r.body) != "logout_user | Logged out" || !strings.HasPrefix(r.header.Get("Content-Type"), "text/plain") {
			t.Fatalf("logout = %q (%s)", r.body, r.header.Get("Content-Type"))
		}
		e.do(request{method: "GET", path: "/api/user/me", token: a.AccessToken}).wantError(t, 401, "session_revoked")
		e.do(request{method: "POST", path: "/api/auth/logout", token: a.AccessToken}).wantError(t, 401, "session_revoked")
		e.do(request{method: "POST", path: "/api/auth/refresh", json: map[string]string{"refresh_token": a.RefreshToken}}).wantError(t, 401, "session_revoked")
		// The other session lives on.
		e.whoami(other.AccessToken)
	})
}

func TestValidateToken(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		a := e.register("valid_user")
		tests := []struct {
			name   string
			auth   string
			status int
			code   string
		}{
			{"bearer", "Bearer " + a.AccessToken, 200, ""},
			{"scheme in another case", "bEaReR " + a.AccessToken, 200, ""},
			{"extra spaces", "  Bearer   " + a.AccessToken + " ", 200, ""},
			{"missing", "", 401, "not_authenticated"},
			{"other scheme", "Basic dXNlcjpwdw==", 401, "not_authenticated"},
			{"scheme only", "Bearer", 401, "not_authenticated"},
			{"garbage token", "Bearer abc.def.ghi", 401, "invalid_token"},
			{"two tokens", "Bearer " + a.AccessToken + " " + a.AccessToken, 401, "invalid_token"},
			{"tampered token", "Bearer " + a.AccessToken[:len(a.AccessToken)-2] + "xx", 401, "invalid_token"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := e.do(request{method: "GET", path: "/api/auth/token/validate", header: map[string]string{"Authorization": tt.auth}})
				if tt.status != 200 {
					r.wantError(t, tt.status, tt.code)
					return
				}
				r.wantStatus(t, 200)
				if string(r.body) != "ValidToken | "+a.uuid {
					t.Fatalf("body = %q", r.body)
				}
			})
		}
		// An expired token.
		e.clock.Advance(16 * time.Minute)
		e.do(request{method: "GET", path: "/api/auth/token/validate", token: a.AccessToken}).wantError(t, 401, "invalid_token")
	})
}

func TestSessions(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		a := e.register("session_user")
		b := e.register("other_session_user")
		e.clock.Advance(time.Minute)
		second := e.do(request{method: "POST", path: "/api/auth/login", header: map[string]string{"User-Agent": "test-agent/1.0"},
			form: url.Values{"username": {a.username}, "password": {password}}}).tokens(t)

		type session struct {
			ID         string `json:"id"`
			CreatedAt  int64  `json:"created_at"`
			LastUsedAt int64  `json:"last_used_at"`
			ExpiresAt  int64  `json:"expires_at"`
			IP         string `json:"ip"`
			UserAgent  string `json:"user_agent"`
			Current    bool   `json:"current"`
		}
		list := func(token string) []session {
			r := e.do(request{method: "GET", path: "/api/auth/sessions", token: token})
			r.wantStatus(t, 200)
			var ss []session
			r.decode(t, &ss)
			return ss
		}
		ss := list(second.AccessToken)
		if len(ss) != 2 {
			t.Fatalf("sessions = %+v, want 2", ss)
		}
		// Newest first: the login, which is the current one.
		cur, old := ss[0], ss[1]
		if !cur.Current || old.Current {
			t.Fatalf("current flags wrong: %+v", ss)
		}
		if cur.IP != "192.0.2.1" || cur.UserAgent != "test-agent/1.0" {
			t.Fatalf("client info = %q %q", cur.IP, cur.UserAgent)
		}
		if cur.CreatedAt != e.clock.Now().Unix() || cur.LastUsedAt != cur.CreatedAt || cur.ExpiresAt <= cur.CreatedAt {
			t.Fatalf("times = %+v", cur)
		}

		del := func(id, token string) result {
			return e.do(request{method: "DELETE", path: "/api/auth/sessions/" + id, token: token})
		}
		del(old.ID, "").wantError(t, 401, "not_authenticated")
		del(old.ID, b.AccessToken).wantError(t, 404, "session_not_found") // not b's
		del("not-a-uuid", second.AccessToken).wantError(t, 404, "session_not_found")
		del("00000000-0000-4000-8000-000000000000", second.AccessToken).wantError(t, 404, "session_not_found")
		r := del(old.ID, second.AccessToken)
		r.wantStatus(t, 204)
		if len(r.body) != 0 {
			t.Fatalf("204 with body %q", r.body)
		}
		e.do(request{method: "GET", path: "/api/user/me", token: a.AccessToken}).wantError(t, 401, "session_revoked")
		if ss := list(second.AccessToken); len(ss) != 1 || ss[0].ID != cur.ID {
			t.Fatalf("after revoke: %+v", ss)
		}
		del(old.ID, second.AccessToken).wantError(t, 404, "session_not_found")
	})
}

// TestLogsCarryNoSecrets checks that passwords, tokens and query strings
// never reach the logs.
func TestLogsCarryNoSecrets(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapterOptions(0))
	a := e.register("logged_user")
	e.do(request{method: "GET", path: "/api/user/me?token=" + a.AccessToken, token: a.AccessToken}).wantStatus(t, 200)
	e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {a.username}, "password": {"Wr0ng!pass"}}}).wantStatus(t, 401)
	logs := e.logs.String()
	if !strings.Contains(logs, "path=/api/user/me ") {
		t.Fatalf("no request log line for /api/user/me:\n%s", logs)
	}
	for _, secret := range []string{password, "Wr0ng!pass", a.AccessToken, a.RefreshToken, "?token"} {
		if strings.Contains(logs, secret) {
			t.Fatalf("logs contain %q:\n%s", secret, logs)
		}
	}
}
