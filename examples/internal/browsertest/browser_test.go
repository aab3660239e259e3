package browsertest_test

import (
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/examples/internal/testbrowser"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestBrowserWalk drives the hosted pages in a real headless Chromium:
// sign up, log out, log in (after a refused password, by keyboard, and on
// to a redirect_uri), enable TOTP and log in with a code, ask for a
// password reset, follow the mailed link, set a new password and log in
// with it, with a screenshot of every page in the test's
// artifact directory (go test -artifacts -outputdir DIR keeps them) and a
// failure on any script error. It runs on each backend in turn: one
// browser at a time.
func TestBrowserWalk(t *testing.T) {
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			w := newWalk(t, b.dsn(t), httpadapter.PagesOptions{ProjectName: "Acme Accounts"})

			// Sign up; the script refuses a mismatched confirmation.
			w.visit("/register")
			w.shot("register")
			w.fill(map[string]string{"#username": "walk_user", "#email": "walk_user@example.com", "#password": password, "#confirm_password": password + "x"})
			if msg := w.eval(`document.getElementById("confirm_password").validationMessage`); msg != "Passwords do not match" {
				t.Fatalf("confirm_password validationMessage = %q", msg)
			}
			w.signUp("walk_user", password)
			w.wantPath("/login")
			w.wantText("main", "You are signed in as walk_user")
			w.shot("signed-in")
			w.wantSessionCookies()

			// Log out.
			w.logOut()
			w.wantPath("/login?logged_out=1")
			w.wantText("[role=status]", "You have been logged out.")
			w.shot("logged-out")
			if n := len(w.cookies()); n != 1 { // only the form nonce is left
				t.Fatalf("cookies after logout: %d", n)
			}

			// A refused password: the message, and the focus on the field.
			w.logIn("walk_user", "Wrong-passw0rd", 401)
			w.wantText("[role=alert]", "Incorrect username/email or password")
			if id := w.eval(`document.activeElement.id`); id != "username" {
				t.Fatalf("focus after the error is on %q", id)
			}
			w.shot("login-refused")

			// Log in by keyboard alone, going on to redirect_uri.
			w.visit("/login?redirect_uri=" + url.QueryEscape("/logout"))
			w.shot("login")
			w.keys("#username", "walk_user@example.com")
			w.keys("#username", kb.Tab+password)
			w.navigate(chromedp.KeyEvent(kb.Enter), 200)
			w.wantPath("/logout")
			w.wantText("main", "walk_user@example.com")
			w.shot("after-login")

			// The other pages.
			w.visit("/email-verified")
			w.wantText("main", "your email address is confirmed")
			w.shot("email-verified")
			w.visitStatus("/terms", 404)
			w.wantPath("/404")
			w.wantText("main", "404 - Page Not Found")
			w.shot("not-found")

			// Two-factor login: the authenticator is enrolled through the
			// API with the browser's cookie session and its CSRF token.
			w.enableTOTP()
			w.logOut()
			w.logIn("walk_user", password, 200)
			w.wantPath("/otp?method=authenticator")
			w.wantText("main", "The code of your authenticator app")
			w.shot("otp")
			w.e.clock.Advance(30 * time.Second) // the next step: a code is used once
			w.fill(map[string]string{"#otp_code": w.totp()})
			w.submit("main form button[type=submit]", 200)
			w.wantPath("/login")
			w.wantText("main", "You are signed in as walk_user")
			w.shot("after-otp")
			w.logOut()

			// A forgotten password: the link of the login page, the mailed
			// link (to the pages, FRONTEND_URL being unset), a new password.
			w.visit("/login")
			w.navigate(chromedp.Click(`a[href="/forgot-password/request"]`), 200)
			w.wantPath("/forgot-password/request")
			w.shot("forgot-password")
			w.fill(map[string]string{"#email": "walk_user@example.com"})
			w.submit("main form button[type=submit]", 200)
			w.wantText("[role=status]", "a password reset link was sent")
			w.shot("forgot-password-sent")
			link := w.resetLink()
			if !strings.HasPrefix(link, w.base+"/forgot-password/reset?token=") {
				t.Fatalf("reset link %s", link)
			}
			w.navigate(chromedp.Navigate(link), 200)
			w.shot("reset-password")
			const newPassword = "N3w-walk-passw0rd"
			w.fill(map[string]string{"#new_password": newPassword, "#confirm_password": newPassword})
			w.submit("main form button[type=submit]", 200)
			w.wantPath("/login?password_reset=1")
			w.wantText("[role=status]", "Your password has been reset")
			w.shot("password-reset")

			// The old password is refused, the new one (and a code) works.
			w.logIn("walk_user", password, 401)
			w.logIn("walk_user", newPassword, 200)
			w.wantPath("/otp?method=authenticator")
			w.e.clock.Advance(30 * time.Second)
			w.fill(map[string]string{"#otp_code": w.totp()})
			w.submit("main form button[type=submit]", 200)
			w.wantText("main", "You are signed in as walk_user")
			w.shot("signed-in-new-password")
		})
	}
}

// enableTOTP turns on authenticator two-factor login for the browser's
// user through the API, as a script of the host's own pages would: the
// session cookies, and the CSRF token of the readable cookie in the
// X-CSRF-Token header of the PATCH.
func (w *walk) enableTOTP() {
	w.t.Helper()
	var cookie []string
	csrf := ""
	for _, c := range w.cookies() {
		cookie = append(cookie, c.Name+"="+c.Value)
		if c.Name == httpadapter.CSRFCookie {
			csrf = c.Value
		}
	}
	call := func(method, path string, header map[string]string) map[string]any {
		req, err := http.NewRequest(method, w.base+path, nil)
		if err != nil {
			w.t.Fatal(err)
		}
		req.Header.Set("Cookie", strings.Join(cookie, "; "))
		req.Header.Set("Origin", w.base)
		for k, v := range header {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			w.t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]any
		if err := json.NewDecoder(res.Body).Decode(&body); err != nil || res.StatusCode != 200 {
			w.t.Fatalf("%s %s: %d %v %v", method, path, res.StatusCode, body, err)
		}
		return body
	}
	w.secret, _ = call("GET", "/api/auth/OTP/setup", nil)["secret"].(string)
	call("PATCH", "/api/auth/OTP/authenticator?otp_code="+w.totp(), map[string]string{httpadapter.CSRFHeader: csrf})
}

// totp is the code of the user's authenticator at the fake clock.
func (w *walk) totp() string {
	w.t.Helper()
	c, err := totp.GenerateCodeCustom(w.secret, w.e.clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		w.t.Fatalf("totp of %q: %v", w.secret, err)
	}
	return c
}

// resetLink returns the link of the next password reset mail, skipping
// the others (the sign-up's verification).
func (w *walk) resetLink() string {
	w.t.Helper()
	for {
		link, _ := mailToken(w.t, w.e.nextMail())
		if strings.Contains(link, "/forgot-password/reset") {
			return link
		}
	}
}

// walk is a browser on a served Manager, with helpers for the steps of a
// user's walk through the pages.
type walk struct {
	t      *testing.T
	b      *testbrowser.Browser
	e      *secEnv
	base   string
	dir    string
	n      int
	secret string // the TOTP secret, once enrolled
}

// newWalk serves a Manager over dsn with the pages on a loopback port
// (its BaseURL the server's http URL, mail to memory, no FrontendURL) and
// opens a browser on it.
func newWalk(t *testing.T, dsn string, po httpadapter.PagesOptions) *walk {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	base := "http://" + ln.Addr().String()
	e := newSecEnvOpts(t, dsn, func(c *usermgmt.Config) { c.BaseURL, c.FrontendURL = base, "" }, httpadapter.Options{Pages: &po})
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: e.h}}
	srv.Start()
	t.Cleanup(srv.Close)
	return &walk{t: t, b: testbrowser.New(t, 2*time.Minute), e: e, base: base, dir: t.ArtifactDir()}
}

// run runs browser actions, failing the test on an error.
func (w *walk) run(actions ...chromedp.Action[chromedp.Void]) {
	w.t.Helper()
	if err := chromedp.Do(w.b.Ctx, actions...); err != nil {
		w.t.Fatalf("browser: %v", err)
	}
}

// navigate runs an action that loads a page, and checks its status.
func (w *walk) navigate(action chromedp.Action[chromedp.Void], status int) {
	w.t.Helper()
	res, err := chromedp.RunResponse(w.b.Ctx, action)
	if err != nil {
		w.t.Fatalf("browser: %v", err)
	}
	if res == nil || int(res.Status) != status {
		w.t.Fatalf("page status = %v, want %d", res, status)
	}
	w.b.Check()
}

// visit opens path and expects 200.
func (w *walk) visit(path string) { w.t.Helper(); w.visitStatus(path, 200) }

// visitStatus opens path and expects the final status.
func (w *walk) visitStatus(path string, status int) {
	w.t.Helper()
	w.navigate(chromedp.Navigate(w.base+path), status)
}

// fill types values into the fields named by CSS selectors, replacing
// what they held.
func (w *walk) fill(fields map[string]string) {
	w.t.Helper()
	for sel, v := range fields {
		quoted, _ := json.Marshal(sel)
		if w.eval(`(e => { e.value = ""; return e.value })(document.querySelector(`+string(quoted)+`))`) != "" {
			w.t.Fatalf("could not clear %s", sel)
		}
		w.run(chromedp.SendKeys(sel, v))
	}
}

// keys types into the focused page, starting at sel.
func (w *walk) keys(sel, keys string) {
	w.t.Helper()
	w.run(chromedp.SendKeys(sel, keys))
}

// submit clicks a form's button and expects the page it leads to.
func (w *walk) submit(sel string, status int) {
	w.t.Helper()
	w.navigate(chromedp.Click(sel), status)
}

// eval returns a JavaScript expression's string value.
func (w *walk) eval(expr string) string {
	w.t.Helper()
	s, err := chromedp.Run(w.b.Ctx, chromedp.Evaluate[string](expr))
	if err != nil {
		w.t.Fatalf("evaluate %s: %v", expr, err)
	}
	return s
}

// wantPath checks the page's path and query.
func (w *walk) wantPath(want string) {
	w.t.Helper()
	loc, err := chromedp.Run(w.b.Ctx, chromedp.Location())
	if err != nil {
		w.t.Fatal(err)
	}
	if got := strings.TrimPrefix(loc, w.base); got != want {
		w.t.Fatalf("at %s, want %s", got, want)
	}
}

// wantText checks that the element sel shows text.
func (w *walk) wantText(sel, text string) {
	w.t.Helper()
	got, err := chromedp.Run(w.b.Ctx, chromedp.Text(sel))
	if err != nil {
		w.t.Fatalf("text of %s: %v", sel, err)
	}
	if !strings.Contains(strings.Join(strings.Fields(got), " "), text) {
		w.t.Fatalf("%s shows %q, want %q", sel, got, text)
	}
}

// shot saves a full-page PNG screenshot, numbered in walk order.
func (w *walk) shot(name string) {
	w.t.Helper()
	png, err := chromedp.Run(w.b.Ctx, chromedp.FullScreenshot(100))
	if err != nil {
		w.t.Fatalf("screenshot: %v", err)
	}
	w.n++
	path := filepath.Join(w.dir, fmt.Sprintf("%02d-%s.png", w.n, name))
	if err := os.WriteFile(path, png, 0o644); err != nil {
		w.t.Fatal(err)
	}
}

// cookies returns the browser's cookies for the site.
func (w *walk) cookies() []*network.Cookie {
	w.t.Helper()
	cs, err := chromedp.Run(w.b.Ctx, func(ctx context.Context, t *chromedp.Target) ([]*network.Cookie, error) {
		r, err := cdp.Call(ctx, t, network.GetCookies, network.GetCookiesParams{URLs: []string{w.base + "/"}})
		return r.Cookies, err
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return cs
}

// wantSessionCookies checks the browser holds the session as it should:
// the tokens out of reach of scripts, the CSRF token readable.
func (w *walk) wantSessionCookies() {
	w.t.Helper()
	seen := map[string]bool{}
	for _, c := range w.cookies() {
		seen[c.Name] = true
		if c.SameSite != network.CookieSameSiteLax || c.Path != "/" || c.HTTPOnly != (c.Name != httpadapter.CSRFCookie) {
			w.t.Errorf("cookie %s: SameSite %s, Path %s, HttpOnly %v", c.Name, c.SameSite, c.Path, c.HTTPOnly)
		}
	}
	for _, name := range []string{httpadapter.SessionCookie, httpadapter.RefreshCookie, httpadapter.CSRFCookie} {
		if !seen[name] {
			w.t.Errorf("no %s cookie", name)
		}
	}
	if js := w.eval(`document.cookie`); strings.Contains(js, httpadapter.SessionCookie) || !strings.Contains(js, httpadapter.CSRFCookie) {
		w.t.Errorf("document.cookie = %q", js)
	}
}

// signUp walks the sign-up form.
func (w *walk) signUp(username, pw string) {
	w.t.Helper()
	w.visit("/register")
	w.fill(map[string]string{"#username": username, "#email": username + "@example.com", "#password": pw, "#confirm_password": pw})
	w.submit("main form button[type=submit]", 200)
}

// logIn walks the login form and expects the status of the page it
// leads to.
func (w *walk) logIn(login, pw string, status int) {
	w.t.Helper()
	w.visit("/login")
	w.fill(map[string]string{"#username": login, "#password": pw})
	w.submit("main form button[type=submit]", status)
}

// logOut walks the logout page.
func (w *walk) logOut() {
	w.t.Helper()
	w.visit("/logout")
	w.shot("logout")
	w.submit("main form button[type=submit]", 200)
}
