package usermgmt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/usermgmt/usermgmt/mail"
)

// The admin mail tools (the reference's /email routes): free-form mail to
// one address, to several or to every active user, the test mail, and the
// account mails (a one-time code, a password reset link, a verification
// link) sent again by an administrator. Each is an Actor method checked
// against the policy's "email" resource (single, multiple, all, test,
// auth: admins only by default) and audited as AuditMailSent.

// AuditMailSent is the audit action of a mail sent by an admin tool; its
// detail names the tool and how many messages were queued.
const AuditMailSent = "mail-sent"

// Limits of an AdminMail.
const (
	// MaxMailSubject bounds a subject, in bytes.
	MaxMailSubject = 200
	// MaxMailContent bounds a content template, in bytes.
	MaxMailContent = 100_000
	// MaxMailRecipients bounds the recipients of one SendMailToMany.
	MaxMailRecipients = 100
)

// AdminMail is a free-form message of an admin tool.
type AdminMail struct {
	// Subject is sent as is: one line, at most MaxMailSubject bytes.
	Subject string
	// Content is the message's HTML: an html/template rendered, for each
	// recipient, with MailData (the recipient's Username and Email, the
	// project's names and links), inside the mail layout of the locale. A
	// field MailData lacks is an error, never a hole in the message.
	Content string
}

// mailTemplate is a checked AdminMail, ready to render per recipient.
type mailTemplate struct {
	subject string
	content *htmltemplate.Template
	layout  string
}

// parseAdminMail checks msg and parses its content and the layout of the
// locale of ctx.
func (m *Manager) parseAdminMail(ctx context.Context, msg AdminMail) (*mailTemplate, error) {
	subject := strings.TrimSpace(msg.Subject)
	switch {
	case subject == "":
		return nil, ErrInvalidInput.WithMessage("subject: field required")
	case len(subject) > MaxMailSubject || !utf8.ValidString(subject) || strings.ContainsFunc(subject, unicode.IsControl):
		return nil, ErrInvalidInput.WithMessage(fmt.Sprintf("subject: one line of at most %d bytes", MaxMailSubject))
	case strings.TrimSpace(msg.Content) == "":
		return nil, ErrInvalidInput.WithMessage("content: field required")
	case len(msg.Content) > MaxMailContent || !utf8.ValidString(msg.Content):
		return nil, ErrInvalidInput.WithMessage(fmt.Sprintf("content: at most %d bytes of UTF-8", MaxMailContent))
	}
	t, err := htmltemplate.New("content").Option("missingkey=error").Parse(msg.Content)
	if err != nil {
		return nil, ErrInvalidMailTemplate.WithMessage("The content is not a valid template: " + templateProblem(err))
	}
	var layout string
	for _, loc := range []string{ClientInfoFrom(ctx).Locale, m.cfg.MailLocale, DefaultMailLocale} {
		if loc == "" {
			continue
		}
		if l, ok := m.templateFile(loc, "layout.html"); ok {
			layout = l
			break
		}
	}
	if layout == "" {
		return nil, errors.New("usermgmt: no mail layout")
	}
	return &mailTemplate{subject: subject, content: t, layout: layout}, nil
}

// templateProblem returns a template error without the template's name.
func templateProblem(err error) string {
	s := err.Error()
	s = strings.TrimPrefix(s, "html/template:")
	s = strings.TrimPrefix(s, "template:")
	return strings.TrimSpace(s)
}

// render renders the message for data: the content, then the layout
// around it.
func (t *mailTemplate) render(data MailData) (string, error) {
	var body bytes.Buffer
	if err := t.content.Execute(&body, data); err != nil {
		return "", ErrInvalidMailTemplate.WithMessage("The content could not be rendered: " + templateProblem(err))
	}
	lt, err := htmltemplate.New("layout").Option("missingkey=error").Parse(t.layout)
	if err == nil {
		_, err = lt.New("page").Parse(`{{define "content"}}{{.Body}}{{end}}`)
	}
	if err != nil {
		return "", fmt.Errorf("usermgmt: parse the mail layout: %w", err)
	}
	var out bytes.Buffer
	// The content was rendered by html/template: it is HTML already.
	if err := lt.ExecuteTemplate(&out, "layout", struct {
		MailData
		Body htmltemplate.HTML
	}{data, htmltemplate.HTML(body.String())}); err != nil {
		return "", fmt.Errorf("usermgmt: render the mail layout: %w", err)
	}
	return out.String(), nil
}

// recipientsOf normalises, checks and de-duplicates addresses.
func recipientsOf(addrs []string) ([]string, error) {
	out := make([]string, 0, len(addrs))
	seen := map[string]bool{}
	for _, a := range addrs {
		e, err := NormalizeEmail(a)
		if err != nil {
			return nil, err
		}
		if !seen[e] {
			seen[e] = true
			out = append(out, e)
		}
	}
	return out, nil
}

// adminMailTo renders t for each address and queues the messages, waiting
// for room in the queue (bounded by ctx). A recipient who is a user is
// greeted by username. It returns how many messages were queued: 0
// without a mailer.
func (m *Manager) adminMailTo(ctx context.Context, t *mailTemplate, to []string) (int, error) {
	if m.mailer == nil {
		return 0, nil
	}
	type rendered struct {
		msg  mail.Message
		user string
	}
	// Render every message first: a template error sends nothing.
	msgs := make([]rendered, 0, len(to))
	for _, addr := range to {
		u, err := m.store.UserByEmail(ctx, addr)
		switch {
		case errors.Is(err, ErrNotFound):
			u = &User{Username: addr, Email: addr}
		case err != nil:
			return 0, err
		}
		html, err := t.render(m.mailData(ctx, u))
		if err != nil {
			return 0, err
		}
		msgs = append(msgs, rendered{mail.Message{To: []string{addr}, Subject: t.subject, HTML: html}, u.UUID})
	}
	for i, r := range msgs {
		if err := m.mail.enqueueWait(ctx, queuedMail{msg: r.msg, kind: "admin", user: r.user}); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// enqueueWait queues qm, waiting while the queue is full; it fails when
// ctx ends or the manager is closed first.
func (q *mailQueue) enqueueWait(ctx context.Context, qm queuedMail) error {
	for wait := time.Millisecond; ; wait = min(2*wait, 100*time.Millisecond) {
		q.mu.Lock()
		if q.closed {
			q.mu.Unlock()
			return errors.New("usermgmt: the manager is closed")
		}
		select {
		case q.ch <- qm:
			q.mu.Unlock()
			return nil
		default:
		}
		q.mu.Unlock()
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}

// mailAction authorizes one of the policy's email actions.
func (a *Actor) mailAction(ctx context.Context, action string, target *User) error {
	return a.authorize(ctx, AccessRequest{Resource: "email", Action: action, Target: target})
}

// mailAudit records a send of an admin mail tool.
func (a *Actor) mailAudit(ctx context.Context, subjectUUID, tool string, n int) error {
	return a.m.audit(ctx, a.m.store, a.uuid(), subjectUUID, AuditMailSent, fmt.Sprintf("%s: %d message(s) queued", tool, n))
}

// SendMailTo sends msg to one address (policy email.single). It returns
// how many messages were queued: 1, or 0 without a mailer.
func (a *Actor) SendMailTo(ctx context.Context, recipient string, msg AdminMail) (int, error) {
	return a.sendAdminMail(ctx, "single", []string{recipient}, msg)
}

// SendMailToMany sends msg to each of up to MaxMailRecipients addresses,
// one message each (policy email.multiple).
func (a *Actor) SendMailToMany(ctx context.Context, recipients []string, msg AdminMail) (int, error) {
	if len(recipients) == 0 {
		return 0, ErrInvalidInput.WithMessage("recipients: field required")
	}
	if len(recipients) > MaxMailRecipients {
		return 0, ErrInvalidInput.WithMessage(fmt.Sprintf("recipients: at most %d", MaxMailRecipients))
	}
	return a.sendAdminMail(ctx, "multiple", recipients, msg)
}

func (a *Actor) sendAdminMail(ctx context.Context, action string, recipients []string, msg AdminMail) (int, error) {
	if err := a.mailAction(ctx, action, nil); err != nil {
		return 0, err
	}
	to, err := recipientsOf(recipients)
	if err != nil {
		return 0, err
	}
	t, err := a.m.parseAdminMail(ctx, msg)
	if err != nil {
		return 0, err
	}
	n, err := a.m.adminMailTo(ctx, t, to)
	if err != nil && n == 0 {
		return 0, err
	}
	if aerr := a.mailAudit(ctx, "", "email."+action, n); err == nil {
		err = aerr
	}
	return n, err
}

// SendMailToAll sends msg to every active user, one message each, in
// pages of users (policy email.all). Messages wait for room in the mail
// queue, so a large audience keeps the call (and an HTTP request) running
// while the queue drains.
func (a *Actor) SendMailToAll(ctx context.Context, msg AdminMail) (int, error) {
	if err := a.mailAction(ctx, "all", nil); err != nil {
		return 0, err
	}
	t, err := a.m.parseAdminMail(ctx, msg)
	if err != nil {
		return 0, err
	}
	total := 0
	q := UserQuery{Limit: 500}
	for {
		page, err := a.m.store.ListUsers(ctx, q)
		if err != nil {
			return total, err
		}
		var to []string
		for _, u := range page {
			if u.IsActive {
				to = append(to, u.Email)
			}
		}
		n, err := a.m.adminMailTo(ctx, t, to)
		total += n
		if err != nil {
			if total > 0 { // some were queued: that is on the record
				_ = a.mailAudit(ctx, "", "email.all", total)
			}
			return total, err
		}
		if len(page) < q.Limit {
			break
		}
		last := page[len(page)-1]
		q.After = &UserCursor{CreatedAt: last.CreatedAt, UUID: last.UUID}
	}
	return total, a.mailAudit(ctx, "", "email.all", total)
}

// SendTestMail sends the test mail to recipient, or to Config.ContactEmail
// when it is empty (policy email.test).
func (a *Actor) SendTestMail(ctx context.Context, recipient string) (int, error) {
	if err := a.mailAction(ctx, "test", nil); err != nil {
		return 0, err
	}
	if recipient == "" {
		recipient = a.m.cfg.ContactEmail
	}
	if recipient == "" {
		return 0, ErrInvalidInput.WithMessage("recipient: field required (no contact email is configured)")
	}
	if err := a.m.SendTestMail(ctx, recipient); err != nil {
		return 0, err
	}
	n := a.m.queued()
	return n, a.mailAudit(ctx, "", "email.test", n)
}

// queued is the count of messages a single send queued: 1 with a mailer.
func (m *Manager) queued() int {
	if m.mailer == nil {
		return 0
	}
	return 1
}

// accountByEmail finds the account an account mail is for: the user whose
// address is recipient (ErrUserNotFound otherwise), after the policy's
// email.auth on them.
func (a *Actor) accountByEmail(ctx context.Context, recipient string) (*User, error) {
	if err := a.mailAction(ctx, "auth", nil); err != nil {
		return nil, err
	}
	email, err := NormalizeEmail(recipient)
	if err != nil {
		return nil, err
	}
	u, err := a.m.store.UserByEmail(ctx, email)
	if errors.Is(err, ErrNotFound) {
		return nil, ErrUserNotFound
	}
	if err != nil {
		return nil, err
	}
	return u, a.mailAction(ctx, "auth", u)
}

// SendOTPMail mails the account of recipient a one-time code, as
// POST /auth/OTP/email/send does for its owner (policy email.auth). The
// reference computed the code from the caller's own secret; here it is the
// recipient's, single-use, and voids the one sent before.
func (a *Actor) SendOTPMail(ctx context.Context, recipient string) (int, error) {
	u, err := a.accountByEmail(ctx, recipient)
	if err != nil {
		return 0, err
	}
	if err := a.m.sendEmailCode(ctx, u); err != nil {
		return 0, err
	}
	n := a.m.queued()
	return n, a.mailAudit(ctx, u.UUID, "email.otp", n)
}

// SendResetPasswordMail mails the account of recipient a password reset
// link (policy email.auth). An inactive account is refused, as
// ForgotPassword ignores it.
func (a *Actor) SendResetPasswordMail(ctx context.Context, recipient string) (int, error) {
	u, err := a.accountByEmail(ctx, recipient)
	if err != nil {
		return 0, err
	}
	if !u.IsActive {
		return 0, ErrInactiveUser.WithMessage("This account is inactive: no reset link is sent.")
	}
	if err := a.m.sendReset(ctx, u); err != nil {
		return 0, err
	}
	n := a.m.queued()
	return n, a.mailAudit(ctx, u.UUID, "email.reset_password", n)
}

// SendVerificationMail mails the account of recipient a new verification
// link, voiding the earlier ones (policy email.auth). An address already
// verified is a conflict.
func (a *Actor) SendVerificationMail(ctx context.Context, recipient string) (int, error) {
	u, err := a.accountByEmail(ctx, recipient)
	if err != nil {
		return 0, err
	}
	if u.EmailVerified {
		return 0, ErrConflict.WithMessage("This email address is already verified.")
	}
	if err := a.m.sendVerification(ctx, u); err != nil {
		return 0, err
	}
	n := a.m.queued()
	return n, a.mailAudit(ctx, u.UUID, "email.validation", n)
}
