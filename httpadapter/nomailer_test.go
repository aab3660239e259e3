package httpadapter_test

import (
	"net/url"
	"regexp"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// claimsSent matches an answer that says a mail went out.
var claimsSent = regexp.MustCompile(`(?i)\b(was|were|been) sent\b|check your inbox|sent to your`)

// TestNoMailerClaimsNoMail: without a mailer nothing is ever mailed, so
// no answer, of the API or of the hosted pages, says that a link or a
// code was sent; each says instead that the service sends no mail.
func TestNoMailerClaimsNoMail(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
	a := e.register("no_mailer_user")
	for _, q := range []request{
		{method: "POST", path: "/api/auth/email/verify/resend", form: url.Values{"username": {a.username}}},
		{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{"username": a.username}},
		{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{"username": "nobody_here"}},
		{method: "GET", path: "/api/auth/forgot-password/request?email=" + url.QueryEscape(a.email)},
		{method: "GET", path: "/api/auth/password/reset", token: a.AccessToken},
		{method: "POST", path: "/api/auth/OTP/email/send", token: a.AccessToken},
	} {
		r := e.do(q)
		r.wantStatus(t, 200)
		if claimsSent.Match(r.body) || !regexp.MustCompile(`sends no mail`).Match(r.body) {
			t.Errorf("%s %s without a mailer: %s", q.method, q.path, r.body)
		}
	}

	pc := newPageClient(t, e.h)
	for _, p := range []page{
		pc.submit("/forgot-password/request", url.Values{"username": {a.username}}).wantStatus(t, 200),
		func() page {
			pc.submit("/login", url.Values{"username": {a.username}, "password": {password}}).wantStatus(t, 303)
			return pc.submit("/reset-password/request", url.Values{}).wantStatus(t, 200)
		}(),
	} {
		if claimsSent.MatchString(p.body) {
			t.Errorf("page without a mailer claims a mail: %s", p.body)
		}
		p.wantContains(t, "sends no mail")
	}
}
