package httpadapter

import (
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// The account page (/account): what the signed-in user sees and changes
// of their account: the profile, the sessions (end one, or every one),
// the linked providers (link, unlink), the second factor and its recovery
// codes (/account/two-factor), the password (the change form posts to
// /reset-password/reset), the passkeys when the passkey feature is on
// (pages_passkey.go), and deleting the account. Every form posts to its
// own path, passes the pages' origin and token checks (pages.form), calls
// one Manager function as the API's route of the same purpose does, and
// then leads back to /account with a notice (303), or shows the page with
// the error and its status.

const (
	titleAccount   = "Your account"
	titleTwoFactor = "Two-factor login"
	// accountPath is the account page.
	accountPath = "/account"
)

// AccountData is what the account page shows (PageData.Account).
type AccountData struct {
	// Sessions are the user's live sessions, this browser's first.
	Sessions []AccountSession
	// Linked are the providers linked to the account; Unlinked the
	// configured providers that are not.
	Linked, Unlinked []ProviderLink
	// HasPassword is false for an account that signs in only through a
	// provider (or a passkey).
	HasPassword bool
	// Passkeys is true when the passkey feature is on; Keys are the
	// user's passkeys.
	Passkeys bool
	Keys     []PagePasskey
}

// AccountSession is one session on the account page.
type AccountSession struct {
	// ID is the session's ID; Current is true for this browser's.
	ID      string
	Current bool
	// Started is the login, LastUsed the last renewal (UTC, as text).
	Started, LastUsed string
	// Client describes the browser (its User-Agent, shortened) and IP its
	// address at login.
	Client, IP string
}

// TwoFactorData is what the two-factor page shows (PageData.TwoFactor).
type TwoFactorData struct {
	// Method is the user's current second factor (none, authenticator,
	// email); Enrol the one being enrolled ("" when none is).
	Method, Enrol string
	// Secret is the authenticator secret to type in by hand; QRURL its QR
	// code image.
	Secret, QRURL string
	// CodeSent is true once the enrolment code was mailed.
	CodeSent bool
	// RecoveryCodes are shown once, right after enabling or renewing.
	RecoveryCodes []string
	// HasPassword is true when the account has a password (which can turn
	// the second factor off).
	HasPassword bool
}

// accountNotices are the confirmations /account?done=... shows.
var accountNotices = map[string]string{
	"profile":          "Your profile has been saved.",
	"email-sent":       "Your profile has been saved. We have mailed a link to your new address: open it to verify the address.",
	"email-unverified": "Your profile has been saved. This service sends no mail, so your new address stays unverified until an administrator verifies it.",
	"session":          "The session has ended.",
	"unlinked":         "The account has been unlinked.",
	"linked":           "The account has been linked.",
	"passkey-added":    "Your passkey has been added.",
	"passkey-renamed":  "Your passkey has been renamed.",
	"passkey-removed":  "Your passkey has been removed.",
	"two-factor-off":   "Two-factor login is off.",
}

// meRoutes are the account page's routes.
func meRoutes(page func(method, path, name, flag, summary string, status int, response string, fn pageOp) route) []route {
	const html, see = "html", http.StatusSeeOther
	return []route{
		page(get, accountPath, "_account", "_ACCOUNT", "Signed in: the account page (profile, sessions, linked providers, two-factor login, password, passkeys, deletion).", ok, html, (*pages).accountPage),
		page(post, "/account/profile", "_account_profile_post", "_ACCOUNT", "Signed in: change the display name and description, and the email (a new address gets a verification mail); 303 to /account.", see, "", (*pages).profileSubmit),
		page(post, "/account/sessions/revoke", "_account_session_revoke_post", "_ACCOUNT", "Signed in: end one session (session_id); 303 to /account, or to /login for this browser's.", see, "", (*pages).revokeSubmit),
		page(post, "/account/sessions/revoke-all", "_account_sessions_revoke_all_post", "_ACCOUNT", "Signed in: end every session of the account, this one included; 303 to /login.", see, "", (*pages).revokeAllSubmit),
		page(get, "/account/link/{provider}", "_account_link", "_ACCOUNT", "Signed in: link a provider's account (302 to the provider), ending on /account; refused from another site.", http.StatusFound, "", (*pages).linkStart),
		page(post, "/account/unlink", "_account_unlink_post", "_ACCOUNT", "Signed in: unlink a provider (provider); 303 to /account.", see, "", (*pages).unlinkSubmit),
		page(post, "/account/delete", "_account_delete_post", "_ACCOUNT", "Signed in: delete the account after its password (password), or, for an account without one, its typed username (confirm_username); 303 to /login.", see, "", (*pages).deleteSubmit),
		page(get, "/account/two-factor", "_account_two_factor", "_ACCOUNT", "Signed in: the second factor's page; ?method=authenticator shows the secret to enrol.", ok, html, (*pages).twoFactorPage),
		page(get, "/account/two-factor/qr.png", "_account_two_factor_qr", "_ACCOUNT", "Signed in: the QR code of the authenticator secret being enrolled.", ok, "image", (*pages).twoFactorQR),
		page(post, "/account/two-factor/email", "_account_two_factor_email_post", "_ACCOUNT", "Signed in: mail a code to enrol the email method.", ok, html, (*pages).twoFactorSendEmail),
		page(post, "/account/two-factor", "_account_two_factor_post", "_ACCOUNT", "Signed in: enable or renew a second factor (method, otp_code), showing the recovery codes once, or turn it off (method none, otp_code or password).", ok, html, (*pages).twoFactorSubmit),
	}
}

// accountData returns the account page of pr, with the Manager's lists.
func (p *pages) accountData(w http.ResponseWriter, r *http.Request, pr *usermgmt.Principal) (*PageData, error) {
	ctx := r.Context()
	u, err := p.h.m.User(ctx, pr.User().UUID)
	if err != nil {
		return nil, err
	}
	d := p.data(w, r, "account", titleAccount, nil)
	d.User = u
	a := &AccountData{HasPassword: u.PasswordHash != ""}
	me := p.h.m.As(u)
	ss, err := me.Sessions(ctx)
	if err != nil {
		return nil, err
	}
	now := p.h.m.Config().Clock()
	for _, s := range ss {
		if !s.Active(now) {
			continue
		}
		a.Sessions = append(a.Sessions, AccountSession{
			ID: s.ID, Current: s.ID == pr.SessionID,
			Started: s.CreatedAt.UTC().Format(pageTime), LastUsed: s.RotatedAt.UTC().Format(pageTime),
			Client: shortClient(s.UserAgent), IP: s.IP,
		})
	}
	slices.SortStableFunc(a.Sessions, func(x, y AccountSession) int {
		switch {
		case x.Current == y.Current:
			return 0
		case x.Current:
			return -1
		}
		return 1
	})
	ids, err := me.ExternalIdentities(ctx)
	if err != nil {
		return nil, err
	}
	linked := map[string]bool{}
	for _, x := range ids {
		linked[x.Provider] = true
		a.Linked = append(a.Linked, ProviderLink{Key: x.Provider, Name: p.providerName(x.Provider), Account: firstOf(x.Email, x.Username, x.DisplayName)})
	}
	for _, name := range p.h.m.OAuthProviders() {
		if !linked[name] {
			a.Unlinked = append(a.Unlinked, ProviderLink{Key: name, Name: p.providerName(name), URL: "/account/link/" + url.PathEscape(name)})
		}
	}
	if pk := p.passkeys(); pk != nil {
		a.Passkeys = true
		if a.Keys, err = pk.PagePasskeys(ctx, u); err != nil {
			return nil, err
		}
	}
	d.Account = a
	return d, nil
}

// pageTime is how the pages write a time.
const pageTime = "2 Jan 2006, 15:04 UTC"

// firstOf returns the first non-empty string.
func firstOf(s ...string) string {
	for _, v := range s {
		if v != "" {
			return v
		}
	}
	return ""
}

// shortClient names a browser by its User-Agent, in a few words.
func shortClient(ua string) string {
	if ua == "" {
		return "Unknown client"
	}
	browser := ""
	for _, b := range []struct{ token, name string }{
		{"Edg/", "Edge"}, {"OPR/", "Opera"}, {"Firefox/", "Firefox"}, {"Chrome/", "Chrome"}, {"Safari/", "Safari"},
		{"curl/", "curl"},
	} {
		if strings.Contains(ua, b.token) {
			browser = b.name
			break
		}
	}
	system := ""
	for _, s := range []struct{ token, name string }{
		{"Android", "Android"}, {"iPhone", "iPhone"}, {"iPad", "iPad"}, {"Windows", "Windows"},
		{"Mac OS X", "macOS"}, {"CrOS", "ChromeOS"}, {"Linux", "Linux"},
	} {
		if strings.Contains(ua, s.token) {
			system = s.name
			break
		}
	}
	switch {
	case browser != "" && system != "":
		return browser + " on " + system
	case browser != "" || system != "":
		return browser + system
	}
	if len(ua) > 60 {
		return ua[:60] + "…"
	}
	return ua
}

// accountPage is GET /account.
func (p *pages) accountPage(w http.ResponseWriter, r *http.Request) {
	pr := p.signedIn(w, r)
	if pr == nil {
		return
	}
	d, err := p.accountData(w, r, pr)
	if err != nil {
		p.fail(w, r, p.data(w, r, "account", titleAccount, nil), err)
		return
	}
	d.Notice = accountNotices[pageQuery(r).Get("done")]
	p.render(w, r, http.StatusOK, d)
}

// accountForm checks an account form post and its session: the principal,
// or nil once it has answered (the page with the CSRF error, or the login
// page for a browser without a session).
func (p *pages) accountForm(w http.ResponseWriter, r *http.Request) (*usermgmt.Principal, url.Values) {
	if _, ok := p.form(w, r, "account", titleAccount); !ok {
		return nil, nil
	}
	pr := p.signedIn(w, r)
	if pr == nil {
		return nil, nil
	}
	f, err := ReadFields(r, formOnly)
	if err == nil {
		err = f.Err()
	}
	if err != nil {
		p.accountFail(w, r, pr, err)
		return nil, nil
	}
	return pr, f.form
}

// accountFail shows the account page with err.
func (p *pages) accountFail(w http.ResponseWriter, r *http.Request, pr *usermgmt.Principal, err error) {
	d, derr := p.accountData(w, r, pr)
	if derr != nil {
		d = p.data(w, r, "account", titleAccount, nil)
	}
	p.fail(w, r, d, err)
}

// accountDone leads back to the account page with a notice.
func (p *pages) accountDone(w http.ResponseWriter, r *http.Request, notice string) {
	p.redirect(w, r, accountPath+"?done="+notice)
}

// profileSubmit is POST /account/profile: the API's PATCH of the user's
// own display_name and description, and of the email when the form sends
// a new one (Actor.UpdateUser, the policy's self-edit and its email rules:
// the new address is checked, unverified until its mailed link is opened,
// and the links of the old one are void).
func (p *pages) profileSubmit(w http.ResponseWriter, r *http.Request) {
	pr, v := p.accountForm(w, r)
	if pr == nil {
		return
	}
	ctx := r.Context()
	name, desc := strings.TrimSpace(v.Get("display_name")), v.Get("description")
	patch := usermgmt.UserPatch{DisplayName: &name, Description: &desc}
	if v.Has("email") {
		u, err := p.h.m.User(ctx, pr.User().UUID)
		if err != nil {
			p.accountFail(w, r, pr, err)
			return
		}
		if email := strings.TrimSpace(v.Get("email")); !sameEmail(email, u.Email) {
			patch.Email = &email
		}
	}
	if _, err := p.h.m.As(pr.User()).UpdateUser(usermgmt.ContextWithCaller(ctx, pr), pr.User().UUID, patch); err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	switch {
	case patch.Email == nil:
		p.accountDone(w, r, "profile")
	case p.h.m.HasMailer():
		p.accountDone(w, r, "email-sent")
	default:
		p.accountDone(w, r, "email-unverified")
	}
}

// sameEmail is true when typed is the address current, as the Manager
// stores it (a form sent back unchanged changes nothing).
func sameEmail(typed, current string) bool {
	n, err := usermgmt.NormalizeEmail(typed)
	return err == nil && n == current
}

// revokeSubmit is POST /account/sessions/revoke: one session ends
// (Actor.RevokeSession); ending this browser's is a logout.
func (p *pages) revokeSubmit(w http.ResponseWriter, r *http.Request) {
	pr, v := p.accountForm(w, r)
	if pr == nil {
		return
	}
	id := v.Get("session_id")
	if id == "" {
		p.accountFail(w, r, pr, invalid("session_id: field required"))
		return
	}
	if id == pr.SessionID {
		p.endBrowserSession(w, r, pr)
		return
	}
	if err := p.h.m.As(pr.User()).RevokeSession(r.Context(), id); err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	p.accountDone(w, r, "session")
}

// endBrowserSession logs this browser out and leads to the login page.
func (p *pages) endBrowserSession(w http.ResponseWriter, r *http.Request, pr *usermgmt.Principal) {
	if err := p.h.m.Logout(r.Context(), pr); err != nil && !errors.Is(err, usermgmt.ErrSessionNotFound) {
		p.accountFail(w, r, pr, err)
		return
	}
	p.jar.clearSession(w, r)
	p.redirect(w, r, "/login?logged_out=1")
}

// revokeAllSubmit is POST /account/sessions/revoke-all ("sign out
// everywhere"): every other session ends (Actor.RevokeSession each), then
// this one (Manager.Logout).
func (p *pages) revokeAllSubmit(w http.ResponseWriter, r *http.Request) {
	pr, _ := p.accountForm(w, r)
	if pr == nil {
		return
	}
	ctx := r.Context()
	me := p.h.m.As(pr.User())
	ss, err := me.Sessions(ctx)
	if err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	for _, s := range ss {
		if s.ID == pr.SessionID || s.RevokedAt != nil {
			continue
		}
		if err := me.RevokeSession(ctx, s.ID); err != nil && !errors.Is(err, usermgmt.ErrSessionNotFound) {
			p.accountFail(w, r, pr, err)
			return
		}
	}
	p.endBrowserSession(w, r, pr)
}

// linkStart is GET /account/link/{provider}: a flow that links the
// provider's account to the signed-in user (as GET /oauth/{provider}/link)
// and ends on /account. A navigation from another site is refused.
func (p *pages) linkStart(w http.ResponseWriter, r *http.Request) {
	pr := p.signedIn(w, r)
	if pr == nil {
		return
	}
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		p.accountFail(w, r, pr, errCSRF)
		return
	}
	provider := r.PathValue("provider")
	red, err := p.h.m.BeginOAuth(r.Context(), usermgmt.OAuthStart{Provider: provider, CallbackURL: p.h.callbackURL(provider), UserUUID: pr.User().UUID})
	if err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	p.h.setFlowCookie(w, red)
	p.markPageFlow(w, red, accountPath+"?done=linked")
	toProvider(w, red)
}

// unlinkSubmit is POST /account/unlink: Actor.UnlinkOAuth, which keeps the
// last way into the account.
func (p *pages) unlinkSubmit(w http.ResponseWriter, r *http.Request) {
	pr, v := p.accountForm(w, r)
	if pr == nil {
		return
	}
	provider := v.Get("provider")
	if provider == "" {
		p.accountFail(w, r, pr, invalid("provider: field required"))
		return
	}
	if err := p.h.m.As(pr.User()).UnlinkOAuth(r.Context(), provider); err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	p.accountDone(w, r, "unlinked")
}

// errDeleteConfirm is a deletion whose typed username does not match;
// errDeletePassword one without the password of an account that has one,
// errDeleteWrongPassword one with a wrong password.
var (
	errDeleteConfirm       = invalid("To delete the account, type its username exactly.")
	errDeletePassword      = invalid("To delete the account, enter your password.")
	errDeleteWrongPassword = usermgmt.ErrWrongPasswordChange.WithMessage("The password is not right, so the account was not deleted.")
)

// deleteSubmit is POST /account/delete: Actor.DeleteUser of the user's own
// account, once the user has confirmed it: with the account's password
// (Manager.CheckPassword, counted by the login lockout) when it has one,
// else by typing its username; then the login page.
func (p *pages) deleteSubmit(w http.ResponseWriter, r *http.Request) {
	pr, v := p.accountForm(w, r)
	if pr == nil {
		return
	}
	ctx := usermgmt.ContextWithCaller(r.Context(), pr)
	u, err := p.h.m.User(ctx, pr.User().UUID)
	switch {
	case err != nil:
	case u.PasswordHash != "":
		if pass := v.Get("password"); pass == "" {
			err = errDeletePassword
		} else if err = p.h.m.CheckPassword(ctx, u.UUID, pass); errors.Is(err, usermgmt.ErrWrongPasswordChange) {
			err = errDeleteWrongPassword
		}
	case strings.TrimSpace(v.Get("confirm_username")) != u.Username:
		err = errDeleteConfirm
	}
	if err == nil {
		err = p.h.m.As(u).DeleteUser(ctx, u.UUID)
	}
	if err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	p.jar.clearSession(w, r)
	p.redirect(w, r, "/login?deleted=1")
}

// twoFactorData is the two-factor page of the signed-in user u.
func (p *pages) twoFactorData(w http.ResponseWriter, r *http.Request, u *usermgmt.User) *PageData {
	d := p.data(w, r, "twofactor", titleTwoFactor, nil)
	d.User = u
	d.TwoFactor = &TwoFactorData{Method: u.OTPMethod, HasPassword: u.PasswordHash != ""}
	return d
}

// twoFactorPage is GET /account/two-factor: the current method and the
// ways to change it; ?method=authenticator begins that enrolment
// (Manager.SetupOTP), ?method=email offers to mail a code.
func (p *pages) twoFactorPage(w http.ResponseWriter, r *http.Request) {
	pr := p.signedIn(w, r)
	if pr == nil {
		return
	}
	u, err := p.h.m.User(r.Context(), pr.User().UUID)
	if err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	d := p.twoFactorData(w, r, u)
	switch pageQuery(r).Get("method") {
	case usermgmt.OTPAuthenticator:
		if u.OTPMethod != usermgmt.OTPNone && u.OTPMethod != usermgmt.OTPAuthenticator {
			break
		}
		d.TwoFactor.Enrol = usermgmt.OTPAuthenticator
		if u.OTPMethod == usermgmt.OTPNone {
			s, err := p.h.m.SetupOTP(r.Context(), u.UUID)
			if err != nil {
				p.fail(w, r, d, err)
				return
			}
			d.TwoFactor.Secret, d.TwoFactor.QRURL = s.Secret, "/account/two-factor/qr.png"
		}
	case usermgmt.OTPEmail:
		if u.OTPMethod == usermgmt.OTPNone || u.OTPMethod == usermgmt.OTPEmail {
			d.TwoFactor.Enrol = usermgmt.OTPEmail
		}
	}
	p.render(w, r, http.StatusOK, d)
}

// twoFactorQR is GET /account/two-factor/qr.png: Manager.OTPQRCode, as
// GET /auth/QR.
func (p *pages) twoFactorQR(w http.ResponseWriter, r *http.Request) {
	pr := p.signedIn(w, r)
	if pr == nil {
		return
	}
	img, err := p.h.m.OTPQRCode(r.Context(), pr.User().UUID)
	if err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	hdr := w.Header()
	setNoStore(hdr)
	hdr.Set("Content-Type", "image/png")
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(img)
}

// twoFactorForm checks a two-factor form post: the user, the posted
// values, and the page to answer with; nil once it has answered.
func (p *pages) twoFactorForm(w http.ResponseWriter, r *http.Request) (*usermgmt.User, url.Values, *PageData) {
	if _, ok := p.form(w, r, "twofactor", titleTwoFactor); !ok {
		return nil, nil, nil
	}
	pr := p.signedIn(w, r)
	if pr == nil {
		return nil, nil, nil
	}
	u, err := p.h.m.User(r.Context(), pr.User().UUID)
	if err != nil {
		p.accountFail(w, r, pr, err)
		return nil, nil, nil
	}
	d := p.twoFactorData(w, r, u)
	f, err := ReadFields(r, formOnly)
	if err == nil {
		err = f.Err()
	}
	if err != nil {
		p.fail(w, r, d, err)
		return nil, nil, nil
	}
	return u, f.form, d
}

// twoFactorSendEmail is POST /account/two-factor/email: Manager.SendEmailOTP
// (the code that enables the email method, or turns it off).
func (p *pages) twoFactorSendEmail(w http.ResponseWriter, r *http.Request) {
	u, _, d := p.twoFactorForm(w, r)
	if u == nil {
		return
	}
	if u.OTPMethod == usermgmt.OTPNone || u.OTPMethod == usermgmt.OTPEmail {
		d.TwoFactor.Enrol = usermgmt.OTPEmail
	}
	if err := p.h.m.SendEmailOTP(r.Context(), u.UUID); err != nil {
		p.fail(w, r, d, err)
		return
	}
	d.TwoFactor.CodeSent = true
	d.Notice = "We emailed you a code. Enter it below."
	p.render(w, r, http.StatusOK, d)
}

// twoFactorSubmit is POST /account/two-factor: Manager.ChangeOTPMethod, as
// PATCH /auth/OTP/{method}. Enabling (or renewing) shows the ten recovery
// codes once; turning it off leads back to /account.
func (p *pages) twoFactorSubmit(w http.ResponseWriter, r *http.Request) {
	u, v, d := p.twoFactorForm(w, r)
	if u == nil {
		return
	}
	method, code, pass := v.Get("method"), codeValue(v.Get("otp_code")), v.Get("password")
	switch method {
	case usermgmt.OTPAuthenticator, usermgmt.OTPEmail:
		d.TwoFactor.Enrol = method
		if code == "" {
			p.fail(w, r, d, invalid("otp_code: field required"))
			return
		}
	case usermgmt.OTPNone:
		if code == "" && pass == "" {
			p.fail(w, r, d, invalid("Enter a code or your password to turn two-factor login off."))
			return
		}
	default:
		p.fail(w, r, d, invalid("method: must be one of authenticator, email, none"))
		return
	}
	next, codes, err := p.h.m.ChangeOTPMethod(r.Context(), u.UUID, method, code, pass)
	if err != nil {
		p.fail(w, r, d, err)
		return
	}
	if method == usermgmt.OTPNone {
		p.accountDone(w, r, "two-factor-off")
		return
	}
	d = p.twoFactorData(w, r, next)
	d.TwoFactor.RecoveryCodes = codes
	d.Notice = "Two-factor login is on. Keep these recovery codes somewhere safe: each signs you in once if you lose your second factor, and they are shown only now."
	d.Sent = true
	p.render(w, r, http.StatusOK, d)
}

// codeValue is a typed code without the spaces and dashes people add.
func codeValue(s string) string {
	return strings.NewReplacer(" ", "", "\t", "").Replace(strings.TrimSpace(s))
}
