package httpadapter

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
)

// The third-party login routes. A browser flow begins at
// GET /oauth/{provider} (which sets the flow cookie and redirects to the
// provider) and ends at GET /oauth/{provider}/callback, which answers the
// tokens as JSON or, for a flow begun with a redirect_uri, redirects there
// with the tokens in the URL fragment (never in a query, so they reach no
// server log).

// oauthCookie is the cookie binding a pending flow to the browser.
const oauthCookie = "usermgmt_oauth"

// oauthRoutes are the routes of third-party login.
func oauthRoutes() []route {
	return []route{
		{Route{Method: get, Path: "/oauth/{provider}", Name: "oauth_login", Flag: "OAUTH_LOGIN", Tag: "oauth", Writes: true,
			Summary: "Begin a login with a provider (optional redirect_uri, or a link ticket): redirects to the provider.",
			Request: "OAuthStart", Status: http.StatusFound},
			flowOp[oauthStartInput]{decodeOAuthStart, (*handler).oauthStart}},
		{Route{Method: get, Path: "/oauth/{provider}/callback", Name: "oauth_callback", Flag: "OAUTH_CALLBACK", Tag: "oauth", Writes: true, Statuses: []int{http.StatusUnauthorized, http.StatusSeeOther, http.StatusConflict},
			Summary: "Finish a provider login: tokens as JSON, or a redirect to the flow's redirect_uri with the tokens in the fragment (or, with Options.OAuthCallbackHTML, the reference's HTML page that stores localStorage.auth_token).",
			Request: "OAuthCallback", Status: ok, Response: "OAuthResult", HTML: true},
			flowOp[usermgmt.OAuthCallback]{decodeOAuthCallback, (*handler).oauthCallback}},
		{Route{Method: get, Path: "/oauth/{provider}/link", Name: "oauth_link", Flag: "OAUTH_LINK", Tag: "oauth", Writes: true, Auth: true,
			Summary: "Begin linking a provider account to the caller (bearer or the pages' session cookie; optional redirect_uri): redirects to the provider.",
			Request: "OAuthStart", Status: http.StatusFound},
			rawOp[oauthStartInput]{decodeOAuthStart, (*handler).oauthLinkStart}},
		{Route{Method: post, Path: "/oauth/{provider}/link", Name: "oauth_link_url", Flag: "OAUTH_LINK_URL", Tag: "oauth", Auth: true,
			Summary: "A one-time URL that links a provider account to the caller when a browser opens it.",
			Request: "OAuthLinkForm", Encodings: jsonOrForm, Status: ok, Response: "OAuthURL"},
			op[oauthLinkInput]{decodeOAuthLink, (*handler).oauthLinkURL}},
		{Route{Method: post, Path: "/oauth/{provider}/unlink", Name: "oauth_unlink", Flag: "OAUTH_UNLINK", Tag: "oauth", Statuses: []int{http.StatusConflict}, Auth: true,
			Summary: "Remove the caller's link to a provider (never their last way to log in).", Request: "Provider", Status: ok},
			op[string]{pathValue("provider"), (*handler).oauthUnlink}},
		{Route{Method: post, Path: "/oauth/{provider}/revoke", Name: "oauth_revoke", Flag: "OAUTH_REVOKE", Tag: "oauth", Auth: true,
			Summary: "The reference's name of unlink.", Request: "Provider", Status: ok},
			op[string]{pathValue("provider"), (*handler).oauthUnlink}},
	}
}

// flowOp is the shape of the browser routes of a flow: like op, but the
// call writes its own answer (a redirect, a cookie) and the caller is never
// authenticated by a bearer header, which a browser navigation lacks.
type flowOp[In any] struct {
	decode func(r *http.Request) (In, error)
	call   func(h *handler, w http.ResponseWriter, r *http.Request, in In) error
}

func (o flowOp[In]) serve(h *handler, w http.ResponseWriter, r *http.Request, _ bool) {
	in, err := o.decode(r)
	if err == nil {
		err = o.call(h, w, r, in)
	}
	if err != nil {
		h.fail(w, r, err)
	}
}

// callbackURL is where the provider sends the browser back.
func (h *handler) callbackURL(provider string) string {
	return strings.TrimRight(h.m.Config().BaseURL, "/") + h.prefix + "/oauth/" + url.PathEscape(provider) + "/callback"
}

// flowCookie returns the flow cookie with value, for maxAge seconds (a
// negative maxAge deletes it). It is sent back only to the oauth routes,
// on the provider's top-level redirect (SameSite=Lax), never to scripts.
// oauthLinkCookie holds the binder of a link ticket (see
// usermgmt.OAuthTicket) in the browser that asked for it.
const oauthLinkCookie = "usermgmt_oauth_link"

func (h *handler) flowCookie(value string, maxAge int) *http.Cookie {
	return &http.Cookie{
		Name: oauthCookie, Value: value, Path: h.prefix + "/oauth/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: len(h.m.Config().BaseURL) >= 8 && strings.EqualFold(h.m.Config().BaseURL[:8], "https://"),
	}
}

type oauthStartInput struct{ provider, redirectURI, ticket, binder string }

// decodeOAuthStart reads the provider and the optional redirect_uri and
// ticket query parameters.
func decodeOAuthStart(r *http.Request) (oauthStartInput, error) {
	q, err := Query(r)
	if err != nil {
		return oauthStartInput{}, err
	}
	in := oauthStartInput{provider: r.PathValue("provider"), redirectURI: q.Get("redirect_uri"), ticket: q.Get("ticket")}
	if c, err := r.Cookie(oauthLinkCookie); err == nil {
		in.binder = c.Value
	}
	return in, nil
}

func (h *handler) oauthStart(w http.ResponseWriter, r *http.Request, in oauthStartInput) error {
	red, err := h.m.BeginOAuth(r.Context(), usermgmt.OAuthStart{
		Provider: in.provider, CallbackURL: h.callbackURL(in.provider), RedirectURI: in.redirectURI,
		Ticket: in.ticket, TicketBinder: in.binder,
	})
	if in.ticket != "" { // the ticket is spent whatever the outcome: its binder goes
		del := h.flowCookie("", -1)
		del.Name = oauthLinkCookie
		http.SetCookie(w, del)
	}
	if err != nil {
		return err
	}
	h.setFlowCookie(w, red)
	toProvider(w, red)
	return nil
}

// maxFlowParam bounds the callback's code and error parameters.
const maxFlowParam = 4096

// decodeOAuthCallback reads the provider's answer (code, state, error,
// iss) and the flow cookie.
func decodeOAuthCallback(r *http.Request) (usermgmt.OAuthCallback, error) {
	q, err := Query(r)
	if err != nil {
		return usermgmt.OAuthCallback{}, err
	}
	cb := usermgmt.OAuthCallback{
		Provider: r.PathValue("provider"), State: q.Get("state"), Code: q.Get("code"), Error: q.Get("error"),
		Issuer: q.Get("iss"),
	}
	if len(cb.Code) > maxFlowParam || len(cb.Error) > maxFlowParam || len(cb.State) > maxFlowParam || len(cb.Issuer) > maxFlowParam {
		return usermgmt.OAuthCallback{}, invalid("A callback parameter is too long.")
	}
	if c, err := r.Cookie(oauthCookie); err == nil {
		cb.Cookie = c.Value
	}
	return cb, nil
}

func (h *handler) oauthCallback(w http.ResponseWriter, r *http.Request, cb usermgmt.OAuthCallback) error {
	cb.CallbackURL = h.callbackURL(cb.Provider)
	// The flow is spent whatever the outcome: the cookie goes.
	http.SetCookie(w, h.flowCookie("", -1))
	res, err := h.m.FinishOAuth(r.Context(), cb)
	if h.pageCallback(w, r, cb, res, err) {
		return nil
	}
	if err != nil {
		return err
	}
	if h.callbackHTML && res.Tokens != nil {
		callbackPage(w, newTokenResponse(res.Tokens), res.RedirectURI)
		return nil
	}
	if res.RedirectURI != "" {
		frag := url.Values{}
		if res.Tokens != nil {
			t := newTokenResponse(res.Tokens)
			frag.Set("access_token", t.AccessToken)
			frag.Set("refresh_token", t.RefreshToken)
			frag.Set("token_type", t.TokenType)
			frag.Set("expires_in", strconv.Itoa(t.ExpiresIn))
		} else {
			frag.Set("linked", res.Identity.Provider)
		}
		setNoStore(w.Header())
		w.Header().Set("Referrer-Policy", "no-referrer")
		w.Header().Set("Location", res.RedirectURI+"#"+frag.Encode())
		w.WriteHeader(http.StatusSeeOther)
		return nil
	}
	if res.Tokens != nil {
		jsonOK(newTokenResponse(res.Tokens)).write(w, r, h.log)
		return nil
	}
	jsonOK(newExternalAccount(res.Identity)).write(w, r, h.log)
	return nil
}

type oauthLinkInput struct{ provider, redirectURI string }

// decodeOAuthLink reads the optional redirect_uri (form or JSON).
func decodeOAuthLink(r *http.Request) (oauthLinkInput, error) {
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return oauthLinkInput{}, err
	}
	in := oauthLinkInput{provider: r.PathValue("provider")}
	if s, ok := f.String("redirect_uri"); ok {
		in.redirectURI = s
	}
	return in, f.Err()
}

// oauthURL is the answer of POST /oauth/{provider}/link.
type oauthURL struct {
	URL       string `json:"url"`
	ExpiresAt int64  `json:"expires_at"`
}

func (h *handler) oauthLinkURL(ctx context.Context, p *usermgmt.Principal, in oauthLinkInput) (response, error) {
	t, err := h.m.As(p.User()).OAuthLinkTicket(ctx, in.provider, in.redirectURI)
	if err != nil {
		return response{}, err
	}
	u := strings.TrimRight(h.m.Config().BaseURL, "/") + h.prefix + "/oauth/" + url.PathEscape(in.provider) +
		"?" + url.Values{"ticket": {t.Ticket}}.Encode()
	// The binder stays in this browser (a client calling with
	// credentials: "include"); the URL alone, sent elsewhere, links nothing.
	binder := h.flowCookie(t.Binder, int(t.ExpiresAt.Sub(h.m.Config().Clock())/time.Second))
	binder.Name = oauthLinkCookie
	if binder.MaxAge <= 0 {
		binder.MaxAge = int(h.m.Config().OAuthStateTTL / time.Second)
	}
	res := jsonOK(oauthURL{URL: u, ExpiresAt: t.ExpiresAt.Unix()})
	res.header = http.Header{"Set-Cookie": {binder.String()}}
	return res, nil
}

func (h *handler) oauthUnlink(ctx context.Context, p *usermgmt.Principal, provider string) (response, error) {
	if err := h.m.As(p.User()).UnlinkOAuth(ctx, provider); err != nil {
		return response{}, err
	}
	return empty(http.StatusOK), nil
}

// newExternalAccount returns a link as the reference's external account.
func newExternalAccount(x *usermgmt.ExternalIdentity) externalAccount {
	return externalAccount{
		ExternalAccountID: x.Subject, Provider: x.Provider, UserUUID: x.UserUUID,
		Username: x.Username, DisplayName: x.DisplayName, Email: x.Email, PictureURL: x.PictureURL,
	}
}
