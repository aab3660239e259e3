package httpadapter_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/captcha"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// The CAPTCHA feature (package captcha, over the guard seam) tested over
// real HTTP: the handler behind an httptest.Server, each provider's
// siteverify faked by a local server answering in that provider's shape.
// Every API answer is checked against the OpenAPI document.

// fakeSiteverify is a provider's siteverify endpoint: it records the
// forms it gets and answers with answer.
type fakeSiteverify struct {
	srv    *httptest.Server
	mu     sync.Mutex
	forms  []url.Values
	answer func(form url.Values) (status int, body string)
	hang   bool // answer nothing until the request ends
}

// set replaces the answers.
func (f *fakeSiteverify) set(answer func(url.Values) (int, string)) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.answer = answer
}

func newFakeSiteverify(t *testing.T, answer func(url.Values) (int, string)) *fakeSiteverify {
	t.Helper()
	f := &fakeSiteverify{answer: answer}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/x-www-form-urlencoded" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		if err := r.ParseForm(); err != nil {
			http.Error(w, "bad form", http.StatusBadRequest)
			return
		}
		f.mu.Lock()
		f.forms = append(f.forms, r.PostForm)
		answer, hang := f.answer, f.hang
		f.mu.Unlock()
		if hang {
			<-r.Context().Done()
			return
		}
		status, body := answer(r.PostForm)
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = io.WriteString(w, body)
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// calls returns the forms received so far.
func (f *fakeSiteverify) calls() []url.Values {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]url.Values(nil), f.forms...)
}

// The answers of each provider, as their documentation shows them:
// token "good" passes, any other fails.
var providerAnswers = map[string]func(url.Values) (int, string){
	"turnstile": func(f url.Values) (int, string) {
		if f.Get("response") == "good" {
			return 200, `{"success":true,"error-codes":[],"challenge_ts":"2025-03-14T15:09:26.000Z","hostname":"users.example.com","action":"","cdata":""}`
		}
		return 200, `{"success":false,"error-codes":["invalid-input-response"],"messages":[]}`
	},
	"hcaptcha": func(f url.Values) (int, string) {
		if f.Get("response") == "good" {
			return 200, `{"success":true,"challenge_ts":"2025-03-14T15:09:26Z","hostname":"users.example.com","credit":false}`
		}
		return 200, `{"success":false,"error-codes":["invalid-or-already-seen-response"]}`
	},
	"recaptcha": func(f url.Values) (int, string) {
		if f.Get("response") == "good" {
			return 200, `{"success":true,"challenge_ts":"2025-03-14T15:09:26Z","hostname":"users.example.com"}`
		}
		return 200, `{"success":false,"error-codes":["invalid-input-response"]}`
	},
	// v3: the token "good:<action>" scores 0.9 for that action, "low"
	// scores 0.1.
	"recaptcha-v3": func(f url.Values) (int, string) {
		tok := f.Get("response")
		if act, ok := strings.CutPrefix(tok, "good:"); ok {
			return 200, `{"success":true,"score":0.9,"action":"` + act + `","challenge_ts":"2025-03-14T15:09:26Z","hostname":"users.example.com"}`
		}
		if tok == "low" {
			return 200, `{"success":true,"score":0.1,"action":"register","challenge_ts":"2025-03-14T15:09:26Z","hostname":"users.example.com"}`
		}
		return 200, `{"success":false,"error-codes":["invalid-input-response"]}`
	},
}

// captchaEnv is a Manager with the CAPTCHA feature of cfg (its provider's
// VerifyURL pointed at fake), served over real HTTP.
type captchaEnv struct {
	*env
	srv  *httptest.Server
	fake *fakeSiteverify
}

func newCaptchaEnv(t *testing.T, provider string, cfg captcha.Config, opts httpadapter.Options, extra ...usermgmt.Feature) *captchaEnv {
	t.Helper()
	fake := newFakeSiteverify(t, providerAnswers[provider])
	p, err := captcha.ProviderNamed(provider, "test-secret", "test-site-key")
	if err != nil {
		t.Fatal(err)
	}
	p.VerifyURL = fake.srv.URL + "/siteverify"
	cfg.Provider = p
	c, err := captcha.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	e := newEnvWith(t, "sqlite://"+t.TempDir()+"/db.sqlite", baseURL, opts, append([]usermgmt.Feature{c}, extra...)...)
	srv := httptest.NewServer(e.h)
	t.Cleanup(srv.Close)
	return &captchaEnv{env: e, srv: srv, fake: fake}
}

// live sends q over HTTP to the server and records the answer, checking
// its conformance to the OpenAPI document.
func (ce *captchaEnv) live(t *testing.T, q request) result {
	t.Helper()
	built := q.build(t)
	req, err := http.NewRequest(built.Method, ce.srv.URL+built.URL.RequestURI(), built.Body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header = built.Header.Clone()
	res, err := ce.srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	out := result{status: res.StatusCode, header: res.Header, body: body}
	recordAnswer(t, ce.h, q.build(t), out)
	return out
}

// registerBody is a sign-up's JSON body, with a token when tok is set.
func registerBody(username, tok string) map[string]string {
	b := map[string]string{"username": username, "email": username + "@example.com", "password": password, "confirm_password": password}
	if tok != "" {
		b["captcha_token"] = tok
	}
	return b
}

func TestCaptchaProvidersOverHTTP(t *testing.T) {
	for _, provider := range []string{"turnstile", "hcaptcha", "recaptcha", "recaptcha-v3"} {
		t.Run(provider, func(t *testing.T) {
			t.Parallel()
			ce := newCaptchaEnv(t, provider, captcha.Config{Register: true}, httpadapter.Options{})
			good := "good"
			if provider == "recaptcha-v3" {
				good = "good:register"
			}
			// No token: refused before the provider is asked.
			ce.live(t, request{method: "POST", path: "/api/auth/register", json: registerBody("no_token", "")}).
				wantError(t, http.StatusBadRequest, "captcha_failed")
			if n := len(ce.fake.calls()); n != 0 {
				t.Fatalf("the provider was asked %d times without a token", n)
			}
			// A token the provider refuses.
			ce.live(t, request{method: "POST", path: "/api/auth/register", json: registerBody("bad_token", "forged")}).
				wantError(t, http.StatusBadRequest, "captcha_failed")
			if _, err := ce.m.UserByLogin(context.Background(), "bad_token"); err == nil {
				t.Fatal("a refused CAPTCHA created the account")
			}
			// A good token in the body, then in the header of a form.
			ce.live(t, request{method: "POST", path: "/api/auth/register", json: registerBody("body_token", good)}).tokens(t)
			form := url.Values{"username": {"header_token"}, "email": {"header_token@example.com"}, "password": {password}, "confirm_password": {password}}
			ce.live(t, request{method: "POST", path: "/api/auth/register", form: form, header: map[string]string{"X-Captcha-Token": good}}).tokens(t)

			calls := ce.fake.calls()
			if len(calls) != 3 {
				t.Fatalf("siteverify calls = %d, want 3", len(calls))
			}
			for _, f := range calls {
				if f.Get("secret") != "test-secret" || f.Get("remoteip") != "127.0.0.1" || f.Get("response") == "" {
					t.Fatalf("siteverify form = %v", f)
				}
				if (provider == "hcaptcha") != (f.Get("sitekey") == "test-site-key") {
					t.Fatalf("siteverify form = %v: hCaptcha alone gets the site key", f)
				}
			}
			// Login is not guarded by this configuration.
			ce.live(t, request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"body_token"}, "password": {password}}}).tokens(t)
		})
	}
}

func TestCaptchaRecaptchaV3ScoreAndAction(t *testing.T) {
	ce := newCaptchaEnv(t, "recaptcha-v3", captcha.Config{Register: true}, httpadapter.Options{})
	for _, tc := range []struct{ name, tok string }{
		{"low_score", "low"},
		{"other_action", "good:login"},
	} {
		ce.live(t, request{method: "POST", path: "/api/auth/register", json: registerBody(tc.name, tc.tok)}).
			wantError(t, http.StatusBadRequest, "captcha_failed")
	}
	ce.live(t, request{method: "POST", path: "/api/auth/register", json: registerBody("right_action", "good:register")}).tokens(t)
}

func TestCaptchaLoginAfterFailures(t *testing.T) {
	ce := newCaptchaEnv(t, "turnstile", captcha.Config{Login: captcha.AfterFailures(2)}, httpadapter.Options{})
	ce.user("jane_doe")
	login := func(name, pw, tok string) result {
		h := map[string]string{}
		if tok != "" {
			h["X-Captcha-Token"] = tok
		}
		return ce.live(t, request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {name}, "password": {pw}}, header: h})
	}
	// The first failures need no CAPTCHA; the provider is not asked.
	for range 2 {
		login("jane_doe", "wrong-Passw0rd!", "").wantError(t, http.StatusUnauthorized, "invalid_credentials")
	}
	if n := len(ce.fake.calls()); n != 0 {
		t.Fatalf("siteverify asked %d times before the threshold", n)
	}
	// Now the account (and this client) must solve one, even with the
	// right password.
	login("jane_doe", password, "").wantError(t, http.StatusBadRequest, "captcha_failed")
	login("jane_doe", password, "forged").wantError(t, http.StatusBadRequest, "captcha_failed")
	login("jane_doe", password, "good").tokens(t)
	// The client's failures still count: any name from it needs one, an
	// unknown account as a known one (asking reveals nothing).
	login("nobody_here", "wrong-Passw0rd!", "").wantError(t, http.StatusBadRequest, "captcha_failed")
	login("nobody_here", "wrong-Passw0rd!", "good").wantError(t, http.StatusUnauthorized, "invalid_credentials")
}

func TestCaptchaLoginFailuresByName(t *testing.T) {
	// Failures counted per login name come from every client: the same
	// name from another client needs the CAPTCHA too, whether or not the
	// account exists.
	for _, name := range []string{"jane_doe", "ghost_user"} {
		t.Run(name, func(t *testing.T) {
			ce := newCaptchaEnv(t, "hcaptcha", captcha.Config{Login: captcha.AfterFailures(1)},
				httpadapter.Options{TrustedProxies: trustedLoopback()})
			ce.user("jane_doe")
			from := func(ip string, tok string) result {
				h := map[string]string{"X-Forwarded-For": ip}
				if tok != "" {
					h["X-Captcha-Token"] = tok
				}
				return ce.live(t, request{method: "POST", path: "/api/auth/login", json: map[string]string{"username": name, "password": "wrong-Passw0rd!"}, header: h})
			}
			from("203.0.113.1", "").wantError(t, http.StatusUnauthorized, "invalid_credentials")
			from("203.0.113.2", "").wantError(t, http.StatusBadRequest, "captcha_failed")
			from("203.0.113.2", "good").wantError(t, http.StatusUnauthorized, "invalid_credentials")
			// Another name from a third client is free.
			ce.live(t, request{method: "POST", path: "/api/auth/login", json: map[string]string{"username": "other_name", "password": "x"},
				header: map[string]string{"X-Forwarded-For": "203.0.113.3"}}).wantError(t, http.StatusUnauthorized, "invalid_credentials")
		})
	}
}

func TestCaptchaLoginAlways(t *testing.T) {
	ce := newCaptchaEnv(t, "recaptcha", captcha.Config{Login: captcha.AlwaysOnLogin}, httpadapter.Options{})
	if _, err := ce.m.CreateUser(context.Background(), usermgmt.NewUser{Username: "jane_doe", Email: "jane_doe@example.com", Password: password}); err != nil {
		t.Fatal(err)
	}
	ce.live(t, request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"jane_doe"}, "password": {password}}}).
		wantError(t, http.StatusBadRequest, "captcha_failed")
	ce.live(t, request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"jane_doe"}, "password": {password}, "captcha_token": {"good"}}}).tokens(t)
	// A malformed body is the decoder's 422, not the CAPTCHA's 400.
	ce.live(t, request{method: "POST", path: "/api/auth/login", raw: "{", contentType: "application/json"}).
		wantError(t, http.StatusUnprocessableEntity, "invalid_request")
}

func TestCaptchaForgotPassword(t *testing.T) {
	ce := newCaptchaEnv(t, "turnstile", captcha.Config{ForgotPassword: true}, httpadapter.Options{})
	ce.user("jane_doe")
	ce.live(t, request{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{"email": "jane_doe@example.com"}}).
		wantError(t, http.StatusBadRequest, "captcha_failed")
	ok := ce.live(t, request{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{"email": "jane_doe@example.com", "captcha_token": "good"}})
	if ok.status != http.StatusOK {
		t.Fatalf("forgot with a token = %s", ok)
	}
	// The reference's GET form takes the token in its query or header.
	ce.live(t, request{method: "GET", path: "/api/auth/forgot-password/request?email=jane_doe%40example.com"}).
		wantError(t, http.StatusBadRequest, "captcha_failed")
	if r := ce.live(t, request{method: "GET", path: "/api/auth/forgot-password/request?email=jane_doe%40example.com&captcha_token=good"}); r.status != http.StatusOK {
		t.Fatalf("GET forgot with a token = %s", r)
	}
}

func TestCaptchaProviderDown(t *testing.T) {
	for _, tc := range []struct {
		name   string
		answer func(url.Values) (int, string)
	}{
		{"5xx", func(url.Values) (int, string) { return http.StatusBadGateway, `{"error":"upstream"}` }},
		{"not_json", func(url.Values) (int, string) { return http.StatusOK, `<html>maintenance</html>` }},
		{"bad_secret", func(url.Values) (int, string) {
			return http.StatusOK, `{"success":false,"error-codes":["invalid-input-secret"]}`
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			t.Run("closed", func(t *testing.T) {
				ce := newCaptchaEnv(t, "turnstile", captcha.Config{Register: true}, httpadapter.Options{})
				ce.fake.set(tc.answer)
				for _, name := range []string{"closed_one", "closed_two"} {
					r := ce.live(t, request{method: "POST", path: "/api/auth/register", json: registerBody(name, "good")})
					r.wantError(t, http.StatusServiceUnavailable, "captcha_unavailable")
					if r.header.Get("Retry-After") == "" {
						t.Fatal("503 without Retry-After")
					}
				}
				if n := strings.Count(ce.logs.String(), "captcha: the provider cannot be asked"); n != 1 {
					t.Fatalf("%d outage warnings, want 1:\n%s", n, ce.logs)
				}
			})
			t.Run("open", func(t *testing.T) {
				ce := newCaptchaEnv(t, "turnstile", captcha.Config{Register: true, FailOpen: true}, httpadapter.Options{})
				ce.fake.set(tc.answer)
				for _, name := range []string{"open_one", "open_two", "open_three"} {
					ce.live(t, request{method: "POST", path: "/api/auth/register", json: registerBody(name, "good")}).tokens(t)
				}
				if n := strings.Count(ce.logs.String(), "letting requests through (FailOpen)"); n != 1 {
					t.Fatalf("%d fail-open warnings, want 1:\n%s", n, ce.logs)
				}
				// Open is for outages only: a refused token still fails.
				ce.fake.set(providerAnswers["turnstile"])
				ce.live(t, request{method: "POST", path: "/api/auth/register", json: registerBody("open_forged", "forged")}).
					wantError(t, http.StatusBadRequest, "captcha_failed")
			})
		})
	}
}

func TestCaptchaProviderTimeout(t *testing.T) {
	ce := newCaptchaEnv(t, "hcaptcha", captcha.Config{Register: true, Timeout: 200 * time.Millisecond}, httpadapter.Options{})
	ce.fake.mu.Lock()
	ce.fake.hang = true
	ce.fake.mu.Unlock()
	start := time.Now()
	ce.live(t, request{method: "POST", path: "/api/auth/register", json: registerBody("slow_one", "good")}).
		wantError(t, http.StatusServiceUnavailable, "captcha_unavailable")
	if d := time.Since(start); d > 3*time.Second {
		t.Fatalf("the answer took %v with a 200 ms timeout", d)
	}
}

// mailer is a feature with a route that asks for the CAPTCHA
// (Route.Captcha), as emaillogin's link and code requests do.
type mailer struct{}

func (mailer) FeatureName() string                 { return "mailer" }
func (mailer) InitFeature(*usermgmt.Manager) error { return nil }
func (mailer) Schemas() map[string]any {
	return map[string]any{"LinkForm": map[string]any{"type": "object", "properties": map[string]any{"email": map[string]any{"type": "string"}}}}
}

func (mailer) Endpoints() []httpadapter.Endpoint {
	e := httpadapter.Handle(httpadapter.Route{Method: http.MethodPost, Path: "/auth/test-link", Name: "test_link", Flag: "TEST_LINK",
		Tag: "auth", Summary: "Mail a link.", Request: "LinkForm", Encodings: []string{"application/json"}, Status: http.StatusAccepted,
		Captcha: true},
		func(r *http.Request) (string, error) {
			f, err := httpadapter.ReadFields(r, []string{"application/json"})
			if err != nil {
				return "", err
			}
			email := f.Required("email")
			return email, f.Err()
		},
		func(context.Context, *usermgmt.Principal, string) (httpadapter.Response, error) {
			return httpadapter.Text(http.StatusAccepted, "sent"), nil
		})
	e.Input = httpadapter.Input{Body: "LinkForm", BodyRequired: true}
	return []httpadapter.Endpoint{e}
}

func TestCaptchaFeatureRoutes(t *testing.T) {
	body := map[string]string{"email": "jane@example.com"}
	// Marked routes are guarded with FeatureRoutes ...
	ce := newCaptchaEnv(t, "turnstile", captcha.Config{FeatureRoutes: true}, httpadapter.Options{}, mailer{})
	ce.live(t, request{method: "POST", path: "/api/auth/test-link", json: body}).wantError(t, http.StatusBadRequest, "captcha_failed")
	ce.live(t, request{method: "POST", path: "/api/auth/test-link", json: body, header: map[string]string{"X-Captcha-Token": "good"}}).wantStatus(t, http.StatusAccepted)
	// ... or by name ...
	byName := newCaptchaEnv(t, "turnstile", captcha.Config{Routes: []string{"test_link"}}, httpadapter.Options{}, mailer{})
	byName.live(t, request{method: "POST", path: "/api/auth/test-link", json: body}).wantError(t, http.StatusBadRequest, "captcha_failed")
	// ... and left alone otherwise.
	off := newCaptchaEnv(t, "turnstile", captcha.Config{Register: true}, httpadapter.Options{}, mailer{})
	off.live(t, request{method: "POST", path: "/api/auth/test-link", json: body}).wantStatus(t, http.StatusAccepted)
}

func TestCaptchaOpenAPI(t *testing.T) {
	ce := newCaptchaEnv(t, "turnstile", captcha.Config{Register: true, Login: captcha.AfterFailures(3)}, httpadapter.Options{})
	r := ce.live(t, request{method: "GET", path: "/openapi.json"})
	var doc struct {
		Paths map[string]map[string]struct {
			Parameters []struct{ Name, In string } `json:"parameters"`
			Responses  map[string]any              `json:"responses"`
		} `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	for path, guarded := range map[string]bool{"/api/auth/register": true, "/api/auth/login": true, "/api/auth/refresh": false} {
		op := doc.Paths[path]["post"]
		has := false
		for _, p := range op.Parameters {
			has = has || p.Name == "X-Captcha-Token" && p.In == "header"
		}
		if has != guarded {
			t.Errorf("%s: X-Captcha-Token declared = %v, want %v", path, has, guarded)
		}
		if _, ok := op.Responses["400"]; guarded && !ok {
			t.Errorf("%s: 400 not declared", path)
		}
	}
}

// trustedLoopback trusts the test server's loopback peer as a proxy, so
// that X-Forwarded-For names the client.
func trustedLoopback() []netip.Prefix {
	return []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8"), netip.MustParsePrefix("::1/128")}
}

// brokenCounter is a failure counter that never answers.
type brokenCounter struct{}

func (brokenCounter) Failures(context.Context, string) (int, error) {
	return 0, errors.New("counter down")
}
func (brokenCounter) AddFailure(context.Context, string) error { return errors.New("counter down") }
func (brokenCounter) Reset(context.Context, string) error      { return errors.New("counter down") }

func TestCaptchaLoginCounterDown(t *testing.T) {
	// Without a count, every login needs the CAPTCHA; one warning says so.
	ce := newCaptchaEnv(t, "turnstile", captcha.Config{Login: captcha.AfterFailures(5), Failures: brokenCounter{}}, httpadapter.Options{})
	if _, err := ce.m.CreateUser(context.Background(), usermgmt.NewUser{Username: "jane_doe", Email: "jane_doe@example.com", Password: password}); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		ce.live(t, request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"jane_doe"}, "password": {password}}}).
			wantError(t, http.StatusBadRequest, "captcha_failed")
	}
	ce.live(t, request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"jane_doe"}, "password": {password}, "captcha_token": {"good"}}}).tokens(t)
	if n := strings.Count(ce.logs.String(), "the failed-login counter fails"); n != 1 {
		t.Fatalf("%d counter warnings, want 1:\n%s", n, ce.logs)
	}
}
