package browsertest_test

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/cdproto/webauthn"
	"github.com/chromedp/chromedp"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/examples/internal/testbrowser"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/oauth"
	"github.com/usermgmt/usermgmt/passkey"
)

// TestBrowserAccount walks the account page in Chromium (issue 15 item
// 10) and passkeys on the pages (issue 16 item 5) with the DevTools
// WebAuthn domain's virtual authenticator: the profile, the show-password
// toggle, adding a passkey, signing in with it from the login page's
// button, and signing out everywhere; axe checks every page on the way.
func TestBrowserAccount(t *testing.T) {
	w := newPasskeyWalk(t, backends[0].dsn(t))
	axe := newAxe(t)
	w.virtualAuthenticator()

	w.signUp("acct_walk", password)
	w.visit("/account")
	w.shot("account")
	axe.check(w, "/account")

	// Profile.
	w.fill(map[string]string{"#display_name": "Acct Walk"})
	w.submit(`form[action="/account/profile"] button[type=submit]`, 200)
	w.wantPath("/account?done=profile")
	w.wantText("[role=status]", "Your profile has been saved.")

	// The show-password toggle: a button after the field, aria-pressed.
	w.fill(map[string]string{"#old_password": password})
	w.run(chromedp.Click(`#old_password + button.reveal`))
	if got := w.eval(`document.getElementById("old_password").type + " " + document.querySelector("#old_password + button.reveal").getAttribute("aria-pressed")`); got != "text true" {
		t.Fatalf("after the toggle: %q", got)
	}
	w.run(chromedp.Click(`#old_password + button.reveal`))
	if got := w.eval(`document.getElementById("old_password").type`); got != "password" {
		t.Fatalf("after the second toggle: %q", got)
	}

	// Add a passkey: the script begins through the API, the virtual
	// authenticator answers, the page form finishes.
	w.fill(map[string]string{"#passkey_name": "Virtual key"})
	w.submit("#passkey-add-button", 200)
	w.wantPath("/account?done=passkey-added")
	w.wantText("[role=status]", "Your passkey has been added.")
	w.wantText("main", "Virtual key")
	w.shot("account-passkey")
	axe.check(w, "/account (with a passkey)")

	// Two-factor pages.
	for _, path := range []string{"/account/two-factor", "/account/two-factor?method=authenticator", "/account/two-factor?method=email"} {
		w.visit(path)
		axe.check(w, path)
	}

	// Sign in with the passkey from the username field's autofill: where
	// the browser supports conditional mediation, the login page asks at
	// once, and the virtual authenticator (presence simulated) answers.
	w.logOut()
	w.visit("/login")
	w.waitText("main", "You are signed in as Acct Walk")
	w.wantPath("/login")
	w.wantSessionCookies()

	// Sign in with the login page's button, conditional mediation off.
	w.logOut()
	w.run(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		_, err := cdp.Call(ctx, t, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
			Source: `Object.defineProperty(PublicKeyCredential, "isConditionalMediationAvailable", {value: undefined});`})
		return err
	}))
	w.visit("/login")
	w.shot("login-passkey")
	axe.check(w, "/login (passkeys)")
	if hidden := w.eval(`String(document.getElementById("passkey-signin").hidden)`); hidden != "false" {
		t.Fatalf("passkey button hidden: %s", hidden)
	}
	w.submit("#passkey-signin button[type=submit]", 200)
	w.wantPath("/login")
	w.wantText("main", "You are signed in as Acct Walk")
	w.wantSessionCookies()

	// Sign out everywhere.
	w.visit("/account")
	w.wantText("main", "(this browser)")
	w.submit(`form[action="/account/sessions/revoke-all"] button[type=submit]`, 200)
	w.wantPath("/login?logged_out=1")
	w.visitStatus("/account", 200) // back to the login page
	w.wantPath("/login?redirect_uri=%2Faccount")

	// The profile's email, then deleting the account with its password.
	w.logIn("acct_walk", password, 200)
	w.visit("/account")
	w.fill(map[string]string{"#email": "acct.moved@example.com"})
	w.submit(`form[action="/account/profile"] button[type=submit]`, 200)
	w.wantText("[role=status]", "Your profile has been saved.")
	w.wantText("main", "acct.moved@example.com (not verified)")
	axe.check(w, "/account (new email)")
	w.fill(map[string]string{"#delete_password": password})
	w.submit(`form[action="/account/delete"] button[type=submit]`, 200)
	w.wantPath("/login?deleted=1")
	w.wantText("main", "Your account has been deleted.")
}

// TestBrowserAxe runs axe-core on every hosted page, in each of its
// states a person meets (a form, its refusal, its confirmation): 0
// violations.
func TestBrowserAxe(t *testing.T) {
	// Two providers, so that the login, register and account pages show
	// their buttons and icons (no provider is reached: nothing is clicked).
	providers := func(c *usermgmt.Config) {
		c.OAuthProviders = []oauth.Provider{oauth.GitHub(oauth.Config{ClientID: "axe-id", ClientSecret: "axe-secret"}),
			oauth.Discord(oauth.Config{ClientID: "axe-id", ClientSecret: "axe-secret"})}
	}
	w := newPasskeyWalkWith(t, backends[0].dsn(t), providers, httpadapter.RateLimitOptions{Enabled: true,
		Classes: map[string]httpadapter.LimitClass{httpadapter.ClassPasswordReset: {IP: usermgmt.Rate{Limit: 2, Window: time.Hour}}}})
	axe := newAxe(t)
	for _, path := range []string{"/login", "/register", "/forgot-password/request", "/forgot-password/reset", "/email-verified",
		"/email-verified?error=1", "/logout"} {
		w.visitStatus(path, map[bool]int{true: 400, false: 200}[strings.Contains(path, "error")])
		axe.check(w, path)
	}
	w.visit("/login")
	if n := w.eval(`String(document.querySelectorAll(".providers a .icon, .providers a svg").length)`); n != "2" {
		t.Fatalf("the login page shows %s provider icons, want 2: %s", n, w.eval(`document.querySelector(".providers") ? document.querySelector(".providers").outerHTML : "no providers"`))
	}
	w.visitStatus("/404", 404)
	axe.check(w, "/404")
	w.logIn("nobody_here", "Wrong-passw0rd", 401)
	axe.check(w, "/login (refused)")

	// Sign-in by mail: the code page (as an unknown address gets it) and
	// its refusal, the link's "sent" page, the landing and its refusal.
	w.visit("/login")
	w.fill(map[string]string{"#signin-email": "nobody@example.com"})
	w.submit(`button[formaction="/login/email-code"]`, 200)
	axe.check(w, "/login/email-code")
	w.fill(map[string]string{"#code": "000000"})
	w.submit("main form button[type=submit]", 401)
	axe.check(w, "/login/code (refused)")
	w.visit("/login")
	w.fill(map[string]string{"#signin-email": "nobody@example.com"})
	w.submit(`button[formaction="/login/email-link"]`, 200)
	axe.check(w, "/login/email-link (sent)")
	w.visit("/login/link?token=" + strings.Repeat("A", 43))
	axe.check(w, "/login/link")
	w.submit("main form button[type=submit]", 401)
	axe.check(w, "/login/link (refused)")

	w.signUp("axe_walk", password)
	w.visit("/account")
	if got := w.eval(`String(document.body.innerText.includes("GitHub: not linked") && document.body.innerText.includes("Discord: not linked"))`); got != "true" {
		t.Fatalf("the account page does not list the two providers: %s", w.eval(`document.body.innerText`))
	}
	for _, path := range []string{"/login", "/logout", "/account", "/reset-password/request", "/reset-password/reset", "/account/two-factor"} {
		w.visit(path)
		axe.check(w, path)
	}
	w.visit("/reset-password/request")
	w.submit("main form button[type=submit]", 200)
	axe.check(w, "/reset-password/request (sent)")
	w.resetLink() // that mail's link, which the next request replaces
	w.visit("/account")
	w.fill(map[string]string{"#delete_password": "Wrong-passw0rd"})
	w.submit(`form[action="/account/delete"] button[type=submit]`, 400)
	axe.check(w, "/account (refused deletion)")

	// Two-factor enrolment on the page: the secret, a refused code, the
	// recovery codes; then the second step of a login.
	w.visit("/account/two-factor?method=authenticator")
	axe.check(w, "/account/two-factor?method=authenticator")
	w.secret = w.eval(`document.querySelector("code.secret").textContent`)
	w.fill(map[string]string{"#otp_code": "000000"})
	w.submit("main form button[type=submit]", 401)
	axe.check(w, "/account/two-factor (refused code)")
	w.fill(map[string]string{"#otp_code": w.totp()})
	w.submit("main form button[type=submit]", 200)
	w.wantText("main", "Your recovery codes")
	axe.check(w, "/account/two-factor (recovery codes)")
	w.visit("/account/two-factor")
	axe.check(w, "/account/two-factor (on)")
	w.logOut()
	w.logIn("axe_walk", password, 200)
	w.wantPath("/otp?method=authenticator")
	axe.check(w, "/otp")

	// The mailed reset link's page, and the limited page.
	w.visit("/forgot-password/request")
	w.fill(map[string]string{"#email": "axe_walk@example.com"})
	w.submit("main form button[type=submit]", 200)
	axe.check(w, "/forgot-password/request (sent)")
	w.navigate(chromedp.Navigate(w.resetLink()), 200)
	axe.check(w, "/forgot-password/reset?token=...")
	for _, status := range []int{200, 429} { // the class allows 2 an hour
		w.visit("/forgot-password/request")
		w.fill(map[string]string{"#email": "axe_walk@example.com"})
		w.submit("main form button[type=submit]", status)
	}
	w.wantText("main", "Too many attempts")
	axe.check(w, "limited")
}

// TestBrowserAxeFinds: the check sees a violation when there is one (an
// image without a text alternative put into the login page).
func TestBrowserAxeFinds(t *testing.T) {
	w := newPasskeyWalk(t, backends[0].dsn(t))
	axe := newAxe(t)
	w.visit("/login")
	w.eval(`(() => { const i = document.createElement("img"); i.src = "/logo.png"; document.querySelector("main").append(i); return "" })()`)
	vs := axe.violations(w, "/login with an unlabelled image")
	if len(vs) != 1 || vs[0].ID != "image-alt" {
		t.Fatalf("violations %+v, want image-alt", vs)
	}
}

// newPasskeyWalk is newWalk with the passkey feature and sign-in by mail
// (emaillogin), on http://localhost (WebAuthn takes no IP address as
// relying party).
func newPasskeyWalk(t *testing.T, dsn string, limits ...httpadapter.RateLimitOptions) *walk {
	t.Helper()
	return newPasskeyWalkWith(t, dsn, nil, limits...)
}

// newPasskeyWalkWith is newPasskeyWalk with more configuration (cfg, when
// not nil, runs after the walk's own).
func newPasskeyWalkWith(t *testing.T, dsn string, cfg func(*usermgmt.Config), limits ...httpadapter.RateLimitOptions) *walk {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	_, port, _ := net.SplitHostPort(ln.Addr().String())
	base := "http://localhost:" + port
	po := httpadapter.PagesOptions{ProjectName: "Acme Accounts"}
	el := emaillogin.New(emaillogin.Config{})
	e := newSecEnvOpts(t, dsn, func(c *usermgmt.Config) {
		c.BaseURL, c.FrontendURL = base, ""
		if cfg != nil {
			cfg(c)
		}
	},
		httpadapter.Options{Pages: &po, RateLimit: first(limits)}, passkey.New(passkey.Config{}), el)
	t.Cleanup(el.Wait) // before the Manager closes
	srv := &httptest.Server{Listener: ln, Config: &http.Server{Handler: e.h}}
	srv.Start()
	t.Cleanup(srv.Close)
	// axe takes seconds a page on a shared 2-core machine.
	return &walk{t: t, b: testbrowser.New(t, 8*time.Minute), e: e, base: base, dir: t.ArtifactDir()}
}

// waitText waits up to 20 s for the element sel to show text (a page the
// script moves on to by itself).
func (w *walk) waitText(sel, text string) {
	w.t.Helper()
	quoted, _ := json.Marshal(sel)
	want, _ := json.Marshal(text)
	for deadline := time.Now().Add(20 * time.Second); ; {
		got := w.eval(`(e => e ? String(e.innerText.replace(/\s+/g, " ").includes(` + string(want) + `)) : "false")(document.querySelector(` + string(quoted) + `))`)
		if got == "true" {
			w.b.Check()
			return
		}
		if time.Now().After(deadline) {
			w.t.Fatalf("%s never showed %q; at %s: %s", sel, text, w.eval(`location.href`), w.eval(`document.body.innerText`))
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// first is the first of vs, the zero value without one.
func first[T any](vs []T) T {
	var zero T
	if len(vs) > 0 {
		zero = vs[0]
	}
	return zero
}

// virtualAuthenticator enables the WebAuthn domain with a platform
// authenticator (CTAP 2.1, internal transport, resident keys, user
// verification that succeeds, presence simulated).
func (w *walk) virtualAuthenticator() {
	w.t.Helper()
	w.run(chromedp.Func(func(ctx context.Context, t *chromedp.Target) error {
		if _, err := cdp.Call(ctx, t, webauthn.Enable, webauthn.EnableParams{}); err != nil {
			return err
		}
		_, err := cdp.Call(ctx, t, webauthn.AddVirtualAuthenticator, webauthn.AddVirtualAuthenticatorParams{Options: &webauthn.VirtualAuthenticatorOptions{
			Protocol: webauthn.AuthenticatorProtocolCtap2, Ctap2version: webauthn.Ctap2versionCtap21,
			Transport: webauthn.AuthenticatorTransportInternal, HasResidentKey: true, HasUserVerification: true,
			IsUserVerified: true, AutomaticPresenceSimulation: true,
		}})
		return err
	}))
}

// axeScript is axe-core as npm ci installs it here (package.json).
const axeScript = "node_modules/axe-core/axe.min.js"

// axe runs axe-core in the page.
type axe struct{ src string }

// newAxe reads axe-core; without it the test skips, or fails in CI.
func newAxe(t *testing.T) *axe {
	t.Helper()
	src, err := os.ReadFile(axeScript)
	if err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("axe-core missing (%v): in CI, run npm ci in examples/internal/browsertest", err)
		}
		t.Skipf("axe-core missing (%v): run npm ci in examples/internal/browsertest", err)
	}
	return &axe{src: string(src)}
}

// axeViolation is one rule axe found broken, with the elements.
type axeViolation struct {
	ID, Impact, Help string
	Nodes            []string
}

// check runs axe on the page the browser shows and fails on any
// violation (axe's default rules: WCAG 2 A and AA, and best practices).
func (a *axe) check(w *walk, name string) {
	w.t.Helper()
	for _, v := range a.violations(w, name) {
		w.t.Errorf("axe on %s: %s (%s) %s:\n  %s", name, v.ID, v.Impact, v.Help, strings.Join(v.Nodes, "\n  "))
	}
}

// violations runs axe on the page the browser shows.
func (a *axe) violations(w *walk, name string) []axeViolation {
	w.t.Helper()
	expr := a.src + `;axe.run(document, {resultTypes: ["violations"]}).then(r => JSON.stringify(r.violations.map(v =>
		({id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.map(n => n.target.join(" ") + ": " + n.failureSummary)}))))`
	out, err := chromedp.Run(w.b.Ctx, func(ctx context.Context, t *chromedp.Target) (string, error) {
		yes := true
		res, err := cdp.Call(ctx, t, runtime.Evaluate, runtime.EvaluateParams{Expression: expr, AwaitPromise: &yes, ReturnByValue: &yes})
		if err != nil {
			return "", err
		}
		if res.ExceptionDetails != nil {
			return "", &axeError{res.ExceptionDetails.Text}
		}
		var s string
		if err := json.Unmarshal([]byte(res.Result.Value), &s); err != nil {
			return "", err
		}
		return s, nil
	})
	if err != nil {
		w.t.Fatalf("axe on %s: %v", name, err)
	}
	var violations []axeViolation
	if err := json.Unmarshal([]byte(out), &violations); err != nil {
		w.t.Fatalf("axe on %s: %v: %s", name, err, out)
	}
	return violations
}

type axeError struct{ text string }

func (e *axeError) Error() string { return "axe: " + e.text }
