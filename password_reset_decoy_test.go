package usermgmt_test

import (
	"context"
	"errors"
	"regexp"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/mail"
)

var resetTokenRE = regexp.MustCompile(`token=([A-Za-z0-9_-]{43})`)

func isReset(msg mail.Message) bool { return strings.Contains(msg.Subject, "Reset your password") }

// TestForgotPasswordDecoy checks what a forgot-password request that
// names no active account leaves behind: no mail, no log line of the mail
// queue, the account's pending reset link untouched, and one audit entry
// saying why nothing was sent.
func TestForgotPasswordDecoy(t *testing.T) {
	mem := &mail.Memory{}
	m, logs := managerWithLogs(t, usermgmt.WithMailer(mem), usermgmt.WithResolver(okResolver{}))
	ctx := context.Background()
	jane := mustCreate(t, m, "jane_doe")
	gone := mustCreate(t, m, "gone_away")
	if err := m.ForgotPassword(ctx, "jane_doe", ""); err != nil {
		t.Fatal(err)
	}
	var token []string
	for token == nil {
		msg, err := mem.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if isReset(msg) {
			token = resetTokenRE.FindStringSubmatch(msg.Text)
		}
	}
	if _, err := m.Ban(ctx, gone.UUID, "spam"); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ username, email, why, subject string }{
		{"nobody", "", "no-account", ""},
		{"", "nobody@example.com", "no-account", ""},
		{"jane_doe", "other@example.com", "email-mismatch", jane.UUID},
		{"gone_away", "", "inactive", gone.UUID},
	} {
		if err := m.ForgotPassword(ctx, c.username, c.email); err != nil {
			t.Fatalf("ForgotPassword(%q, %q): %v", c.username, c.email, err)
		}
		es, err := m.Audit(ctx, usermgmt.AuditQuery{Actions: []string{usermgmt.AuditPasswordResetNotSent}, Limit: 1})
		if err != nil {
			t.Fatal(err)
		}
		if len(es) != 1 || es[0].Detail != c.why || es[0].SubjectUUID != c.subject {
			t.Fatalf("ForgotPassword(%q, %q): audit %+v, want detail %q subject %q", c.username, c.email, es, c.why, c.subject)
		}
	}
	// The queue is first in, first out: once this probe is sent, every
	// decoy queued before it has been dropped.
	if err := m.SendTestMail(ctx, "probe@example.com"); err != nil {
		t.Fatal(err)
	}
	for {
		msg, err := mem.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if msg.To[0] == "probe@example.com" {
			break
		}
		if isReset(msg) {
			t.Fatalf("a reset link was sent to %v: %s\n%s", msg.To, msg.Subject, msg.Text)
		}
	}
	if err := m.CheckResetToken(ctx, token[1]); err != nil {
		t.Fatalf("jane's link after the decoys: %v", err)
	}
	m.Close()
	if got, want := strings.Count(logs.String(), "mail sent"), len(mem.Messages()); got != want {
		t.Fatalf("%d mails logged as sent, %d sent:\n%s", got, want, logs)
	}
	if strings.Contains(logs.String(), "level=ERROR") {
		t.Fatalf("errors logged:\n%s", logs)
	}
}

// TestEmailNotVerifiedWithoutMailer: with RequireVerifiedEmail, the
// refusal of an unverified address points to the verification mail only
// when there is a mailer to have sent one.
func TestEmailNotVerifiedWithoutMailer(t *testing.T) {
	ctx := context.Background()
	for _, withMailer := range []bool{false, true} {
		var opts []usermgmt.Option
		if withMailer {
			opts = append(opts, usermgmt.WithMailer(&mail.Memory{}), usermgmt.WithResolver(okResolver{}))
		}
		m, err := usermgmt.New(usermgmt.Config{Store: openStore(t), JWTSecret: testSecret, BcryptCost: 4, Logger: quiet,
			AccountSecurity: usermgmt.AccountSecurity{RequireVerifiedEmail: true}}, opts...)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { m.Close() })
		mustCreate(t, m, "unverified")
		_, err = m.Login(ctx, "unverified", goodPassword)
		var e *usermgmt.Error
		if !errors.As(err, &e) || !errors.Is(err, usermgmt.ErrEmailNotVerified) {
			t.Fatalf("mailer %v: login = %v", withMailer, err)
		}
		if got := strings.Contains(e.Message, "inbox"); got != withMailer {
			t.Errorf("mailer %v: message %q", withMailer, e.Message)
		}
	}
}
