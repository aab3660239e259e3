package passkey_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/passkey"
	"github.com/usermgmt/usermgmt/passkey/internal/softauthn"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// browser is a client of the hosted pages without a script engine: what
// the pages' script does (the API's begin, the authenticator) the test
// does by hand, then it posts the page form as the script would.
type browser struct {
	t    *testing.T
	c    *http.Client
	base string
}

type reply struct {
	status int
	header http.Header
	body   string
}

func newBrowser(t *testing.T, h http.Handler) *browser {
	t.Helper()
	srv := httptest.NewTLSServer(h)
	t.Cleanup(srv.Close)
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	c := srv.Client()
	c.Jar = jar
	c.CheckRedirect = func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }
	return &browser{t: t, c: c, base: srv.URL}
}

func (b *browser) do(method, path, ctype string, body io.Reader, header map[string]string) reply {
	b.t.Helper()
	req, err := http.NewRequest(method, b.base+path, body)
	if err != nil {
		b.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	res, err := b.c.Do(req)
	if err != nil {
		b.t.Fatal(err)
	}
	defer res.Body.Close()
	raw, _ := io.ReadAll(res.Body)
	return reply{res.StatusCode, res.Header, string(raw)}
}

func (b *browser) get(path string) reply { b.t.Helper(); return b.do("GET", path, "", nil, nil) }

var csrfField = regexp.MustCompile(`name="csrf_token" value="([^"]+)"`)

// post submits form to path with the token of the page at from.
func (b *browser) post(from, path string, form url.Values) reply {
	b.t.Helper()
	m := csrfField.FindStringSubmatch(b.get(from).body)
	if m == nil {
		b.t.Fatalf("no form token on %s", from)
	}
	form.Set("csrf_token", m[1])
	return b.do("POST", path, "application/x-www-form-urlencoded", strings.NewReader(form.Encode()), nil)
}

func (b *browser) cookie(name string) string {
	u, _ := url.Parse(b.base)
	for _, c := range b.c.Jar.Cookies(u) {
		if c.Name == name {
			return c.Value
		}
	}
	return ""
}

// begin is the script's call of a begin route, with the session's CSRF
// header as the script sends it.
func (b *browser) begin(path string) (json.RawMessage, string) {
	b.t.Helper()
	r := b.do("POST", path, "", nil, map[string]string{"X-CSRF-Token": b.cookie(httpadapter.CSRFCookie)})
	var v struct {
		PublicKey json.RawMessage `json:"publicKey"`
		Ceremony  string          `json:"ceremony"`
	}
	if r.status != 200 || json.Unmarshal([]byte(r.body), &v) != nil {
		b.t.Fatalf("%s: %d %s", path, r.status, r.body)
	}
	return v.PublicKey, v.Ceremony
}

func (r reply) want(t *testing.T, status int, parts ...string) reply {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.body)
	}
	for _, p := range parts {
		if !strings.Contains(r.body, p) {
			t.Fatalf("lacks %q:\n%s", p, r.body)
		}
	}
	return r
}

func (r reply) wantRedirect(t *testing.T, location string) {
	t.Helper()
	if r.status != http.StatusSeeOther || r.header.Get("Location") != location {
		t.Fatalf("%d to %q, want 303 to %q: %s", r.status, r.header.Get("Location"), location, r.body)
	}
}

func (r reply) wantPage(t *testing.T, status int, parts ...string) {
	t.Helper()
	r.want(t, status, parts...)
	if ct := r.header.Get("Content-Type"); ct != "text/html; charset=utf-8" {
		t.Fatalf("Content-Type %q: %s", ct, r.body)
	}
}

var passkeyID = regexp.MustCompile(`name="id" value="([^"]+)"`)

// TestPasskeyPages: with the passkey feature the login page offers a
// passkey sign-in whose finish opens the page session, and the account
// page adds, renames and removes passkeys (issue 16 item 5).
func TestPasskeyPages(t *testing.T) {
	st, err := anydb.Open(context.Background(), "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := &clock{t: time.Now()}
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: origin,
		BcryptCost: 4, DataDir: t.TempDir(), Clock: c.Now}, usermgmt.WithFeature(passkey.New(passkey.Config{})))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	h := httpadapter.New(m, httpadapter.Options{Prefix: "/api", Pages: &httpadapter.PagesOptions{}})
	if _, err := m.CreateUser(context.Background(), usermgmt.NewUser{Username: "pk_page", Email: "pk_page@example.com", Password: "Secret-pass-123"}); err != nil {
		t.Fatal(err)
	}
	auth := softauthn.New(origin)
	auth.UV = true

	// The login page offers passkeys, in the button and the autofill.
	b := newBrowser(t, h)
	b.get("/login").want(t, 200, "Sign in with a passkey", `action="/login/passkey"`, `data-begin="/api/auth/passkeys/login/begin"`,
		`autocomplete="username webauthn"`, `src="/pages/passkey.js?v=`)
	b.post("/login", "/login", url.Values{"username": {"pk_page"}, "password": {"Secret-pass-123"}}).wantRedirect(t, "/login")

	// Add: the API's begin, the authenticator, the page form.
	b.get("/account").want(t, 200, "Passkeys</h2>", "No passkey yet", `data-begin="/api/auth/passkeys/register/begin"`)
	opts, cer := b.begin("/api/auth/passkeys/register/begin")
	cred, err := auth.Create(opts)
	if err != nil {
		t.Fatal(err)
	}
	b.post("/account", "/account/passkeys", url.Values{"ceremony": {cer}, "credential": {string(cred)}, "name": {"Laptop"}}).
		wantRedirect(t, "/account?done=passkey-added")
	p := b.get("/account?done=passkey-added").want(t, 200, "Your passkey has been added.", "<strong>Laptop</strong>", "last used never")
	id := passkeyID.FindStringSubmatch(p.body)
	if id == nil {
		t.Fatalf("no passkey id:\n%s", p.body)
	}
	// The same ceremony again: the feature's 400, as a page.
	b.post("/account", "/account/passkeys", url.Values{"ceremony": {cer}, "credential": {string(cred)}}).wantPage(t, 400, `role="alert"`)
	b.post("/account", "/account/passkeys", url.Values{"ceremony": {cer}}).wantPage(t, 422, "No passkey was received.")

	// Rename, and a bad name.
	b.post("/account", "/account/passkeys/rename", url.Values{"id": {id[1]}, "name": {"Work laptop"}}).wantRedirect(t, "/account?done=passkey-renamed")
	b.get("/account").want(t, 200, "<strong>Work laptop</strong>")
	b.post("/account", "/account/passkeys/rename", url.Values{"id": {id[1]}, "name": {"bad\x00name"}}).wantPage(t, 422)

	// Sign in with it from another browser: the page session, no token
	// in the answer.
	other := newBrowser(t, h)
	other.get("/login")
	opts, cer = other.begin("/api/auth/passkeys/login/begin")
	assertion, err := auth.Get(opts)
	if err != nil {
		t.Fatal(err)
	}
	r := other.post("/login", "/login/passkey", url.Values{"ceremony": {cer}, "credential": {string(assertion)}, "redirect_uri": {"/account"}})
	r.wantRedirect(t, "/account")
	if strings.Contains(r.body, "access_token") || other.cookie(httpadapter.SessionCookie) == "" {
		t.Fatalf("passkey sign-in: body %q, session cookie %q", r.body, other.cookie(httpadapter.SessionCookie))
	}
	other.get("/account").want(t, 200, "pk_page@example.com", "last used ")
	// Replayed, or without a credential: the login page with the error.
	other.post("/login", "/login/passkey", url.Values{"ceremony": {cer}, "credential": {string(assertion)}}).wantPage(t, 400, `role="alert"`)
	other.post("/login", "/login/passkey", url.Values{}).wantPage(t, 422, "No passkey was received.")

	// Without user verification, an account with a second factor goes on
	// to /otp, as after its password; the code ends the login.
	u2, err := m.CreateUser(context.Background(), usermgmt.NewUser{Username: "pk_otp", Email: "pk_otp@example.com", Password: "Secret-pass-123"})
	if err != nil {
		t.Fatal(err)
	}
	setup, err := m.SetupOTP(context.Background(), u2.UUID)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		c, err := totp.GenerateCode(setup.Secret, m.Config().Clock())
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	if _, _, err := m.ChangeOTPMethod(context.Background(), u2.UUID, usermgmt.OTPAuthenticator, code(), ""); err != nil {
		t.Fatal(err)
	}
	tok, err := m.OpenSession(context.Background(), u2)
	if err != nil {
		t.Fatal(err)
	}
	noUV := softauthn.New(origin)
	e := &env{t: t, m: m, h: h, clock: c}
	if a := e.register(noUV, tok.AccessToken, "Key"); a.status != http.StatusCreated {
		t.Fatalf("register: %d %s", a.status, a.body)
	}
	third := newBrowser(t, h)
	third.get("/login")
	opts, cer = third.begin("/api/auth/passkeys/login/begin")
	if assertion, err = noUV.Get(opts); err != nil {
		t.Fatal(err)
	}
	third.post("/login", "/login/passkey", url.Values{"ceremony": {cer}, "credential": {string(assertion)}}).wantRedirect(t, "/otp?method=authenticator")
	if third.cookie(httpadapter.SessionCookie) != "" {
		t.Fatal("a session before the second step")
	}
	c.Add(30 * time.Second) // a code is taken once per step
	third.post("/otp?method=authenticator", "/otp", url.Values{"otp_code": {code()}}).wantRedirect(t, "/login")
	third.get("/account").want(t, 200, "pk_otp@example.com")

	// Remove: the account has a password, so its only passkey can go.
	b.post("/account", "/account/passkeys/remove", url.Values{"id": {id[1]}}).wantRedirect(t, "/account?done=passkey-removed")
	b.get("/account").want(t, 200, "No passkey yet")
	b.post("/account", "/account/passkeys/remove", url.Values{"id": {id[1]}}).wantPage(t, 404)
}
