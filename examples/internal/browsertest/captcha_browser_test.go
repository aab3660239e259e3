package browsertest_test

import (
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/captcha"
	"github.com/usermgmt/usermgmt/examples/internal/testbrowser"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// The CAPTCHA widget in a real browser. The provider is faked on another
// origin (another loopback port): its script, standing in for the
// provider's, fills in a token the way the real widget does, and its
// siteverify accepts exactly that token. The pages' CSP must let the
// script load from there (a violation fails the test), and the form must
// carry the token to the server.

// fakeWidgetJS stands in for a widget provider's script: each element of
// the widget class gets the hidden field the real widget adds.
const fakeWidgetJS = `document.querySelectorAll(".cf-turnstile").forEach(function (el) {
	var input = document.createElement("input");
	input.type = "hidden";
	input.name = "cf-turnstile-response";
	input.value = "widget:" + el.getAttribute("data-sitekey") + ":" + el.getAttribute("data-action");
	el.appendChild(input);
});`

// fakeV3JS stands in for reCAPTCHA v3's api.js: grecaptcha.execute
// resolves to a token naming the site key and the action asked for.
const fakeV3JS = `window.grecaptcha = {
	ready: function (f) { setTimeout(f, 0); },
	execute: function (key, opts) { return Promise.resolve("v3:" + key + ":" + opts.action); }
};`

// fakeProvider serves a provider's script and siteverify on one origin.
type fakeProvider struct {
	srv      *httptest.Server
	mu       sync.Mutex
	verified []string // the tokens verified
}

func newFakeProvider(t *testing.T, script string) *fakeProvider {
	t.Helper()
	f := &fakeProvider{}
	f.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/api.js":
			w.Header().Set("Content-Type", "text/javascript")
			_, _ = io.WriteString(w, script)
		case "/siteverify":
			_ = r.ParseForm()
			tok := r.PostForm.Get("response")
			f.mu.Lock()
			f.verified = append(f.verified, tok)
			f.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			switch tok {
			case "widget:site-key:register":
				_, _ = io.WriteString(w, `{"success":true,"hostname":"127.0.0.1","action":"register"}`)
			case "v3:site-key:register":
				_, _ = io.WriteString(w, `{"success":true,"score":0.9,"action":"register","hostname":"127.0.0.1"}`)
			default:
				_, _ = io.WriteString(w, `{"success":false,"error-codes":["invalid-input-response"]}`)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(f.srv.Close)
	return f
}

// captchaWalk serves a Manager with the CAPTCHA feature of p on sign-up,
// with the pages, and opens a browser on it.
func captchaWalk(t *testing.T, p captcha.Provider) *walk {
	t.Helper()
	c, err := captcha.New(captcha.Config{Provider: p, Register: true})
	if err != nil {
		t.Fatal(err)
	}
	st, err := anydb.Open(context.Background(), "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	e := &secEnv{t: t, clock: &stepClock{}}
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("browser-walk-secret-of-32-bytes!!"), BaseURL: base,
		BcryptCost: 4, Clock: e.clock.Now, Logger: slog.New(slog.NewTextHandler(t.Output(), nil))},
		usermgmt.WithResolver(anyDomainResolver{}), usermgmt.WithFeature(c))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	e.h = httpadapter.New(m, httpadapter.Options{Pages: &httpadapter.PagesOptions{ProjectName: "Acme"}})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: e.h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &walk{t: t, b: testbrowser.New(t, 2*time.Minute), e: e, base: base, dir: t.ArtifactDir()}
}

func TestBrowserCaptcha(t *testing.T) {
	for _, tc := range []struct {
		name   string
		script string
		build  func(fake string) captcha.Provider
	}{
		{"widget", fakeWidgetJS, func(fake string) captcha.Provider {
			p := captcha.Turnstile("secret", "site-key")
			p.ScriptURL, p.Origins, p.VerifyURL = fake+"/api.js", []string{fake}, fake+"/siteverify"
			return p
		}},
		{"recaptcha-v3", fakeV3JS, func(fake string) captcha.Provider {
			p := captcha.RecaptchaV3("secret", "site-key", 0)
			p.ScriptURL, p.Origins, p.VerifyURL = fake+"/api.js", []string{fake}, fake+"/siteverify"
			return p
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			fake := newFakeProvider(t, tc.script)
			w := captchaWalk(t, tc.build(fake.srv.URL))
			w.signUp("browser_user", password) // the form's token verified: on to /login, signed in
			w.wantPath("/login")
			w.wantText("main", "You are signed in as")
			w.shot("captcha-signed-up")
			fake.mu.Lock()
			verified := strings.Join(fake.verified, ",")
			fake.mu.Unlock()
			if want := map[string]string{"widget": "widget:site-key:register", "recaptcha-v3": "v3:site-key:register"}[tc.name]; verified != want {
				t.Fatalf("tokens verified = %q, want %q", verified, want)
			}
		})
	}
}
