package httpadapter

import (
	"errors"
	"net/http"
	"net/url"
	"slices"

	"github.com/usermgmt/usermgmt"
)

// The hosted pages' routes and handlers (served when Options.Pages is set).
// Paths and flags are the reference's (seed-api.md section 1.9); the form
// posts share their page's flag.
//
// Adding a page takes three steps:
//
//  1. pages/<name>.html defining "content" (forms start with
//     {{template "hidden" .}}, which carries csrf_token and redirect_uri),
//     and <name> in pageFiles.
//  2. A GET handler: d := p.data(w, r, "<name>", title, values), fill d,
//     p.render(w, r, http.StatusOK, d). A POST handler: values, ok :=
//     p.form(w, r, "<name>", title) (origin and token checks; on failure
//     it has answered), then the route's API decoder on r, one Manager
//     call, and p.fail(w, r, d, err) or p.signIn / p.redirect.
//  3. Its lines in pageRoutes, with the reference's flag.
//
// The browser test walks pages with the helpers of
// examples/internal/browsertest/browser_test.go (visit,
// fill, submit, wantText, shot ...).

// pageOp is the endpoint of a page route.
type pageOp func(p *pages, w http.ResponseWriter, r *http.Request)

func (o pageOp) serve(h *handler, w http.ResponseWriter, r *http.Request, _ bool) {
	o(h.pages, w, r)
}

// formOnly is the encoding of the pages' form posts.
var formOnly = []string{mediaForm}

// pageRoutes are the hosted pages.
func pageRoutes() []route {
	page := func(method, path, name, flag, summary string, status int, response string, fn pageOp) route {
		rt := Route{Method: method, Path: path, Root: true, Page: true, Name: name, Flag: flag, Tag: "pages",
			Summary: summary, Status: status, Response: response}
		if method == post {
			rt.Request, rt.Encodings = "PageForm", formOnly
		}
		return route{rt, fn}
	}
	const html, see, tmp = "html", http.StatusSeeOther, http.StatusTemporaryRedirect
	return append([]route{
		page(get, "/login", "_login", "_LOGIN", "The login page.", ok, html, (*pages).loginPage),
		page(post, "/login", "_login_post", "_LOGIN", "Log in from the login form; 303 to redirect_uri.", see, "", (*pages).loginSubmit),
		page(get, "/signin", "_signin", "_LOGIN", "The login page.", ok, html, (*pages).loginPage),
		page(post, "/signin", "_signin_post", "_LOGIN", "Log in from the login form; 303 to redirect_uri.", see, "", (*pages).loginSubmit),
		page(get, "/register", "_register", "_SIGNUP", "The sign-up page.", ok, html, (*pages).registerPage),
		page(post, "/register", "_register_post", "_SIGNUP", "Sign up from the sign-up form; 303 to redirect_uri.", see, "", (*pages).registerSubmit),
		page(get, "/signup", "_signup", "_SIGNUP", "The sign-up page.", ok, html, (*pages).registerPage),
		page(post, "/signup", "_signup_post", "_SIGNUP", "Sign up from the sign-up form; 303 to redirect_uri.", see, "", (*pages).registerSubmit),
		page(get, "/logout", "_logout", "_LOGOUT", "The logout page.", ok, html, (*pages).logoutPage),
		page(post, "/logout", "_logout_post", "_LOGOUT", "End the browser's session; 303 to /login.", see, "", (*pages).logoutSubmit),
		page(get, "/email-verified", "_email_verified", "_EMAIL_VERIFIED", "Where a mailed verification link lands.", ok, html, (*pages).verifiedPage),
		page(get, "/404", "_404", "_404", "The not-found page.", http.StatusNotFound, html, (*pages).notFoundPage),
		page(get, "/", "_index", "_INDEX", "303 to the account page when signed in, else to the login page (unless the host serves /).", see, "", (*pages).index),
		page(get, "/terms", "_terms", "_TERMS", "307 to PagesOptions.TermsURL, or to /404 when it is not set (unless the host serves it).", tmp, "", (*pages).toConfigured),
		page(get, "/privacy", "_privacy", "_PRIVACY", "307 to PagesOptions.PrivacyURL, or to /404 when it is not set (unless the host serves it).", tmp, "", (*pages).toConfigured),
		page(get, "/support", "_support", "_SUPPORT", "307 to PagesOptions.SupportURL, or to /404 when it is not set (unless the host serves it).", tmp, "", (*pages).toConfigured),
		page(get, "/favicon.ico", "_favicon", "_FAVICON", "The favicon: configured, or the project's initials.", ok, "image", (*pages).faviconFile),
		page(get, "/logo.png", "_logo", "_LOGO", "The logo: configured, or the project's initials.", ok, "image", (*pages).logoFile),
		page(get, "/pages/{file}", "_page_asset", "_PAGE_ASSET", "The pages' stylesheet and script.", ok, "asset", (*pages).assetFile),
		page(get, "/login/{provider}", "_login_oauth", "_LOGIN_OAUTH", "A provider button: begin a login with the provider that ends signed in on the pages (302 to the provider).", http.StatusFound, "", (*pages).oauthPageStart),
	}, slices.Concat(accountPageRoutes(page), meRoutes(page), passkeyRoutes(page), emailRoutes(page))...)
}

// pageQuery returns the query values a page keeps (redirect_uri); a
// malformed query keeps nothing.
func pageQuery(r *http.Request) url.Values {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return url.Values{}
	}
	return q
}

// userOf returns the principal's user, nil for nobody.
func userOf(pr *usermgmt.Principal) *usermgmt.User {
	if pr == nil {
		return nil
	}
	return pr.User()
}

// signIn sets the page's signed-in user (none for a nil pr) and its
// impersonator.
func (d *PageData) signIn(pr *usermgmt.Principal) {
	d.User, d.Impersonator = userOf(pr), ""
	if pr != nil {
		d.Impersonator = pr.Impersonator
	}
}

const (
	titleLogin    = "Log in"
	titleRegister = "Create an account"
	titleLogout   = "Log out"
)

func (p *pages) loginPage(w http.ResponseWriter, r *http.Request) {
	q := pageQuery(r)
	d := p.data(w, r, "login", titleLogin, url.Values{"redirect_uri": q["redirect_uri"]})
	d.signIn(p.session(w, r))
	switch {
	case d.User != nil:
	case q.Has("logged_out"):
		d.Notice = "You have been logged out."
	case q.Has("password_reset"):
		d.Notice = "Your password has been reset: log in with the new one."
	case q.Has("deleted"):
		d.Notice = "Your account has been deleted."
	}
	p.render(w, r, http.StatusOK, d)
}

// loginSubmit is POST /login: the API's login (same decoder, same Manager
// call, same messages), then the session cookies.
func (p *pages) loginSubmit(w http.ResponseWriter, r *http.Request) {
	values, ok := p.form(w, r, "login", titleLogin)
	if !ok {
		return
	}
	d := p.data(w, r, "login", titleLogin, values)
	in, err := decodeLogin(r)
	var t *usermgmt.Tokens
	if err == nil {
		t, err = p.h.m.Login(r.Context(), in.login, in.password)
	}
	if c, ok := errors.AsType[*usermgmt.OTPChallengeError](err); ok {
		p.startOTP(w, r, c, d)
		return
	}
	if err != nil {
		p.fail(w, r, d, err)
		return
	}
	p.signIn(w, r, t, d)
}

func (p *pages) registerPage(w http.ResponseWriter, r *http.Request) {
	d := p.data(w, r, "register", titleRegister, url.Values{"redirect_uri": pageQuery(r)["redirect_uri"]})
	d.signIn(p.session(w, r))
	p.render(w, r, http.StatusOK, d)
}

// registerSubmit is POST /register: the API's registration, then the
// session cookies.
func (p *pages) registerSubmit(w http.ResponseWriter, r *http.Request) {
	values, ok := p.form(w, r, "register", titleRegister)
	if !ok {
		return
	}
	d := p.data(w, r, "register", titleRegister, values)
	nu, err := decodeRegister(r)
	var t *usermgmt.Tokens
	if err == nil {
		t, err = p.h.m.Register(r.Context(), nu)
	}
	if err != nil {
		p.fail(w, r, d, err)
		return
	}
	p.signIn(w, r, t, d)
}

func (p *pages) logoutPage(w http.ResponseWriter, r *http.Request) {
	d := p.data(w, r, "logout", titleLogout, nil)
	d.signIn(p.session(w, r))
	p.render(w, r, http.StatusOK, d)
}

// logoutSubmit is POST /logout: the session ends (as the API's logout) and
// the cookies go, whether or not a session was still live.
func (p *pages) logoutSubmit(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.form(w, r, "logout", titleLogout); !ok {
		return
	}
	if pr := p.session(w, r); pr != nil {
		if err := p.h.m.Logout(r.Context(), pr); err != nil && !errors.Is(err, usermgmt.ErrSessionNotFound) {
			p.fail(w, r, p.data(w, r, "logout", titleLogout, nil), err)
			return
		}
	}
	p.jar.clearSession(w, r)
	p.redirect(w, r, "/login?logged_out=1")
}

// verifiedPage is where the mailed verification link lands: with
// ?error=... when the link was not valid.
func (p *pages) verifiedPage(w http.ResponseWriter, r *http.Request) {
	if pageQuery(r).Get("error") != "" {
		d := p.data(w, r, "verified", "Email not verified", nil)
		d.Error = "This verification link is invalid or has expired."
		p.render(w, r, http.StatusBadRequest, d)
		return
	}
	p.render(w, r, http.StatusOK, p.data(w, r, "verified", "Email verified", nil))
}

func (p *pages) notFoundPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusNotFound, p.data(w, r, "notfound", "Page not found", nil))
}

// index is GET /: the signed-in browser goes to its account page, any
// other to the login page (a host serves its own / by registering it
// beside New).
func (p *pages) index(w http.ResponseWriter, r *http.Request) {
	target := "/login"
	if p.session(w, r) != nil {
		target = p.accountPath()
	}
	p.redirect(w, r, target)
}

// toConfigured sends /terms, /privacy and /support to the configured
// page, or to /404 as the reference when there is none; a host serves its
// own by registering them beside New.
func (p *pages) toConfigured(w http.ResponseWriter, r *http.Request) {
	target, ok := p.terms[r.URL.Path]
	if !ok {
		target = "/404"
	}
	redirectHTML(w, r, target, http.StatusTemporaryRedirect)
}

func (p *pages) faviconFile(w http.ResponseWriter, r *http.Request) {
	serveAsset(w, r, p.favicon, 86400)
}

func (p *pages) logoFile(w http.ResponseWriter, r *http.Request) { serveAsset(w, r, p.logo, 86400) }

func (p *pages) assetFile(w http.ResponseWriter, r *http.Request) {
	a, ok := p.assets[r.PathValue("file")]
	if !ok {
		p.notFoundPage(w, r)
		return
	}
	serveAsset(w, r, a, 3600)
}

// accountPath is where / sends a signed-in browser.
func (p *pages) accountPath() string { return "/login" }
