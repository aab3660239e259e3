package httpadapter

import (
	"encoding/base64"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
)

// Third-party login from the pages. A provider button leads to
// GET /login/{provider}, which begins the flow as the API's
// GET /oauth/{provider} does (the flow cookie, a redirect to the provider)
// and also sets the page-flow cookie: the page to end on, bound by an HMAC
// to the flow cookie. The callback of a flow carrying a valid page-flow
// cookie ends as a page login: the session cookies are set and the browser
// goes on to that page (or, on failure, sees the login page with the
// error). No token ever travels in a URL, and only the browser holding the
// flow cookie (the one that began the flow) can finish it.
//
// GET /oauth/{provider}/link (the API, flag OAUTH_LINK) begins a link flow
// for the caller, who may be signed in by the pages' cookies: without a
// redirect_uri, and with the pages served, it too ends on the pages.

// pageFlowCookie marks a flow begun from the pages.
const pageFlowCookie = "usermgmt_oauth_page"

// providerNames are the display names of the built-in providers and of
// common OpenID Providers.
var providerNames = map[string]string{
	"github": "GitHub", "gitlab": "GitLab", "google": "Google", "discord": "Discord",
	"twitch": "Twitch", "microsoft": "Microsoft", "apple": "Apple", "facebook": "Facebook",
	"okta": "Okta", "auth0": "Auth0", "keycloak": "Keycloak", "authentik": "authentik",
	"oidc": "single sign-on", "sso": "single sign-on",
}

// providerName is the name a provider's button and account page show:
// the host's (PagesOptions.ProviderNames), a built-in one, else the key's
// words capitalised ("my-idp": "My Idp").
func (p *pages) providerName(key string) string {
	if n := p.named[key]; n != "" {
		return n
	}
	if n, ok := providerNames[key]; ok {
		return n
	}
	words := strings.FieldsFunc(key, func(r rune) bool { return r == '-' || r == '_' })
	for i, w := range words {
		words[i] = strings.ToUpper(w[:1]) + w[1:]
	}
	if len(words) == 0 {
		return key
	}
	return strings.Join(words, " ")
}

// providerLinks returns the login buttons of the configured providers,
// carrying redirectURI.
func (p *pages) providerLinks(redirectURI string) []ProviderLink {
	names := p.h.m.OAuthProviders()
	if len(names) == 0 {
		return nil
	}
	links := make([]ProviderLink, 0, len(names))
	for _, name := range names {
		u := "/login/" + url.PathEscape(name)
		if redirectURI != "" {
			u += "?" + url.Values{"redirect_uri": {redirectURI}}.Encode()
		}
		links = append(links, ProviderLink{Name: p.providerName(name), URL: u, Key: name})
	}
	return links
}

// setFlowCookie stores a begun flow's cookie, for as long as the flow.
func (h *handler) setFlowCookie(w http.ResponseWriter, red *usermgmt.OAuthRedirect) {
	maxAge := int(red.ExpiresAt.Sub(h.m.Config().Clock()) / time.Second)
	if ttl := int(h.m.Config().OAuthStateTTL / time.Second); maxAge <= 0 || maxAge > ttl {
		maxAge = ttl
	}
	http.SetCookie(w, h.flowCookie(red.Cookie, maxAge))
}

// toProvider answers the redirect to the provider's authorization page.
func toProvider(w http.ResponseWriter, red *usermgmt.OAuthRedirect) {
	setNoStore(w.Header())
	w.Header().Set("Location", red.URL)
	w.WriteHeader(http.StatusFound)
}

// markPageFlow sets the page-flow cookie of a begun flow, ending on target.
func (p *pages) markPageFlow(w http.ResponseWriter, red *usermgmt.OAuthRedirect, target string) {
	c := p.h.flowCookie(p.pageFlowValue(red.Cookie, target), int(p.h.m.Config().OAuthStateTTL/time.Second))
	c.Name = pageFlowCookie
	http.SetCookie(w, c)
}

// pageFlowValue is the page-flow cookie's value: an HMAC binding target to
// the flow cookie, then target (base64url).
func (p *pages) pageFlowValue(flow, target string) string {
	return p.jar.keys.token("oauth-page", flow+"\x00"+target) + "." + base64.RawURLEncoding.EncodeToString([]byte(target))
}

// pageFlow returns the page a flow ends on when value is the valid
// page-flow cookie of the flow cookie flow; ok is false otherwise.
func (p *pages) pageFlow(value, flow string) (target string, ok bool) {
	mac, enc, found := strings.Cut(value, ".")
	if !found || flow == "" || len(enc) > 4096 {
		return "", false
	}
	b, err := base64.RawURLEncoding.DecodeString(enc)
	if err != nil {
		return "", false
	}
	target = string(b)
	if !p.jar.keys.valid("oauth-page", flow+"\x00"+target, mac) || p.redirects.check(target) != target || target == "" {
		return "", false
	}
	return target, true
}

// oauthPageStart is GET /login/{provider}: a login flow that ends on the
// pages (the query's checked redirect_uri, or AfterLogin).
func (p *pages) oauthPageStart(w http.ResponseWriter, r *http.Request) {
	q := pageQuery(r)
	d := p.data(w, r, "login", titleLogin, url.Values{"redirect_uri": q["redirect_uri"]})
	provider := r.PathValue("provider")
	red, err := p.h.m.BeginOAuth(r.Context(), usermgmt.OAuthStart{Provider: provider, CallbackURL: p.h.callbackURL(provider)})
	if err != nil {
		d.signIn(p.session(w, r))
		p.fail(w, r, d, err)
		return
	}
	p.h.setFlowCookie(w, red)
	p.markPageFlow(w, red, d.Continue())
	toProvider(w, red)
}

// pageCallback ends a flow begun from the pages, when the callback carries
// a valid page-flow cookie: it reports false (having answered nothing)
// otherwise. The page-flow cookie goes either way.
func (h *handler) pageCallback(w http.ResponseWriter, r *http.Request, cb usermgmt.OAuthCallback, res *usermgmt.OAuthResult, err error) bool {
	p := h.pages
	value := cookieValue(r, pageFlowCookie)
	if p == nil || value == "" {
		return false
	}
	del := h.flowCookie("", -1)
	del.Name = pageFlowCookie
	http.SetCookie(w, del)
	target, ok := p.pageFlow(value, cb.Cookie)
	if !ok || (err == nil && res.RedirectURI != "") {
		return false
	}
	if c, ok := errors.AsType[*usermgmt.OTPChallengeError](err); ok {
		p.startOTP(w, r, c, &PageData{RedirectURI: target})
		return true
	}
	if err != nil {
		d := p.data(w, r, "login", titleLogin, nil)
		d.signIn(p.session(w, r))
		if cb.Error != "" && errors.Is(err, usermgmt.ErrOAuthFailed) {
			err = usermgmt.AsError(err).WithMessage(providerRefusal(cb.Error))
		}
		p.fail(w, r, d, err)
		return true
	}
	if res.Tokens == nil { // a link: the browser's session is unchanged
		p.redirect(w, r, target)
		return true
	}
	p.signIn(w, r, res.Tokens, &PageData{RedirectURI: target})
	return true
}

// providerRefusal says in plain words why a provider sent the browser
// back without a login (the callback's error parameter, RFC 6749 4.1.2.1).
func providerRefusal(code string) string {
	switch code {
	case "access_denied":
		return "The login was cancelled, or the provider did not allow it. You can try again, or log in another way."
	case "temporarily_unavailable", "server_error":
		return "The provider could not complete the login just now. Try again in a few minutes."
	case "login_required", "interaction_required", "consent_required", "account_selection_required":
		return "The provider needs you to sign in and approve the login there first. Try again."
	}
	return "The provider did not complete the login. Try again, or log in another way."
}

// oauthLinkStart is GET /oauth/{provider}/link: a flow linking the
// provider's account to the caller (bearer or the pages' session cookie),
// ending at the allow-listed redirect_uri, or on the pages when they are
// served. A navigation from another site is refused (errCSRF): linking
// changes the account.
func (h *handler) oauthLinkStart(w http.ResponseWriter, r *http.Request, pr *usermgmt.Principal, in oauthStartInput) error {
	if r.Header.Get("Sec-Fetch-Site") == "cross-site" {
		return errCSRF
	}
	red, err := h.m.BeginOAuth(r.Context(), usermgmt.OAuthStart{
		Provider: in.provider, CallbackURL: h.callbackURL(in.provider), RedirectURI: in.redirectURI, UserUUID: pr.User().UUID,
	})
	if err != nil {
		return err
	}
	h.setFlowCookie(w, red)
	if in.redirectURI == "" && h.pages != nil {
		h.pages.markPageFlow(w, red, h.pages.afterLogin)
	}
	toProvider(w, red)
	return nil
}
