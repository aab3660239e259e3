package httpadapter_test

import (
	"context"
	"net/url"
	"slices"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/adminmail"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/mail"
)

// mailUser creates a user through the trusted API. A verified one is
// logged in; an unverified one's verification mail is taken off the queue.
func (e *secEnv) mailUser(username string, verified bool, roles ...string) account {
	e.t.Helper()
	email := username + "@example.com"
	u, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: username, Email: email, Password: password, Roles: roles, EmailVerified: verified})
	if err != nil {
		e.t.Fatalf("CreateUser %s: %v", username, err)
	}
	a := account{uuid: u.UUID, username: username, email: email}
	if verified {
		a.tokens = e.login(username)
	} else if msg := e.nextMail(); msg.To[0] != email {
		e.t.Fatalf("verification mail to %v", msg.To)
	}
	return a
}

// mails takes n messages off the queue, by recipient.
func (e *secEnv) mails(n int) map[string]mail.Message {
	e.t.Helper()
	out := map[string]mail.Message{}
	for range n {
		msg := e.nextMail()
		if len(msg.To) != 1 {
			e.t.Fatalf("a message to %v", msg.To)
		}
		if _, dup := out[msg.To[0]]; dup {
			e.t.Fatalf("two messages to %s", msg.To[0])
		}
		out[msg.To[0]] = msg
	}
	return out
}

const mailPrefix = "/api/email"

var mailRoutes = []string{"/send-email", "/send-email-multiple", "/send-email-all", "/send-test-email",
	"/send-otp-email", "/send-reset-password-email", "/send-validation-email"}

func TestAdminMailGuards(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		admin := e.mailUser("admin_user", true, usermgmt.RoleAdmin)
		mod := e.mailUser("mod_user", true, usermgmt.RoleModerator)
		jane := e.mailUser("jane_doe", true)
		body := `"<p>Hello</p>"`
		for _, p := range mailRoutes {
			q := "?subject=Hi&recipient=" + url.QueryEscape(jane.email) + "&recipients=" + url.QueryEscape(jane.email)
			e.do(request{method: "POST", path: mailPrefix + p + q, raw: body, contentType: "application/json"}).wantError(t, 401, "not_authenticated")
			// The policy first: a plain user and a moderator are refused,
			// confirmed or not.
			for _, who := range []account{jane, mod} {
				for _, c := range []string{"", "&confirm=true"} {
					e.do(request{method: "POST", path: mailPrefix + p + q + c, token: who.AccessToken, raw: body, contentType: "application/json"}).
						wantError(t, 403, "forbidden")
				}
			}
			if p == "/send-test-email" {
				continue // no confirm needed
			}
			// Then confirm: absent or false is refused with nothing sent.
			for _, c := range []string{"", "&confirm=false", "&confirm=0", "&confirm=no", "&confirm=off"} {
				msg := e.do(request{method: "POST", path: mailPrefix + p + q + c, token: admin.AccessToken, raw: body, contentType: "application/json"}).
					wantError(t, 400, "confirmation_required")
				if msg != "You must confirm the email" {
					t.Errorf("%s: %q", p, msg)
				}
			}
			e.do(request{method: "POST", path: mailPrefix + p + q + "&confirm=maybe", token: admin.AccessToken, raw: body, contentType: "application/json"}).
				wantError(t, 422, "invalid_request")
		}
		e.noMail()
		// Nothing was audited either.
		r := e.do(request{method: "GET", path: "/api/admin/audit?action=mail-sent", token: admin.AccessToken}).object(t)
		if es, _ := r["entries"].([]any); len(es) != 0 {
			t.Fatalf("audited refusals: %v", es)
		}
	})
}

func TestAdminMailFreeForm(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		admin := e.mailUser("admin_user", true, usermgmt.RoleAdmin)
		jane := e.mailUser("jane_doe", true)
		bob := e.mailUser("bob_smith", true)
		send := func(path, query string, q request) result {
			q.method, q.path, q.token = "POST", mailPrefix+path+"?confirm=true&"+query, admin.AccessToken
			return e.do(q)
		}

		// One address: the content is a template with the recipient's data,
		// inside the layout; data is escaped, the content's HTML is kept.
		r := send("/send-email", "subject=Hello+there&recipient="+url.QueryEscape(jane.email),
			request{raw: `"<p>Hi <b>{{.Username}}</b> of {{.ProjectName}}</p>"`, contentType: "application/json"})
		r.wantStatus(t, 200)
		if string(r.body) != "Subject: Hello there - Email Sent" {
			t.Fatalf("answer %q", r.body)
		}
		msg := e.nextMail()
		if msg.To[0] != jane.email || msg.Subject != "Hello there" || !strings.Contains(msg.HTML, "<p>Hi <b>jane_doe</b> of Test Project</p>") ||
			!strings.Contains(msg.HTML, "<!DOCTYPE html>") {
			t.Fatalf("message %v %q %s", msg.To, msg.Subject, msg.HTML)
		}
		// The JSON object form, to an address that is nobody's.
		send("/send-email", "subject=S&recipient=Someone%40Example.org", request{json: map[string]string{"content": "<i>{{.Username}}</i>"}}).wantStatus(t, 200)
		if msg := e.nextMail(); msg.To[0] != "someone@example.org" || !strings.Contains(msg.HTML, "<i>someone@example.org</i>") {
			t.Fatalf("message %v %s", msg.To, msg.HTML)
		}

		// Several, each once.
		q := url.Values{"subject": {"News"}, "recipients": {jane.email, bob.email, strings.ToUpper(jane.email)}}
		send("/send-email-multiple", q.Encode(), request{raw: `"<p>{{.Email}}</p>"`, contentType: "application/json"}).wantStatus(t, 200)
		got := e.mails(2)
		for _, who := range []account{jane, bob} {
			if !strings.Contains(got[who.email].HTML, "<p>"+who.email+"</p>") {
				t.Fatalf("multiple: %v", got)
			}
		}

		// Every active user: not the banned one.
		e.do(request{method: "POST", path: "/api/admin/ban/" + bob.uuid, token: admin.AccessToken, json: map[string]string{"reason": "spam"}}).wantStatus(t, 200)
		send("/send-email-all", "subject=All", request{raw: `"<p>to all</p>"`, contentType: "application/json"}).wantStatus(t, 200)
		got = e.mails(2)
		if _, ok := got[admin.email]; !ok || got[jane.email].Subject != "All" {
			t.Fatalf("all: %v", got)
		}
		e.noMail()

		// Bad input: nothing is sent.
		tests := []struct {
			name, path, query string
			q                 request
			status            int
			code              string
		}{
			{"no subject", "/send-email", "recipient=" + jane.email, request{raw: `"x"`, contentType: "application/json"}, 400, "invalid_input"},
			{"two-line subject", "/send-email", "subject=a%0D%0ABcc:+x@example.com&recipient=" + jane.email, request{raw: `"x"`, contentType: "application/json"}, 400, "invalid_input"},
			{"no recipient", "/send-email", "subject=s", request{raw: `"x"`, contentType: "application/json"}, 422, "invalid_request"},
			{"bad recipient", "/send-email", "subject=s&recipient=nope", request{raw: `"x"`, contentType: "application/json"}, 400, "invalid_email"},
			{"no recipients", "/send-email-multiple", "subject=s", request{raw: `"x"`, contentType: "application/json"}, 400, "invalid_input"},
			{"one bad of many", "/send-email-multiple", "subject=s&recipients=" + jane.email + "&recipients=bad", request{raw: `"x"`, contentType: "application/json"}, 400, "invalid_email"},
			{"no body", "/send-email", "subject=s&recipient=" + jane.email, request{}, 422, "invalid_request"},
			{"empty content", "/send-email", "subject=s&recipient=" + jane.email, request{raw: `"  "`, contentType: "application/json"}, 400, "invalid_input"},
			{"a number", "/send-email", "subject=s&recipient=" + jane.email, request{raw: `42`, contentType: "application/json"}, 422, "invalid_request"},
			{"object without content", "/send-email", "subject=s&recipient=" + jane.email, request{json: map[string]int{"x": 1}}, 422, "invalid_request"},
			{"form", "/send-email", "subject=s&recipient=" + jane.email, request{form: url.Values{"content": {"x"}}}, 415, "unsupported_media_type"},
			{"unknown field", "/send-email", "subject=s&recipient=" + jane.email, request{raw: `"{{.Password}}"`, contentType: "application/json"}, 400, "invalid_mail_template"},
			{"broken template", "/send-email", "subject=s&recipient=" + jane.email, request{raw: `"{{if}}"`, contentType: "application/json"}, 400, "invalid_mail_template"},
			{"one bad render of all", "/send-email-all", "subject=s", request{raw: `"{{.Nope}}"`, contentType: "application/json"}, 400, "invalid_mail_template"},
			{"too many", "/send-email-multiple", "subject=s&" + strings.Repeat("recipients=a%40example.com&", adminmail.MaxRecipients+1), request{raw: `"x"`, contentType: "application/json"}, 400, "invalid_input"},
		}
		for _, tt := range tests {
			send(tt.path, tt.query, tt.q).wantError(t, tt.status, tt.code)
		}
		e.noMail()

		// Every send is audited, with the admin as actor.
		r = e.do(request{method: "GET", path: "/api/admin/audit?action=mail-sent", token: admin.AccessToken})
		var page struct {
			Entries []struct {
				ActorUUID string `json:"actor_uuid"`
				Detail    string `json:"detail"`
			} `json:"entries"`
		}
		r.decode(t, &page)
		var details []string
		for _, en := range page.Entries {
			if en.ActorUUID != admin.uuid {
				t.Errorf("actor %q", en.ActorUUID)
			}
			details = append(details, en.Detail)
		}
		slices.Sort(details)
		want := []string{"email.all: 2 message(s) queued", "email.multiple: 2 message(s) queued", "email.single: 1 message(s) queued", "email.single: 1 message(s) queued"}
		if !slices.Equal(details, want) {
			t.Fatalf("audit %q, want %q", details, want)
		}
	})
}

func TestAdminMailAccount(t *testing.T) {
	eachBackendMail(t, nil, func(t *testing.T, e *secEnv) {
		admin := e.mailUser("admin_user", true, usermgmt.RoleAdmin)
		jane := e.mailUser("jane_doe", true)
		newbie := e.mailUser("new_user", false)
		send := func(path, recipient string, q request) result {
			q.method, q.path, q.token = "POST", mailPrefix+path+"?confirm=true&recipient="+url.QueryEscape(recipient), admin.AccessToken
			return e.do(q)
		}

		// The test mail: to CONTACT_EMAIL by default, no confirm.
		r := e.do(request{method: "POST", path: mailPrefix + "/send-test-email", token: admin.AccessToken})
		r.wantStatus(t, 200)
		if msg := e.nextMail(); msg.To[0] != "support@example.com" || msg.Subject != "Test Project - Test Email" {
			t.Fatalf("test mail %v %q", msg.To, msg.Subject)
		}
		e.do(request{method: "POST", path: mailPrefix + "/send-test-email?recipient=ops%40example.net", token: admin.AccessToken}).wantStatus(t, 200)
		if msg := e.nextMail(); msg.To[0] != "ops@example.net" {
			t.Fatalf("test mail %v", msg.To)
		}

		// A code, for the recipient's account: it lets jane turn the email
		// factor on.
		send("/send-otp-email", jane.email, request{}).wantStatus(t, 200)
		code := mailCode(t, e.nextMail())
		e.do(request{method: "PATCH", path: "/api/auth/OTP/email?otp_code=" + code, token: jane.AccessToken}).wantStatus(t, 200)

		// A reset link that works.
		send("/send-reset-password-email", jane.email, request{form: url.Values{"endpoint": {"/reset-password"}}}).wantStatus(t, 200)
		_, token := mailToken(t, e.nextMail())
		newPassword := "N3w-Passw0rd!x"
		e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", json: map[string]string{
			"token": token, "new_password": newPassword, "confirm_password": newPassword}}).wantStatus(t, 200)
		if msg := e.nextMail(); msg.To[0] != jane.email || strings.Contains(msg.Text, "token=") { // the notice of the change
			t.Fatalf("notice %v %q", msg.To, msg.Subject)
		}
		send("/send-reset-password-email", jane.email, request{}).wantStatus(t, 200) // endpoint is optional
		e.nextMail()
		send("/send-reset-password-email", jane.email, request{form: url.Values{"endpoint": {"https://evil.example/"}}}).wantError(t, 422, "invalid_request")

		// A verification link that works; a verified address is a conflict.
		send("/send-validation-email", newbie.email, request{}).wantStatus(t, 200)
		link, _ := mailToken(t, e.nextMail())
		e.do(request{method: "GET", path: pathOf(t, link)}).wantStatus(t, 307)
		send("/send-validation-email", newbie.email, request{}).wantError(t, 409, "conflict")

		// Unknown accounts are 404, bad addresses 400, an inactive account
		// gets no reset link.
		for _, p := range []string{"/send-otp-email", "/send-reset-password-email", "/send-validation-email"} {
			send(p, "nobody@example.com", request{}).wantError(t, 404, "user_not_found")
			send(p, "not-an-address", request{}).wantError(t, 400, "invalid_email")
			e.do(request{method: "POST", path: mailPrefix + p + "?confirm=true", token: admin.AccessToken}).wantError(t, 422, "invalid_request")
		}
		e.do(request{method: "POST", path: "/api/admin/ban/" + newbie.uuid, token: admin.AccessToken, json: map[string]string{"reason": "r"}}).wantStatus(t, 200)
		send("/send-reset-password-email", newbie.email, request{}).wantError(t, 400, "inactive_user")
		e.noMail()

		// Audited with the account as subject.
		r = e.do(request{method: "GET", path: "/api/admin/audit?action=mail-sent&subject=" + jane.uuid, token: admin.AccessToken})
		var page struct {
			Entries []struct{ Detail string } `json:"entries"`
		}
		r.decode(t, &page)
		if len(page.Entries) != 3 || page.Entries[0].Detail != "email.reset_password: 1 message(s) queued" || page.Entries[2].Detail != "email.otp: 1 message(s) queued" {
			t.Fatalf("audit %+v", page.Entries)
		}
	})
}

// Without a mailer every send answers "No Email Sent", and is audited.
func TestAdminMailWithoutMailer(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		jane := e.register("jane_doe")
		for _, p := range []string{"/send-email?subject=s&recipient=" + jane.email, "/send-email-all?subject=s", "/send-test-email?x=1",
			"/send-otp-email?recipient=" + jane.email, "/send-validation-email?recipient=" + jane.email} {
			r := e.do(request{method: "POST", path: mailPrefix + p + "&confirm=true", token: admin.AccessToken, raw: `"<p>x</p>"`, contentType: "application/json"})
			r.wantStatus(t, 200)
			if string(r.body) != "No Email Sent" {
				t.Errorf("%s: %q", p, r.body)
			}
		}
	})
}

// The mail routes are in the OpenAPI document with their guard.
func TestAdminMailDocumented(t *testing.T) {
	doc := parseOpenAPI(t, must(httpadapter.OpenAPI("/api", "1", httpFeatures()...)))
	for _, p := range mailRoutes {
		op := obj(obj(obj(doc["paths"])["/api/email"+p])["post"])
		if op == nil {
			t.Fatalf("%s missing", p)
		}
		var names []string
		for _, prm := range op["parameters"].([]any) {
			names = append(names, obj(prm)["name"].(string))
		}
		if want := p != "/send-test-email"; slices.Contains(names, "confirm") != want {
			t.Errorf("%s: parameters %v", p, names)
		}
	}
}

func must(b []byte, err error) []byte {
	if err != nil {
		panic(err)
	}
	return b
}
