package browsertest_test

import (
	"net/url"
	"regexp"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/usermgmt/usermgmt/mail"
)

// TestBrowserEmailLogin signs in through the hosted pages with what is
// mailed: a code typed into the code page, then a link opened in the
// browser, confirmed with its button and going on to the redirect_uri
// of the login page. Each ends with the page session's cookies.
func TestBrowserEmailLogin(t *testing.T) {
	w := newPasskeyWalk(t, backends[0].dsn(t))
	w.signUp("mail_walk", password)
	w.logOut()

	// By a code.
	w.visit("/login")
	w.fill(map[string]string{"#signin-email": "mail_walk@example.com"})
	w.submit(`button[formaction="/login/email-code"]`, 200)
	w.wantPath("/login/email-code")
	w.wantText("[role=status]", "a sign-in code is on its way")
	w.shot("email-code")
	msg := w.mailed("Your sign-in code")
	code := regexp.MustCompile(`\b\d{6}\b`).FindString(msg.Text)
	if code == "" {
		t.Fatalf("no code in %q", msg.Text)
	}
	w.fill(map[string]string{"#code": code})
	w.submit("main form button[type=submit]", 200)
	w.wantPath("/login")
	w.wantText("main", "You are signed in as mail_walk")
	w.wantSessionCookies()
	w.logOut()

	// By a link, going on to the login page's redirect_uri.
	w.visit("/login?redirect_uri=" + url.QueryEscape("/logout"))
	w.fill(map[string]string{"#signin-email": "mail_walk@example.com"})
	w.submit(`button[formaction="/login/email-link"]`, 200)
	w.wantText("[role=status]", "a sign-in link is on its way")
	w.shot("email-link-sent")
	link, _ := mailToken(t, w.mailed("Your sign-in link"))
	if !strings.HasPrefix(link, w.base+"/login/link?token=") {
		t.Fatalf("mailed link %s, want the pages' landing", link)
	}
	w.navigate(chromedp.Navigate(link), 200)
	w.wantText("main", "Sign in with the link we emailed you")
	w.shot("email-link-landing")
	if n := len(w.cookies()); n != 1 { // the landing's GET signs nobody in: only the form nonce
		t.Fatalf("cookies after the landing's GET: %d", n)
	}
	w.submit("main form button[type=submit]", 200)
	w.wantPath("/logout")
	w.wantText("main", "mail_walk@example.com")
	w.wantSessionCookies()
}

// mailed returns the next message whose subject has subject, skipping the
// others (the sign-up's verification mail).
func (w *walk) mailed(subject string) mail.Message {
	w.t.Helper()
	for {
		if msg := w.e.nextMail(); strings.Contains(msg.Subject, subject) {
			return msg
		}
	}
}
