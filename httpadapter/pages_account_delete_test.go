package httpadapter_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestPagesAccountDelete: an account with a password is deleted from the
// account page only with that password (Manager.CheckPassword): the typed
// username no longer suffices, a wrong password is refused with the
// page, counts as a failed login, and enough of them lock the account,
// after which even the right password deletes nothing.
func TestPagesAccountDelete(t *testing.T) {
	eachPagesMailBackend(t, nil, func(t *testing.T, e *secEnv, pc *pageClient) {
		ctx := context.Background()
		pc.submit("/register", signUpForm("del_user")).wantStatus(t, http.StatusSeeOther)
		e.nextMail()
		p := pc.get("/account").wantStatus(t, 200).wantContains(t,
			`<input id="delete_password" name="password" type="password" autocomplete="current-password" required>`)
		if strings.Contains(p.body, `id="confirm_username"`) {
			t.Fatal("the username confirmation is asked of an account with a password")
		}
		exists := func() {
			t.Helper()
			if _, err := e.m.UserByLogin(ctx, "del_user"); err != nil {
				t.Fatalf("the account is gone: %v", err)
			}
		}
		pc.accountPost("/account/delete", url.Values{"confirm_username": {"del_user"}}).wantStatus(t, 422).wantHTML(t).
			wantContains(t, `role="alert"`, "To delete the account, enter your password.")
		pc.accountPost("/account/delete", url.Values{"password": {"Wrong-passw0rd!"}}).wantStatus(t, 400).wantHTML(t).
			wantContains(t, `role="alert"`, "The password is not right, so the account was not deleted.")
		exists()
		// The wrong password was a failed login: it is in the audit log.
		u, err := e.m.UserByLogin(ctx, "del_user")
		if err != nil {
			t.Fatal(err)
		}
		entries, err := e.m.Audit(ctx, usermgmt.AuditQuery{SubjectUUID: u.UUID, Actions: []string{usermgmt.AuditLoginFailed}})
		if err != nil || len(entries) != 1 || entries[0].Detail != "method=password-check" {
			t.Fatalf("audit %+v, %v", entries, err)
		}
		// Up to the threshold: locked, so the right password is refused too,
		// and login with it as well.
		threshold := usermgmt.DefaultLockout.Threshold
		if c := e.m.Config().Lockout.Threshold; c > 0 {
			threshold = c
		}
		for range threshold - 1 {
			pc.accountPost("/account/delete", url.Values{"password": {"Wrong-passw0rd!"}}).wantStatus(t, 400)
		}
		pc.accountPost("/account/delete", url.Values{"password": {password}}).wantStatus(t, 429).wantHTML(t)
		exists()
		e.do(request{method: "POST", path: "/api/auth/login", form: url.Values{"username": {"del_user"}, "password": {password}}}).wantStatus(t, 401)
	})
}

// TestPagesAccountDeleteRight: the right password deletes the account and
// ends this browser's session.
func TestPagesAccountDeleteRight(t *testing.T) {
	eachPagesMailBackend(t, nil, func(t *testing.T, e *secEnv, pc *pageClient) {
		pc.submit("/register", signUpForm("del_right")).wantStatus(t, http.StatusSeeOther)
		e.nextMail()
		pc.accountPost("/account/delete", url.Values{"password": {password}}).wantRedirect(t, http.StatusSeeOther, "/login?deleted=1")
		if _, err := e.m.UserByLogin(context.Background(), "del_right"); !errors.Is(err, usermgmt.ErrUserNotFound) {
			t.Fatalf("after deletion: %v", err)
		}
		if pc.cookie(httpadapter.SessionCookie) != "" {
			t.Fatal("the session cookie outlived the account")
		}
	})
}

// TestPagesAccountDeleteNoPassword: an account without a password (made
// by a provider) keeps the typed username confirmation.
func TestPagesAccountDeleteNoPassword(t *testing.T) {
	eachOAuthBackend(t, nil, func(t *testing.T, e *oauthEnv) {
		e.h = httpadapter.New(e.m, httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
		pc := newPageClient(t, e.h)
		start := pc.get("/login/github").wantStatus(t, http.StatusFound)
		e.fakes["github"].SetIdentity(identity("github", 1, "nopass.user@example.com"))
		cb, err := e.fakes["github"].Authorize(start.header.Get("Location"))
		if err != nil {
			t.Fatal(err)
		}
		pc.get(strings.TrimPrefix(cb, baseURL)).wantRedirect(t, http.StatusSeeOther, "/login")
		u, err := e.m.UserByLogin(context.Background(), "nopass.user@example.com")
		if err != nil || u.PasswordHash != "" {
			t.Fatalf("user %+v, %v", u, err)
		}
		p := pc.get("/account").wantStatus(t, 200).wantContains(t, `id="confirm_username"`, "Type your username, "+templateEscape(u.Username))
		if strings.Contains(p.body, `id="delete_password"`) {
			t.Fatal("a password is asked of an account without one")
		}
		pc.accountPost("/account/delete", url.Values{"password": {"anything"}}).wantStatus(t, 422).wantHTML(t).
			wantContains(t, "To delete the account, type its username exactly.")
		pc.accountPost("/account/delete", url.Values{"confirm_username": {u.Username}}).wantRedirect(t, http.StatusSeeOther, "/login?deleted=1")
		if _, err := e.m.User(context.Background(), u.UUID); !errors.Is(err, usermgmt.ErrUserNotFound) {
			t.Fatalf("after deletion: %v", err)
		}
	})
}
