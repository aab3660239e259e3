package httpadapter

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io"
	"io/fs"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/files"
)

// The hosted pages: server-rendered HTML (html/template) for people signing
// in with a browser, with no framework, no build step and nothing loaded
// from another site. They call the same Manager methods as the JSON API,
// decode their forms with the same decoders, and show the same messages.
// A successful login or sign-up sets the session cookies (cookie.go).
//
// Each page is one template file in pages/ defining "content", rendered
// inside layout.html; a host replaces any file through PagesOptions.Files.

//go:embed pages
var embeddedPages embed.FS

// PagesOptions configures the hosted pages (Options.Pages).
type PagesOptions struct {
	// ProjectName is shown in every title and header; its initials, drawn
	// as the user avatars are (files.Avatars), make the default logo and
	// favicon. Default: the Manager's Issuer.
	ProjectName string
	// Logo is the image served at /logo.png and shown in the header (PNG,
	// or any type a browser sniffs). Nil: the initials of ProjectName as
	// a 100-pixel PNG (files.Avatars).
	Logo []byte
	// Favicon is served at /favicon.ico. Nil: Logo when set, else the
	// generated initials image (as an ICO).
	Favicon []byte
	// Files overrides the embedded templates and assets, by name: a file
	// of Files named like one of the embedded ones (layout.html,
	// widget.html, login.html, register.html, logout.html, verified.html,
	// notfound.html, otp.html, forgot.html, reset.html,
	// resetrequest.html, change.html, limited.html, account.html,
	// twofactor.html, emaillink.html, emailcode.html, icons.html,
	// style.css, pages.js, passkey.js)
	// replaces it.
	// Templates are executed with a *PageData. New panics when an
	// override does not parse: that is a programming error.
	Files fs.FS
	// RedirectOrigins are the other origins ("https://app.example.com")
	// that a redirect_uri may lead to after login or sign-up. A path on
	// this site ("/app") and the origin of the Manager's BaseURL are
	// always allowed; anything else is ignored in favour of AfterLogin.
	RedirectOrigins []string
	// AfterLogin is where login and sign-up lead without a redirect_uri.
	// Default "/login", which shows who is signed in.
	AfterLogin string
	// TermsURL, PrivacyURL and SupportURL are the host's terms of use,
	// privacy notice and support pages, linked in every page's footer and
	// served as redirects at /terms, /privacy and /support. A link that is
	// not set is not shown (and its path answers the not-found page).
	TermsURL, PrivacyURL, SupportURL string
	// ProviderNames are the names the provider buttons show, by provider
	// key ("oidc": "Acme SSO"), over the built-in ones (GitHub, Google,
	// ...). A key with neither shows its words capitalised ("my-idp":
	// "My Idp"); "oidc" alone shows "single sign-on".
	ProviderNames map[string]string
}

// PageData is what every page template is executed with.
type PageData struct {
	// Project is the project's name; Title the page's.
	Project, Title string
	// Page is the template's name without .html ("login").
	Page string
	// StyleURL and ScriptURL are the pages' stylesheet and script.
	StyleURL, ScriptURL string
	// CSRFToken goes in every form, as the hidden field csrf_token.
	CSRFToken string
	// RedirectURI is the checked redirect_uri to carry through the form
	// ("" when none was given or it is not allowed).
	RedirectURI string
	// Error is the message of a failed submission (the JSON API's detail),
	// Notice a confirmation to show.
	Error, Notice string
	// User is the signed-in user, nil when nobody is.
	User *usermgmt.User
	// Impersonator is the UUID of the admin acting as User when the
	// page session is an impersonation ("" otherwise); the layout then
	// shows a banner. The pages never open one themselves (an
	// impersonation's token is a bearer token of the API), but a host
	// that puts one in the session cookie gets the banner.
	Impersonator string
	// PasswordHint describes the password policy.
	PasswordHint string
	// ForgotPasswordURL links the password-reset request page, when one is
	// served.
	ForgotPasswordURL string
	// Providers are the third-party login buttons.
	Providers []ProviderLink
	// OTPMethod is the second factor /otp asks for (authenticator or
	// email).
	OTPMethod string
	// Sent is set once a form's request has been done (a link mailed, a
	// password changed): the page shows Notice instead of the form.
	Sent bool
	// BackURL is the form a "limited" page leads back to.
	BackURL string
	// FooterLinks are the configured footer links (terms, privacy,
	// support), none when none is configured.
	FooterLinks []FooterLink
	// Widget is what the page's form shows for a Guard's check (a
	// CAPTCHA), nil for none: the "widget" template (widget.html) draws
	// it.
	Widget *Widget
	// Account is the account page's content; TwoFactor the two-factor
	// page's (nil on the other pages).
	Account   *AccountData
	TwoFactor *TwoFactorData
	// Passkeys is true when the passkey feature is on (PagePasskeys):
	// the login page offers passkeys, the account page manages them.
	// PasskeyScriptURL is their script, APIPrefix where its API calls go.
	Passkeys                    bool
	PasskeyScriptURL, APIPrefix string
	// EmailLinks and EmailCodes are true when sign-in by mail is on
	// (PageEmailLogin) with links, and with codes: the login page shows
	// "Email me a link" and "Email me a code".
	EmailLinks, EmailCodes bool

	values     url.Values
	afterLogin string
}

// ProviderLink is a third-party login button of the pages.
type ProviderLink struct {
	// Name is shown on the button ("GitHub"); URL starts the login.
	Name, URL string
	// Key is the provider's key ("github"), which names its icon.
	Key string
	// Account names the provider's account, on the account page.
	Account string
}

// FooterLink is a link of the pages' footer.
type FooterLink struct {
	// Name is the link's text ("Terms"); URL where it leads.
	Name, URL string
}

// Value returns the submitted value of a form field, to show again after
// an error. Passwords are never kept.
func (d *PageData) Value(name string) string { return d.values.Get(name) }

// Link returns path with the page's redirect_uri, so that moving between
// the login and sign-up pages keeps where the user is going.
func (d *PageData) Link(path string) string {
	if d.RedirectURI == "" {
		return path
	}
	return path + "?" + url.Values{"redirect_uri": {d.RedirectURI}}.Encode()
}

// Continue is where a signed-in user goes on to.
func (d *PageData) Continue() string {
	if d.RedirectURI != "" {
		return d.RedirectURI
	}
	return d.afterLogin
}

// pageFiles are the templates of the pages, layout.html excepted.
var pageFiles = []string{"login", "register", "logout", "verified", "notfound",
	"otp", "forgot", "reset", "resetrequest", "change", "limited", "account", "twofactor", "emaillink", "emailcode"}

// pagePartials are templates every page may use (the provider icons).
var pagePartials = []string{"icons"}

// pageAssets are the static files of the pages.
var pageAssets = map[string]string{"style.css": "text/css; charset=utf-8", "pages.js": "text/javascript; charset=utf-8",
	"passkey.js": "text/javascript; charset=utf-8"}

// pages holds what the page handlers share.
type pages struct {
	h          *handler
	jar        *cookieJar
	auth       *authenticator
	project    string
	templates  map[string]*template.Template
	assets     map[string]asset
	assetURL   map[string]string
	logo       asset
	favicon    asset
	redirects  redirectPolicy
	afterLogin string
	csp        string
	hint       string
	footer     []FooterLink
	named      map[string]string  // the host's provider names
	terms      map[string]string  // /terms, /privacy, /support: the configured URL
	widgets    map[string]*Widget // by page: the Guards' widgets of its form
}

// asset is a static file with its headers.
type asset struct {
	body        []byte
	contentType string
	etag        string
}

func newAsset(body []byte, contentType string) asset {
	if contentType == "" {
		contentType = http.DetectContentType(body)
	}
	sum := sha256.Sum256(body)
	return asset{body: body, contentType: contentType, etag: `"` + hex.EncodeToString(sum[:8]) + `"`}
}

// newPages prepares the pages: it parses the templates (panicking on a
// host's override that does not parse) and draws the default images.
func newPages(h *handler, o PagesOptions, widgets map[string]*Widget) *pages {
	cfg := h.m.Config()
	if o.ProjectName == "" {
		o.ProjectName = cfg.Issuer
	}
	if o.AfterLogin == "" {
		o.AfterLogin = "/login"
	}
	p := &pages{
		h: h, jar: h.auth.jar, auth: h.auth, project: o.ProjectName,
		templates: map[string]*template.Template{}, assets: map[string]asset{}, assetURL: map[string]string{},
		redirects:  newRedirectPolicy(cfg.BaseURL, o.RedirectOrigins),
		afterLogin: o.AfterLogin,
		hint:       cfg.PasswordPolicy.Describe(),
		named:      o.ProviderNames,
		terms:      map[string]string{},
		widgets:    widgets,
	}
	for _, l := range []struct{ name, path, url string }{
		{"Terms", "/terms", o.TermsURL}, {"Privacy", "/privacy", o.PrivacyURL}, {"Support", "/support", o.SupportURL},
	} {
		if l.url != "" {
			p.footer = append(p.footer, FooterLink{Name: l.name, URL: l.url})
			p.terms[l.path] = l.url
		}
	}
	read := func(name string) []byte {
		if o.Files != nil {
			if b, err := fs.ReadFile(o.Files, name); err == nil {
				return b
			}
		}
		b, err := embeddedPages.ReadFile("pages/" + name)
		if err != nil {
			panic(fmt.Sprintf("httpadapter: embedded page %s: %v", name, err))
		}
		return b
	}
	layout := string(read("layout.html"))
	for _, name := range pageFiles {
		t, err := template.New("layout.html").Parse(layout)
		for _, partial := range pagePartials {
			if err == nil {
				_, err = t.New(partial + ".html").Parse(string(read(partial + ".html")))
			}
		}
		if err == nil {
			_, err = t.New("widget.html").Parse(string(read("widget.html")))
		}
		if err == nil {
			_, err = t.New(name + ".html").Parse(string(read(name + ".html")))
		}
		if err != nil {
			panic(fmt.Sprintf("httpadapter: page template %s: %v", name, err))
		}
		p.templates[name] = t
	}
	for name, ctype := range pageAssets {
		a := newAsset(read(name), ctype)
		p.assets[name] = a
		p.assetURL[name] = "/pages/" + name + "?v=" + strings.Trim(a.etag, `"`)
	}

	logo, favicon := o.Logo, o.Favicon
	if logo == nil || (favicon == nil && o.Logo == nil) {
		drawn, err := initialsImage(o.ProjectName)
		if err != nil {
			panic(err.Error()) // only a broken embedded font gets here
		}
		if logo == nil {
			logo = drawn
		}
		if favicon == nil && o.Logo == nil {
			favicon = pngToICO(drawn, files.AvatarSize)
		}
	}
	p.logo = newAsset(logo, "")
	switch {
	case favicon != nil && o.Favicon == nil && o.Logo == nil:
		p.favicon = newAsset(favicon, "image/x-icon")
	case favicon != nil:
		p.favicon = newAsset(favicon, "")
	default:
		p.favicon = p.logo
	}

	formAction := "'self'"
	for _, origin := range p.redirects.origins {
		formAction += " " + origin
	}
	p.csp = pagesCSP(formAction, widgetOrigins(widgets))
	return p
}

// data returns the PageData of a page, with a form token bound to the
// browser's form nonce (set now when the browser has none) and the
// request's checked redirect_uri.
func (p *pages) data(w http.ResponseWriter, r *http.Request, page, title string, values url.Values) *PageData {
	if values == nil {
		values = url.Values{}
	}
	d := &PageData{
		Project: p.project, Title: title, Page: page,
		StyleURL: p.assetURL["style.css"], ScriptURL: p.assetURL["pages.js"],
		CSRFToken:    p.jar.keys.token("form", p.formNonce(w, r)),
		RedirectURI:  p.redirects.check(values.Get("redirect_uri")),
		PasswordHint: p.hint,
		FooterLinks:  p.footer,
		values:       values, afterLogin: p.afterLogin,
	}
	d.ForgotPasswordURL = "/forgot-password/request"
	if page == "login" || page == "register" {
		d.Providers = p.providerLinks(d.RedirectURI)
	}
	d.Widget = p.widgets[page]
	if page == "login" {
		if el := p.emailLogin(); el != nil {
			d.EmailLinks, d.EmailCodes = el.PageLinks(), el.PageCodes()
		}
	}
	if page == "login" || page == "account" {
		if d.Passkeys = p.passkeys() != nil; d.Passkeys {
			d.PasskeyScriptURL, d.APIPrefix = p.assetURL["passkey.js"], p.h.prefix
		}
	}
	return d
}

// formNonce returns the browser's form nonce, setting a new one when it
// has none (or a malformed one).
func (p *pages) formNonce(w http.ResponseWriter, r *http.Request) string {
	if n := cookieValue(r, formCookie); len(n) == 43 {
		return n
	}
	b := make([]byte, 32)
	if _, err := io.ReadFull(p.h.m.Config().Rand, b); err != nil {
		p.h.log.ErrorContext(r.Context(), "read random for a form nonce", "err", err)
		return ""
	}
	n := base64.RawURLEncoding.EncodeToString(b)
	http.SetCookie(w, p.jar.cookie(r, formCookie, n, 0, true))
	r.AddCookie(&http.Cookie{Name: formCookie, Value: n}) // later reads of this request see it
	return n
}

// render writes a page with status.
func (p *pages) render(w http.ResponseWriter, r *http.Request, status int, d *PageData) {
	var buf bytes.Buffer
	if err := p.templates[d.Page].ExecuteTemplate(&buf, "layout.html", d); err != nil {
		p.h.log.ErrorContext(r.Context(), "render page", "page", d.Page, "err", err)
		http.Error(w, "Internal server error", http.StatusInternalServerError)
		return
	}
	hdr := w.Header()
	setNoStore(hdr) // pages carry form tokens and personal data
	hdr.Set("Content-Type", "text/html; charset=utf-8")
	hdr.Set("Content-Length", strconv.Itoa(buf.Len()))
	setHTMLSecurityHeaders(hdr, p.csp)
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// fail shows d again with err's message and status. An internal error is
// logged, and its cause never shown.
func (p *pages) fail(w http.ResponseWriter, r *http.Request, d *PageData, err error) {
	noteAnswer(r, err)
	e := answerFor(r, err)
	logFailure(p.h.log, r, e, err)
	if e.Status == http.StatusServiceUnavailable && w.Header().Get("Retry-After") == "" {
		w.Header().Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
	}
	d.Error = pageMessage(e)
	p.render(w, r, e.Status, d)
}

// pageMessages are the plain words the pages show for errors whose API
// detail is the reference's jargon (its clients may match it), by the
// stock detail.
var pageMessages = map[string]string{
	usermgmt.ErrInvalidOTP.Message: "That code is not right, or it has expired. Check it and try again.",
}

// pageMessage is what a page shows for e: the plain-words version of a
// stock detail, else the API's detail.
func pageMessage(e *usermgmt.Error) string {
	if m, ok := pageMessages[e.Message]; ok {
		return m
	}
	return e.Message
}

// form checks a page's form post: the origin check (no cross-site post)
// and the csrf_token bound to the browser's form nonce. It returns the
// posted values, and leaves the body readable again for the route's
// decoder. When the check fails it answers: the page again, with a fresh
// token and errCSRF's message (the user only has to submit again).
func (p *pages) form(w http.ResponseWriter, r *http.Request, page, title string) (url.Values, bool) {
	if media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || media != mediaForm {
		p.fail(w, r, p.data(w, r, page, title, nil), ErrUnsupportedMediaType.WithMessage("Unsupported Content-Type; send "+mediaForm+"."))
		return nil, false
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			p.fail(w, r, p.data(w, r, page, title, nil), ErrTooLarge)
		} else {
			p.fail(w, r, p.data(w, r, page, title, nil), invalid("Could not read the request body."))
		}
		return nil, false
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	values, err := url.ParseQuery(string(body))
	if err != nil {
		p.fail(w, r, p.data(w, r, page, title, nil), invalid("The form is malformed."))
		return nil, false
	}
	kept := url.Values{}
	for _, name := range []string{"username", "email", "redirect_uri", "token", "method"} {
		if v := values.Get(name); v != "" {
			kept.Set(name, v)
		}
	}
	if err := p.auth.origins.Check(r); err != nil || !p.jar.keys.valid("form", cookieValue(r, formCookie), values.Get("csrf_token")) {
		d := p.data(w, r, page, title, kept)
		d.signIn(p.session(w, r)) // the page as a GET would show it
		p.fail(w, r, d, errCSRF)
		return nil, false
	}
	if err := runChecks(r); err != nil { // the Guards' (routeguard.go)
		p.fail(w, r, p.data(w, r, page, title, kept), err)
		return nil, false
	}
	return kept, true
}

// signIn stores a new session in the browser and sends it on (303) to the
// checked redirect target, or AfterLogin.
//
// A session the browser held before ends: one browser, one session, and
// no session fixed in a browser beforehand outlives the login.
func (p *pages) signIn(w http.ResponseWriter, r *http.Request, t *usermgmt.Tokens, d *PageData) {
	if access := cookieValue(r, SessionCookie); access != "" {
		ctx := r.Context()
		if old, err := p.h.m.Authenticate(ctx, access); err == nil && old.SessionID != t.SessionID {
			if err := p.h.m.Logout(ctx, old); err != nil && !errors.Is(err, usermgmt.ErrSessionNotFound) {
				p.h.log.WarnContext(ctx, "end the previous browser session", "err", err)
			}
		}
	}
	p.jar.setSession(w, r, t)
	p.redirect(w, r, d.Continue())
}

// session returns the browser's signed-in caller, nil when nobody is
// signed in (expired cookies are renewed, dead ones cleared). The caller
// has done its own CSRF check for an unsafe method.
func (p *pages) session(w http.ResponseWriter, r *http.Request) *usermgmt.Principal {
	pr, err := p.auth.cookieSession(w, r)
	if err != nil {
		if e := answerFor(r, err); e.Status >= 500 || e.Code == errCanceled.Code {
			logFailure(p.h.log, r, e, fmt.Errorf("page session lookup: %w", err))
		}
		return nil
	}
	return pr
}

// redirect answers 303 See Other to target (a path or a checked URL).
func (p *pages) redirect(w http.ResponseWriter, r *http.Request, target string) {
	setNoStore(w.Header())
	redirectHTML(w, r, target, http.StatusSeeOther)
}

// serveAsset answers a static file, with an ETag.
func serveAsset(w http.ResponseWriter, r *http.Request, a asset, maxAge int) {
	hdr := w.Header()
	hdr.Set("ETag", a.etag)
	hdr.Set("Cache-Control", "public, max-age="+strconv.Itoa(maxAge))
	hdr.Set("X-Content-Type-Options", "nosniff")
	if match := r.Header.Get("If-None-Match"); match != "" && match == a.etag {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	hdr.Set("Content-Type", a.contentType)
	hdr.Set("Content-Length", strconv.Itoa(len(a.body)))
	w.WriteHeader(http.StatusOK)
	if r.Method != http.MethodHead {
		_, _ = w.Write(a.body)
	}
}

// acceptsHTML reports whether a request prefers a page to JSON: a browser
// navigating, not a script or an API client.
func acceptsHTML(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "text/html")
}

// projectInitials returns the letters of the default logo: the initials
// of the project's name as files.Initials finds them, two at most, "?"
// when it has none.
func projectInitials(name string) string {
	letters := []rune(files.Initials(name))
	if len(letters) == 0 {
		return "?"
	}
	return string(letters[:min(2, len(letters))])
}

// initialsImage draws the project's initials as the user avatars are
// drawn (files.Avatars).
func initialsImage(name string) ([]byte, error) {
	a, err := files.NewAvatars()
	if err != nil {
		return nil, err
	}
	// One word per letter, so that Avatars keeps each as an initial.
	return a.PNG(strings.Join(strings.Split(projectInitials(name), ""), " "))
}

// pngToICO wraps a square PNG of size pixels (at most 256) in an ICO
// container, which every browser reads at /favicon.ico.
func pngToICO(p []byte, size int) []byte {
	dim := byte(size)
	if size >= 256 {
		dim = 0 // 0 means 256 in ICO
	}
	var buf bytes.Buffer
	// ICONDIR: reserved, type 1 (icon), one image.
	_ = binary.Write(&buf, binary.LittleEndian, [3]uint16{0, 1, 1})
	// ICONDIRENTRY: width, height, colours, reserved, planes, bit count,
	// size of the data, offset of the data (after these 6+16 bytes).
	buf.Write([]byte{dim, dim, 0, 0})
	_ = binary.Write(&buf, binary.LittleEndian, [2]uint16{1, 32})
	_ = binary.Write(&buf, binary.LittleEndian, [2]uint32{uint32(len(p)), 22})
	buf.Write(p)
	return buf.Bytes()
}
