package httpadapter

import (
	"errors"
	"net/http"
	"net/url"
	"time"

	"github.com/usermgmt/usermgmt"
)

// The account pages: the second step of a two-factor login (/otp), the
// forgotten password (/forgot-password/request, and the page the mailed
// reset link opens, /forgot-password/reset), and the signed-in change
// (/reset-password/request mails a link, /reset-password/reset changes
// the password with the old one). Each calls the Manager as the JSON API's
// route of the same purpose does, with its messages.

// pageOTPCookie carries the two-factor challenge from the login form to
// /otp: HttpOnly, sent to /otp only, living as long as the challenge.
const pageOTPCookie = "usermgmt_otp"

const (
	titleOTP          = "Two-factor login"
	titleForgot       = "Forgot your password?"
	titleForgotReset  = "Choose a new password"
	titleResetRequest = "Reset your password"
	titleChange       = "Change your password"
)

// accountPageRoutes are the pages of two-factor login and passwords.
func accountPageRoutes(page func(method, path, name, flag, summary string, status int, response string, fn pageOp) route) []route {
	const html, see = "html", http.StatusSeeOther
	return []route{
		page(get, "/otp", "_otp", "_OTP", "The two-factor code page, after a login that needs one; 307 to /login without a pending login.", ok, html, (*pages).otpPage),
		page(post, "/otp", "_otp_post", "_OTP", "Finish a two-factor login with otp_code (or a recovery code); 303 to redirect_uri.", see, "", (*pages).otpSubmit),
		page(get, "/forgot-password/request", "_forgot_password_request", "_FORGOT_PASSWORD_REQUEST", "The page asking for a password reset link.", ok, html, (*pages).forgotPage),
		page(post, "/forgot-password/request", "_forgot_password_request_post", "_FORGOT_PASSWORD_REQUEST", "Mail a reset link (username or email); the same answer whether or not the account exists.", ok, html, (*pages).forgotSubmit),
		page(get, "/forgot-password/reset", "_forgot_password_reset", "_FORGOT_PASSWORD_RESET", "Where the mailed reset link lands (query token): the new-password form.", ok, html, (*pages).forgotResetPage),
		page(post, "/forgot-password/reset", "_forgot_password_reset_post", "_FORGOT_PASSWORD_RESET", "Set a new password with the reset token; 303 to /login.", see, "", (*pages).forgotResetSubmit),
		page(get, "/reset-password/request", "_reset_password_request", "_RESET_PASSWORD_REQUEST", "Signed in: the page that mails a reset link to the user.", ok, html, (*pages).resetRequestPage),
		page(post, "/reset-password/request", "_reset_password_request_post", "_RESET_PASSWORD_REQUEST", "Signed in: mail a reset link to the user.", ok, html, (*pages).resetRequestSubmit),
		page(get, "/reset-password/reset", "_reset_password_reset", "_RESET_PASSWORD_RESET", "Signed in: the change-password form (old and new password).", ok, html, (*pages).changePage),
		page(post, "/reset-password/reset", "_reset_password_reset_post", "_RESET_PASSWORD_RESET", "Signed in: change the password; the other sessions end.", ok, html, (*pages).changeSubmit),
	}
}

// startOTP answers a login that needs its second step: the challenge goes
// into an HttpOnly cookie for /otp, and the browser to /otp (with the
// redirect_uri, and the method so the page can say where the code is).
func (p *pages) startOTP(w http.ResponseWriter, r *http.Request, c *usermgmt.OTPChallengeError, d *PageData) {
	maxAge := int(c.ExpiresAt.Sub(p.h.m.Config().Clock()) / time.Second)
	if maxAge <= 0 || maxAge > int(usermgmt.OTPChallengeTTL/time.Second) {
		maxAge = int(usermgmt.OTPChallengeTTL / time.Second)
	}
	ck := p.jar.cookie(r, pageOTPCookie, c.Token, maxAge, true)
	ck.Path = "/otp"
	http.SetCookie(w, ck)
	q := url.Values{"method": {c.Method}}
	if d.RedirectURI != "" {
		q.Set("redirect_uri", d.RedirectURI)
	}
	p.redirect(w, r, "/otp?"+q.Encode())
}

// otpData is the /otp page, telling where the code comes from.
func (p *pages) otpData(w http.ResponseWriter, r *http.Request, values url.Values) *PageData {
	d := p.data(w, r, "otp", titleOTP, values)
	d.OTPMethod = values.Get("method")
	if d.OTPMethod != usermgmt.OTPEmail {
		d.OTPMethod = usermgmt.OTPAuthenticator
	}
	return d
}

func (p *pages) otpPage(w http.ResponseWriter, r *http.Request) {
	q := pageQuery(r)
	d := p.otpData(w, r, url.Values{"redirect_uri": q["redirect_uri"], "method": q["method"]})
	if cookieValue(r, pageOTPCookie) == "" { // no pending login: log in first, as the reference
		setNoStore(w.Header())
		redirectHTML(w, r, d.Link("/login"), http.StatusTemporaryRedirect)
		return
	}
	p.render(w, r, http.StatusOK, d)
}

// errNoChallenge is the /otp page without a pending login.
var errNoChallenge = usermgmt.ErrInvalidToken.WithMessage("Your login has expired: log in again.")

// otpSubmit is POST /otp: the API's second step (Manager.LoginOTP) with the
// challenge of the cookie, then the session cookies.
func (p *pages) otpSubmit(w http.ResponseWriter, r *http.Request) {
	values, ok := p.form(w, r, "otp", titleOTP)
	if !ok {
		return
	}
	d := p.otpData(w, r, values)
	challenge := cookieValue(r, pageOTPCookie)
	f, err := ReadFields(r, formOnly)
	var code string
	if err == nil {
		code = codeField(f, "otp_code")
		err = f.Err()
	}
	var t *usermgmt.Tokens
	switch {
	case err != nil:
	case challenge == "":
		err = errNoChallenge
	case code == "":
		err = invalid("otp_code: field required")
	default:
		t, err = p.h.m.LoginOTP(r.Context(), challenge, code)
	}
	if err != nil {
		p.fail(w, r, d, err)
		return
	}
	ck := p.jar.cookie(r, pageOTPCookie, "", -1, true)
	ck.Path = "/otp"
	http.SetCookie(w, ck)
	p.signIn(w, r, t, d)
}

func (p *pages) forgotPage(w http.ResponseWriter, r *http.Request) {
	p.render(w, r, http.StatusOK, p.data(w, r, "forgot", titleForgot, nil))
}

// forgotSubmit is POST /forgot-password/request: the API's forgot-password
// call, with its answer whether or not the account exists.
func (p *pages) forgotSubmit(w http.ResponseWriter, r *http.Request) {
	values, ok := p.form(w, r, "forgot", titleForgot)
	if !ok {
		return
	}
	d := p.data(w, r, "forgot", titleForgot, values)
	in, err := decodeForgotBody(r)
	if err == nil {
		err = p.h.m.ForgotPassword(r.Context(), in.username, in.email)
	}
	if err != nil {
		p.fail(w, r, d, err)
		return
	}
	d.Notice = p.h.mailNotice(forgotSent, noResetMail)
	d.Sent = true
	p.render(w, r, http.StatusOK, d)
}

func (p *pages) forgotResetPage(w http.ResponseWriter, r *http.Request) {
	d := p.data(w, r, "reset", titleForgotReset, url.Values{"token": pageQuery(r)["token"]})
	token := d.Value("token")
	if token == "" {
		d.Error = "This reset link is incomplete: ask for a new one."
		p.render(w, r, http.StatusOK, d)
		return
	}
	// A spent or expired link says so at once, not after a new password
	// has been typed in vain.
	if err := p.h.m.CheckResetToken(r.Context(), token); err != nil {
		d.values.Del("token") // no form
		if errors.Is(err, usermgmt.ErrInvalidToken) {
			err = errDeadResetLink
		}
		p.fail(w, r, d, err)
		return
	}
	p.render(w, r, http.StatusOK, d)
}

// errDeadResetLink is the reset page of a link that was used, expired or
// replaced.
var errDeadResetLink = usermgmt.ErrInvalidToken.WithMessage("This reset link has already been used or has expired. Ask for a new one below.")

// forgotResetSubmit is POST /forgot-password/reset: the API's reset; then
// the login page, as every session of the account has ended.
func (p *pages) forgotResetSubmit(w http.ResponseWriter, r *http.Request) {
	values, ok := p.form(w, r, "reset", titleForgotReset)
	if !ok {
		return
	}
	d := p.data(w, r, "reset", titleForgotReset, values)
	in, err := decodeReset(r)
	if err == nil {
		err = p.h.m.ResetPassword(r.Context(), in.token, in.password, in.confirm)
	}
	if err != nil {
		p.fail(w, r, d, err)
		return
	}
	p.jar.clearSession(w, r)
	p.redirect(w, r, "/login?password_reset=1")
}

// signedIn returns the browser's user for a page that needs one; nil after
// sending the browser to log in (and back).
func (p *pages) signedIn(w http.ResponseWriter, r *http.Request) *usermgmt.Principal {
	pr := p.session(w, r)
	if pr == nil {
		p.redirect(w, r, "/login?"+url.Values{"redirect_uri": {r.URL.Path}}.Encode())
	}
	return pr
}

func (p *pages) resetRequestPage(w http.ResponseWriter, r *http.Request) {
	pr := p.signedIn(w, r)
	if pr == nil {
		return
	}
	d := p.data(w, r, "resetrequest", titleResetRequest, nil)
	d.signIn(pr)
	p.render(w, r, http.StatusOK, d)
}

// resetRequestSubmit is POST /reset-password/request: the API's
// signed-in reset request (a link mailed to the user).
func (p *pages) resetRequestSubmit(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.form(w, r, "resetrequest", titleResetRequest); !ok {
		return
	}
	pr := p.signedIn(w, r)
	if pr == nil {
		return
	}
	d := p.data(w, r, "resetrequest", titleResetRequest, nil)
	d.signIn(pr)
	if err := p.h.m.RequestPasswordReset(r.Context(), pr); err != nil {
		p.fail(w, r, d, err)
		return
	}
	d.Notice = p.h.mailNotice(resetSent, noResetMail)
	d.Sent = true
	p.render(w, r, http.StatusOK, d)
}

func (p *pages) changePage(w http.ResponseWriter, r *http.Request) {
	pr := p.signedIn(w, r)
	if pr == nil {
		return
	}
	d := p.data(w, r, "change", titleChange, nil)
	d.signIn(pr)
	p.render(w, r, http.StatusOK, d)
}

// changeSubmit is POST /reset-password/reset: the API's password change
// (the old password, then the new one twice); this browser stays signed
// in, every other session ends.
func (p *pages) changeSubmit(w http.ResponseWriter, r *http.Request) {
	if _, ok := p.form(w, r, "change", titleChange); !ok {
		return
	}
	pr := p.signedIn(w, r)
	if pr == nil {
		return
	}
	d := p.data(w, r, "change", titleChange, nil)
	d.signIn(pr)
	in, err := decodeChangePassword(r)
	if err == nil {
		err = p.h.m.ChangePassword(r.Context(), pr, in.old, in.password, in.confirm)
	}
	if err != nil {
		p.fail(w, r, d, err)
		return
	}
	d.Notice = "Your password has been changed. Your other sessions have been logged out."
	d.Sent = true
	p.render(w, r, http.StatusOK, d)
}
