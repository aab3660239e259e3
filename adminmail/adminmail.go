// Package adminmail is the admin mail tools of usermgmt (the reference's
// /email routes): free-form mail to one address, to several or to every
// active user, the test mail, and the account mails (a one-time code, a
// password reset link, a verification link) sent again by an
// administrator.
//
// It is a feature over the usermgmt core: enable it with
//
//	m, err := usermgmt.New(cfg, usermgmt.WithMailer(mailer), usermgmt.WithFeature(adminmail.New()))
//
// and httpadapter.New(m, ...) serves its routes under /email. Each send is
// checked against the policy's "email" resource (actions single,
// multiple, all, test, auth: admins only by default) and audited as
// AuditMailSent. It needs nothing of the store beyond the core contract.
package adminmail

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/mail"
)

// AuditMailSent is the audit action of a mail sent by an admin tool; its
// detail names the tool and how many messages were queued.
const AuditMailSent = "mail-sent"

// Limits of a Message.
const (
	// MaxSubject bounds a subject, in bytes.
	MaxSubject = 200
	// MaxContent bounds a content template, in bytes.
	MaxContent = 100_000
	// MaxRecipients bounds the recipients of one SendToMany.
	MaxRecipients = 100
)

// Errors of the admin mail tools.
var (
	// ErrConfirmRequired answers a send without confirm=true.
	ErrConfirmRequired = usermgmt.NewError(http.StatusBadRequest, "confirmation_required", "You must confirm the email")
	// ErrInvalidTemplate is a content that does not parse or render.
	ErrInvalidTemplate = usermgmt.NewError(http.StatusBadRequest, "invalid_mail_template", "The mail content is not a valid template.")
)

// Message is a free-form message of an admin tool.
type Message struct {
	// Subject is sent as is: one line, at most MaxSubject bytes.
	Subject string
	// Content is the message's HTML: an html/template rendered, for each
	// recipient, with usermgmt.MailData (the recipient's Username and
	// Email, the project's names and links), inside the mail layout of the
	// locale. A field MailData lacks is an error, never a hole in the
	// message.
	Content string
}

// Tools is the feature: pass it to usermgmt.WithFeature.
type Tools struct{ m *usermgmt.Manager }

// New returns the feature, to enable with usermgmt.WithFeature.
func New() *Tools { return &Tools{} }

// FeatureName implements usermgmt.Feature.
func (t *Tools) FeatureName() string { return "adminmail" }

// InitFeature implements usermgmt.Feature.
func (t *Tools) InitFeature(m *usermgmt.Manager) error {
	t.m = m
	return nil
}

// authorize checks one of the policy's email actions for actor.
func (t *Tools) authorize(ctx context.Context, actor *usermgmt.User, action string, target *usermgmt.User) error {
	return t.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "email", Action: action, Target: target})
}

// audit records a send of a tool.
func (t *Tools) audit(ctx context.Context, actor *usermgmt.User, subjectUUID, tool string, n int) error {
	return t.m.AppendAudit(ctx, t.m.Store(), usermgmt.AuditEntry{ActorUUID: uuidOf(actor), SubjectUUID: subjectUUID,
		Action: AuditMailSent, Detail: fmt.Sprintf("%s: %d message(s) queued", tool, n)})
}

func uuidOf(u *usermgmt.User) string {
	if u == nil {
		return ""
	}
	return u.UUID
}

// parse checks msg and parses it with the mail layout of ctx's locale.
func (t *Tools) parse(ctx context.Context, msg Message) (*mailTemplate, error) {
	layout, ok := t.m.MailTemplate(ctx, "layout.html")
	if !ok {
		return nil, errors.New("adminmail: no mail layout")
	}
	return parseMessage(msg, layout)
}

// mailTo renders tm for each address and queues the messages, waiting for
// room in the queue (bounded by ctx). A recipient who is a user is greeted
// by username. It returns how many messages were queued: 0 without a
// mailer.
func (t *Tools) mailTo(ctx context.Context, tm *mailTemplate, to []string) (int, error) {
	if !t.m.HasMailer() {
		return 0, nil
	}
	type rendered struct {
		msg  mail.Message
		user string
	}
	// Render every message first: a template error sends nothing.
	msgs := make([]rendered, 0, len(to))
	for _, addr := range to {
		u, err := t.m.Store().UserByEmail(ctx, addr)
		switch {
		case errors.Is(err, usermgmt.ErrNotFound):
			u = &usermgmt.User{Username: addr, Email: addr}
		case err != nil:
			return 0, err
		}
		html, err := tm.render(t.m.MailData(ctx, u))
		if err != nil {
			return 0, err
		}
		msgs = append(msgs, rendered{mail.Message{To: []string{addr}, Subject: tm.subject, HTML: html}, u.UUID})
	}
	for i, r := range msgs {
		if err := t.m.QueueMail(ctx, "admin", r.msg, r.user); err != nil {
			return i, err
		}
	}
	return len(msgs), nil
}

// SendTo sends msg to one address as actor (policy email.single). It
// returns how many messages were queued: 1, or 0 without a mailer.
func (t *Tools) SendTo(ctx context.Context, actor *usermgmt.User, recipient string, msg Message) (int, error) {
	return t.send(ctx, actor, "single", []string{recipient}, msg)
}

// SendToMany sends msg to each of up to MaxRecipients addresses, one
// message each (policy email.multiple).
func (t *Tools) SendToMany(ctx context.Context, actor *usermgmt.User, recipients []string, msg Message) (int, error) {
	if len(recipients) == 0 {
		return 0, usermgmt.ErrInvalidInput.WithMessage("recipients: field required")
	}
	if len(recipients) > MaxRecipients {
		return 0, usermgmt.ErrInvalidInput.WithMessage(fmt.Sprintf("recipients: at most %d", MaxRecipients))
	}
	return t.send(ctx, actor, "multiple", recipients, msg)
}

func (t *Tools) send(ctx context.Context, actor *usermgmt.User, action string, recipients []string, msg Message) (int, error) {
	if err := t.authorize(ctx, actor, action, nil); err != nil {
		return 0, err
	}
	to, err := recipientsOf(recipients)
	if err != nil {
		return 0, err
	}
	tm, err := t.parse(ctx, msg)
	if err != nil {
		return 0, err
	}
	n, err := t.mailTo(ctx, tm, to)
	if err != nil && n == 0 {
		return 0, err
	}
	if aerr := t.audit(ctx, actor, "", "email."+action, n); err == nil {
		err = aerr
	}
	return n, err
}

// SendToAll sends msg to every active user, one message each, in pages of
// users (policy email.all). Messages wait for room in the mail queue, so
// a large audience keeps the call (and an HTTP request) running while the
// queue drains.
func (t *Tools) SendToAll(ctx context.Context, actor *usermgmt.User, msg Message) (int, error) {
	if err := t.authorize(ctx, actor, "all", nil); err != nil {
		return 0, err
	}
	tm, err := t.parse(ctx, msg)
	if err != nil {
		return 0, err
	}
	total := 0
	q := usermgmt.UserQuery{Limit: 500}
	for {
		page, err := t.m.Store().ListUsers(ctx, q)
		if err != nil {
			return total, err
		}
		var to []string
		for _, u := range page {
			if u.IsActive {
				to = append(to, u.Email)
			}
		}
		n, err := t.mailTo(ctx, tm, to)
		total += n
		if err != nil {
			if total > 0 { // some were queued: that is on the record
				_ = t.audit(ctx, actor, "", "email.all", total)
			}
			return total, err
		}
		if len(page) < q.Limit {
			break
		}
		last := page[len(page)-1]
		q.After = &usermgmt.UserCursor{CreatedAt: last.CreatedAt, UUID: last.UUID}
	}
	return total, t.audit(ctx, actor, "", "email.all", total)
}

// SendTest sends the test mail to recipient, or to Config.ContactEmail
// when it is empty (policy email.test).
func (t *Tools) SendTest(ctx context.Context, actor *usermgmt.User, recipient string) (int, error) {
	if err := t.authorize(ctx, actor, "test", nil); err != nil {
		return 0, err
	}
	if recipient == "" {
		recipient = t.m.Config().ContactEmail
	}
	if recipient == "" {
		return 0, usermgmt.ErrInvalidInput.WithMessage("recipient: field required (no contact email is configured)")
	}
	if err := t.m.SendTestMail(ctx, recipient); err != nil {
		return 0, err
	}
	n := t.queued()
	return n, t.audit(ctx, actor, "", "email.test", n)
}

// queued is the count of messages a single send queued: 1 with a mailer.
func (t *Tools) queued() int {
	if !t.m.HasMailer() {
		return 0
	}
	return 1
}

// account finds the account an account mail is for: the user whose
// address is recipient (ErrUserNotFound otherwise), after the policy's
// email.auth on them.
func (t *Tools) account(ctx context.Context, actor *usermgmt.User, recipient string) (*usermgmt.User, error) {
	if err := t.authorize(ctx, actor, "auth", nil); err != nil {
		return nil, err
	}
	email, err := usermgmt.NormalizeEmail(recipient)
	if err != nil {
		return nil, err
	}
	u, err := t.m.Store().UserByEmail(ctx, email)
	if errors.Is(err, usermgmt.ErrNotFound) {
		return nil, usermgmt.ErrUserNotFound
	}
	if err != nil {
		return nil, err
	}
	return u, t.authorize(ctx, actor, "auth", u)
}

// SendOTP mails the account of recipient a one-time code, as
// POST /auth/OTP/email/send does for its owner (policy email.auth). The
// reference computed the code from the caller's own secret; here it is the
// recipient's, single-use, and voids the one sent before.
func (t *Tools) SendOTP(ctx context.Context, actor *usermgmt.User, recipient string) (int, error) {
	u, err := t.account(ctx, actor, recipient)
	if err != nil {
		return 0, err
	}
	if err := t.m.SendEmailOTP(ctx, u.UUID); err != nil {
		return 0, err
	}
	n := t.queued()
	return n, t.audit(ctx, actor, u.UUID, "email.otp", n)
}

// SendPasswordReset mails the account of recipient a password reset link
// (policy email.auth). An inactive account is refused, as ForgotPassword
// ignores it.
func (t *Tools) SendPasswordReset(ctx context.Context, actor *usermgmt.User, recipient string) (int, error) {
	u, err := t.account(ctx, actor, recipient)
	if err != nil {
		return 0, err
	}
	if !u.IsActive {
		return 0, usermgmt.ErrInactiveUser.WithMessage("This account is inactive: no reset link is sent.")
	}
	if err := t.m.SendPasswordReset(ctx, u.UUID); err != nil {
		return 0, err
	}
	n := t.queued()
	return n, t.audit(ctx, actor, u.UUID, "email.reset_password", n)
}

// SendVerification mails the account of recipient a new verification
// link, voiding the earlier ones (policy email.auth). An address already
// verified is a conflict.
func (t *Tools) SendVerification(ctx context.Context, actor *usermgmt.User, recipient string) (int, error) {
	u, err := t.account(ctx, actor, recipient)
	if err != nil {
		return 0, err
	}
	if u.EmailVerified {
		return 0, usermgmt.ErrConflict.WithMessage("This email address is already verified.")
	}
	if err := t.m.SendVerification(ctx, u.UUID); err != nil {
		return 0, err
	}
	n := t.queued()
	return n, t.audit(ctx, actor, u.UUID, "email.validation", n)
}
