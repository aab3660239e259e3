package httpadapter

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// Sign-in by mail on the pages. When the Manager has a feature
// implementing PageEmailLogin (package emaillogin does), the login page
// shows "Email me a link" and "Email me a code" (each only when its
// method is on). Both answer the same page whether or not the address
// has an account. A code is typed into the code page; a mailed link
// lands on /login/link, a click-to-confirm page: its GET only shows a
// button (mail scanners follow links), and its POST spends the link.
// Either way the browser is signed in as after a password, or goes on to
// /otp when the account has two-factor login.

// PageEmailLogin is what the hosted pages need of a sign-in-by-mail
// feature. Package emaillogin implements it; httpadapter finds it among
// the Manager's features.
type PageEmailLogin interface {
	// PageLinks and PageCodes report which methods are on.
	PageLinks() bool
	PageCodes() bool
	// PageRequestLink mails a single-use link to email, answering nil
	// whether or not the address has an account. The mailed link is
	// landing with "{token}" replaced by the link's token; redirectURI
	// (checked by the pages) is kept with it, for PageVerifyLink.
	PageRequestLink(ctx context.Context, email, landing, redirectURI string) error
	// PageVerifyLink spends a link: the new session's tokens and the
	// redirectURI it was asked with, or an error (the
	// *usermgmt.OTPChallengeError of a login that needs its second step,
	// beside the redirectURI).
	PageVerifyLink(ctx context.Context, token string) (*usermgmt.Tokens, string, error)
	// PageRequestCode mails a sign-in code to email, answering nil
	// whether or not the address has an account.
	PageRequestCode(ctx context.Context, email string) error
	// PageVerifyCode signs in with the code mailed to email (or answers
	// the *usermgmt.OTPChallengeError of the second step).
	PageVerifyCode(ctx context.Context, email, code string) (*usermgmt.Tokens, error)
}

// The page answers of a request: the same whether or not the address has
// an account.
const (
	emailLinkSent = "If an account uses this address, a sign-in link is on its way. Open it in this browser to sign in."
	emailCodeSent = "If an account uses this address, a sign-in code is on its way. Enter it below."
)

const (
	titleEmailLink = "Sign in with a link"
	titleEmailCode = "Sign in with a code"
)

// pageLinkPath is where a mailed link lands.
const pageLinkPath = "/login/link"

// emailLogin returns the Manager's sign-in-by-mail feature, nil when it
// has none.
func (p *pages) emailLogin() PageEmailLogin {
	for _, f := range p.h.m.Features() {
		if el, ok := f.(PageEmailLogin); ok {
			return el
		}
	}
	return nil
}

// emailRoutes are the page routes of sign-in by mail; with the feature
// (or the method) off they answer the not-found page (after the form
// checks).
func emailRoutes(page func(method, path, name, flag, summary string, status int, response string, fn pageOp) route) []route {
	const see, html = http.StatusSeeOther, "html"
	return []route{
		page(post, "/login/email-link", "_login_email_link_post", "_LOGIN", "Mail a sign-in link (email) that lands on /login/link; the same page whether or not the account exists. The not-found page without the feature.", ok, html, (*pages).emailLinkSubmit),
		page(get, pageLinkPath, "_login_link", "_LOGIN", "Where a mailed sign-in link lands (query token): a button that signs in; the GET spends nothing.", ok, html, (*pages).linkPage),
		page(post, pageLinkPath, "_login_link_post", "_LOGIN", "Spend a mailed sign-in link (token): the session cookies and 303 to the link's redirect_uri, or to /otp.", see, "", (*pages).linkSubmit),
		page(post, "/login/email-code", "_login_email_code_post", "_LOGIN", "Mail a sign-in code (email): the code page, the same whether or not the account exists. The not-found page without the feature.", ok, html, (*pages).emailCodeSubmit),
		page(post, "/login/code", "_login_code_post", "_LOGIN", "Sign in with a mailed code (email, code): 303 to redirect_uri, or to /otp.", see, "", (*pages).codeSubmit),
	}
}

// emailForm checks a sign-in-by-mail form and finds the feature with the
// method on; nil when it has answered.
func (p *pages) emailForm(w http.ResponseWriter, r *http.Request, page, title string, links bool) (PageEmailLogin, *PageData) {
	values, ok := p.form(w, r, page, title)
	if !ok {
		return nil, nil
	}
	el := p.emailLogin()
	if el == nil || links && !el.PageLinks() || !links && !el.PageCodes() {
		p.notFoundPage(w, r)
		return nil, nil
	}
	return el, p.data(w, r, page, title, values)
}

// readEmail reads the email field of a page's form.
func readEmail(r *http.Request) (string, error) {
	f, err := ReadFields(r, formOnly)
	if err != nil {
		return "", err
	}
	email := f.Required("email")
	if err := f.Err(); err != nil {
		return "", err
	}
	if len(email) > usermgmt.MaxEmailLength {
		return "", invalid("email: too long")
	}
	return email, nil
}

// emailLinkSubmit is POST /login/email-link.
func (p *pages) emailLinkSubmit(w http.ResponseWriter, r *http.Request) {
	el, d := p.emailForm(w, r, "emaillink", titleEmailLink, true)
	if el == nil {
		return
	}
	email, err := readEmail(r)
	if err == nil {
		landing := strings.TrimRight(p.h.m.Config().BaseURL, "/") + pageLinkPath + "?token={token}"
		err = el.PageRequestLink(r.Context(), email, landing, d.RedirectURI)
	}
	if err != nil {
		p.failLogin(w, r, d, err)
		return
	}
	d.Notice, d.Sent = emailLinkSent, true
	p.render(w, r, http.StatusOK, d)
}

// failLogin shows the login page again with err (a request's bad
// address).
func (p *pages) failLogin(w http.ResponseWriter, r *http.Request, d *PageData, err error) {
	ld := p.data(w, r, "login", titleLogin, d.values)
	p.fail(w, r, ld, err)
}

// linkPage is GET /login/link: the confirm button, nothing spent.
func (p *pages) linkPage(w http.ResponseWriter, r *http.Request) {
	d := p.data(w, r, "emaillink", titleEmailLink, nil)
	token := pageQuery(r).Get("token")
	if el := p.emailLogin(); el == nil || !el.PageLinks() {
		p.notFoundPage(w, r)
		return
	}
	if token == "" || len(token) > 128 {
		d.Error = errLinkInvalid.Message
		p.render(w, r, http.StatusBadRequest, d)
		return
	}
	d.values.Set("token", token)
	p.render(w, r, http.StatusOK, d)
}

// errLinkInvalid is the landing without a usable token; the feature's own
// error says the same of a token it does not know.
var errLinkInvalid = usermgmt.NewError(http.StatusBadRequest, "magic_link_invalid", "This sign-in link is invalid, used or expired; ask for a new one.")

// linkSubmit is POST /login/link: the link spent, then the session
// cookies as after a password (or the second step), going to the link's
// redirect_uri when the pages allow it.
func (p *pages) linkSubmit(w http.ResponseWriter, r *http.Request) {
	el, d := p.emailForm(w, r, "emaillink", titleEmailLink, true)
	if el == nil {
		return
	}
	f, err := ReadFields(r, formOnly)
	var (
		t        *usermgmt.Tokens
		redirect string
	)
	if err == nil {
		token := f.Required("token")
		if err = f.Err(); err == nil {
			t, redirect, err = el.PageVerifyLink(r.Context(), token)
		}
	}
	d.RedirectURI = p.redirects.check(redirect)
	if c, ok := errors.AsType[*usermgmt.OTPChallengeError](err); ok {
		p.startOTP(w, r, c, d)
		return
	}
	if err != nil {
		d.values.Del("token")
		p.fail(w, r, d, err)
		return
	}
	p.signIn(w, r, t, d)
}

// emailCodeSubmit is POST /login/email-code: the code mailed, then the
// page to type it into.
func (p *pages) emailCodeSubmit(w http.ResponseWriter, r *http.Request) {
	el, d := p.emailForm(w, r, "emailcode", titleEmailCode, false)
	if el == nil {
		return
	}
	email, err := readEmail(r)
	if err == nil {
		err = el.PageRequestCode(r.Context(), email)
	}
	if err != nil {
		p.failLogin(w, r, d, err)
		return
	}
	d.Notice = emailCodeSent
	p.render(w, r, http.StatusOK, d)
}

// codeSubmit is POST /login/code: the sign-in with the code, then the
// session cookies (or the second step); a wrong code shows the code page
// again.
func (p *pages) codeSubmit(w http.ResponseWriter, r *http.Request) {
	el, d := p.emailForm(w, r, "emailcode", titleEmailCode, false)
	if el == nil {
		return
	}
	f, err := ReadFields(r, formOnly)
	var t *usermgmt.Tokens
	if err == nil {
		email, code := f.Required("email"), strings.TrimSpace(f.Required("code"))
		if err = f.Err(); err == nil {
			t, err = el.PageVerifyCode(r.Context(), email, code)
		}
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
