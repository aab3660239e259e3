package httpadapter

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/usermgmt/usermgmt"
)

// Passkeys on the pages. When the Manager has a feature implementing
// PagePasskeys (package passkey does), the login page shows "Sign in with
// a passkey" (and offers passkeys in the username field's autofill where
// the browser supports conditional mediation), and the account page lists
// the user's passkeys with add, rename and remove.
//
// The script (pages/passkey.js, same origin) begins a ceremony through
// the JSON API (POST {API}/auth/passkeys/login/begin, or register/begin
// with the session's X-CSRF-Token), asks the browser for the credential,
// and then submits an ordinary form to a page route below with the
// ceremony and the credential's JSON: the page route finishes it, so a
// sign-in ends with the session cookies (no token reaches the script) and
// every answer a person sees is a page.

// PagePasskeys is what the hosted pages need of a passkey feature.
// Package passkey implements it; httpadapter finds it among the Manager's
// features.
type PagePasskeys interface {
	// PageSignIn finishes a sign-in ceremony: the tokens of the new
	// session, or the *usermgmt.OTPChallengeError of a login that needs
	// its second step.
	PageSignIn(ctx context.Context, ceremony string, credential []byte) (*usermgmt.Tokens, error)
	// PageRegister finishes a registration ceremony of u, naming the
	// passkey.
	PageRegister(ctx context.Context, u *usermgmt.User, ceremony, name string, credential []byte) error
	// PagePasskeys lists u's passkeys, oldest first.
	PagePasskeys(ctx context.Context, u *usermgmt.User) ([]PagePasskey, error)
	// PageRename renames one of u's passkeys.
	PageRename(ctx context.Context, u *usermgmt.User, id, name string) error
	// PageRemove removes one of u's passkeys.
	PageRemove(ctx context.Context, u *usermgmt.User, id string) error
}

// PagePasskey is one passkey on the account page.
type PagePasskey struct {
	ID, Name   string
	CreatedAt  time.Time
	LastUsedAt *time.Time
	// BackedUp is true for a synced passkey.
	BackedUp bool
}

// Created and LastUsed are the passkey's times as the page writes them
// (LastUsed "never" before its first sign-in).
func (k PagePasskey) Created() string { return k.CreatedAt.UTC().Format(pageTime) }

// LastUsed is the passkey's last sign-in, "never" before the first.
func (k PagePasskey) LastUsed() string {
	if k.LastUsedAt == nil {
		return "never"
	}
	return k.LastUsedAt.UTC().Format(pageTime)
}

// passkeys returns the Manager's passkey feature, nil when it has none.
func (p *pages) passkeys() PagePasskeys {
	for _, f := range p.h.m.Features() {
		if pk, ok := f.(PagePasskeys); ok {
			return pk
		}
	}
	return nil
}

// passkeyRoutes are the page routes of passkeys; without the feature they
// answer the not-found page (after the form checks).
func passkeyRoutes(page func(method, path, name, flag, summary string, status int, response string, fn pageOp) route) []route {
	const see = http.StatusSeeOther
	return []route{
		page(post, "/login/passkey", "_login_passkey_post", "_LOGIN", "Finish a passkey sign-in (ceremony, credential) begun by the login page's script; 303 to redirect_uri, or to /otp. The not-found page without the passkey feature.", see, "", (*pages).passkeySignIn),
		page(post, "/account/passkeys", "_account_passkey_add_post", "_ACCOUNT", "Signed in: finish adding a passkey (ceremony, credential, name) begun by the account page's script; 303 to /account.", see, "", (*pages).passkeyAdd),
		page(post, "/account/passkeys/rename", "_account_passkey_rename_post", "_ACCOUNT", "Signed in: rename a passkey (id, name); 303 to /account.", see, "", (*pages).passkeyRename),
		page(post, "/account/passkeys/remove", "_account_passkey_remove_post", "_ACCOUNT", "Signed in: remove a passkey (id), not the last way in; 303 to /account.", see, "", (*pages).passkeyRemove),
	}
}

// errNoPasskey is a passkey form posted without the browser's credential
// (its script did not run, or the person cancelled).
var errNoPasskey = invalid("No passkey was received. Try again, or sign in another way.")

// passkeySignIn is POST /login/passkey: the feature's sign-in, then the
// session cookies as after a password (or the second step).
func (p *pages) passkeySignIn(w http.ResponseWriter, r *http.Request) {
	values, ok := p.form(w, r, "login", titleLogin)
	if !ok {
		return
	}
	pk := p.passkeys()
	if pk == nil {
		p.notFoundPage(w, r)
		return
	}
	d := p.data(w, r, "login", titleLogin, values)
	f, err := ReadFields(r, formOnly)
	var t *usermgmt.Tokens
	switch {
	case err != nil:
	case f.form.Get("ceremony") == "" || f.form.Get("credential") == "":
		err = errNoPasskey
	default:
		t, err = pk.PageSignIn(r.Context(), f.form.Get("ceremony"), []byte(f.form.Get("credential")))
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

// passkeyForm checks a passkey form of the account page.
func (p *pages) passkeyForm(w http.ResponseWriter, r *http.Request) (PagePasskeys, *usermgmt.Principal, map[string][]string) {
	pr, v := p.accountForm(w, r)
	if pr == nil {
		return nil, nil, nil
	}
	pk := p.passkeys()
	if pk == nil {
		p.notFoundPage(w, r)
		return nil, nil, nil
	}
	return pk, pr, v
}

// passkeyAdd is POST /account/passkeys: the feature's registration finish.
func (p *pages) passkeyAdd(w http.ResponseWriter, r *http.Request) {
	pk, pr, v := p.passkeyForm(w, r)
	if pr == nil {
		return
	}
	ceremony, cred := first(v["ceremony"]), first(v["credential"])
	if ceremony == "" || cred == "" {
		p.accountFail(w, r, pr, errNoPasskey)
		return
	}
	if err := pk.PageRegister(r.Context(), pr.User(), ceremony, first(v["name"]), []byte(cred)); err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	p.accountDone(w, r, "passkey-added")
}

// passkeyRename is POST /account/passkeys/rename.
func (p *pages) passkeyRename(w http.ResponseWriter, r *http.Request) {
	pk, pr, v := p.passkeyForm(w, r)
	if pr == nil {
		return
	}
	if err := pk.PageRename(r.Context(), pr.User(), first(v["id"]), first(v["name"])); err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	p.accountDone(w, r, "passkey-renamed")
}

// passkeyRemove is POST /account/passkeys/remove.
func (p *pages) passkeyRemove(w http.ResponseWriter, r *http.Request) {
	pk, pr, v := p.passkeyForm(w, r)
	if pr == nil {
		return
	}
	if err := pk.PageRemove(r.Context(), pr.User(), first(v["id"])); err != nil {
		p.accountFail(w, r, pr, err)
		return
	}
	p.accountDone(w, r, "passkey-removed")
}

// first is the first of vs, "" for none.
func first(vs []string) string {
	if len(vs) == 0 {
		return ""
	}
	return vs[0]
}
