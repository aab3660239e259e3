package usermgmt

import (
	"bytes"
	"context"
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"net"
	"strings"
	"text/template"
	"time"

	"github.com/usermgmt/usermgmt/mail"
)

// Mailer sends one message. The mail package's transports (SMTP, Mailjet,
// Log, Memory) implement it. The Manager never calls it inside a request:
// messages go through a small queue and are retried (see WithMailer).
type Mailer interface {
	Send(ctx context.Context, msg mail.Message) error
}

// Resolver looks up the DNS records that show a domain can receive mail;
// *net.Resolver implements it.
type Resolver interface {
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupHost(ctx context.Context, host string) ([]string, error)
}

// mailOptions are the mail settings options set.
type mailOptions struct {
	templates fs.FS
	resolver  Resolver
	attempts  int
	backoff   time.Duration
	timeout   time.Duration
	queueSize int
}

// WithMailer sends the library's mail (verification, codes, reset links,
// notices) through mailer. Without it nothing is sent and every flow still
// answers as usual. Sending is asynchronous: a queue of 256 messages served
// by two workers, each message tried 3 times (waiting 2 s, then 4 s) with a
// 30 s timeout per attempt; a message that still fails, or that finds the
// queue full, is logged as an error. With a mailer set, new addresses are
// checked for deliverability (see WithResolver).
func WithMailer(mailer Mailer) Option { return func(m *Manager) { m.mailer = mailer } }

// WithMailRetry changes how often and after how long a failed send is
// retried (attempts in all, and the first wait, doubled after each try).
func WithMailRetry(attempts int, backoff time.Duration) Option {
	return func(m *Manager) { m.mailOpt.attempts, m.mailOpt.backoff = attempts, backoff }
}

// WithTemplates overrides the built-in mail templates with those in fsys,
// laid out like the built-in ones: "<locale>/<name>.txt" (whose
// {{define "subject"}} block is the subject) and "<locale>/<name>.html"
// (defining "content", rendered inside "<locale>/layout.html"). A file
// fsys lacks is taken from the built-in set. Names: verify_email,
// email_otp, reset_password, password_changed, test. The data is MailData.
func WithTemplates(fsys fs.FS) Option { return func(m *Manager) { m.mailOpt.templates = fsys } }

// WithResolver sets the DNS resolver of the deliverability check (a domain
// needs MX or A/AAAA records). Default net.DefaultResolver. The check runs
// only when a mailer is set.
func WithResolver(r Resolver) Option { return func(m *Manager) { m.mailOpt.resolver = r } }

//go:embed templates/mail
var builtinTemplates embed.FS

// Mail template names.
const (
	MailVerifyEmail     = "verify_email"
	MailEmailOTP        = "email_otp"
	MailResetPassword   = "reset_password"
	MailPasswordChanged = "password_changed"
	MailTest            = "test"
)

// MailData is what every mail template is rendered with.
type MailData struct {
	ProjectName  string
	FrontendURL  string
	BaseURL      string
	APIPrefix    string
	SupportEmail string
	PrivacyURL   string
	TermsURL     string
	Year         int
	// Username and Email are the recipient's.
	Username string
	Email    string
	// Link is the mail's action link (verification, reset), if any.
	Link string
	// Code is the emailed one-time code, if any.
	Code string
	// ExpiresAt is when Link or Code stops working ("January 02, 2006
	// 15:04:05 UTC"); ValidFor the same as a duration ("10 minutes").
	ExpiresAt string
	ValidFor  string
	// IP and UserAgent describe the request that caused the mail.
	IP        string
	UserAgent string
}

// MailData returns the data every mail to u is rendered with (u may be
// nil): the project's names and links, u's username and address, and the
// request of ctx. A feature adds its Link or Code before rendering.
func (m *Manager) MailData(ctx context.Context, u *User) MailData {
	ci := ClientInfoFrom(ctx)
	d := MailData{
		ProjectName: m.cfg.ProjectName, FrontendURL: m.cfg.FrontendURL, BaseURL: m.cfg.BaseURL,
		APIPrefix: m.cfg.APIPrefix, SupportEmail: m.cfg.ContactEmail,
		PrivacyURL: m.cfg.FrontendURL + "/privacy", TermsURL: m.cfg.FrontendURL + "/terms",
		Year: m.now().Year(), IP: orUnknown(cleanText(ci.IP, 64)), UserAgent: orUnknown(cleanText(ci.UserAgent, 256)),
	}
	if u != nil {
		d.Username, d.Email = u.Username, u.Email
	}
	return d
}

func orUnknown(s string) string {
	if s == "" {
		return "unknown"
	}
	return s
}

// expiry fills the expiry fields of d for a lifetime from now.
func (m *Manager) expiry(d *MailData, ttl time.Duration) {
	d.ExpiresAt = m.now().Add(ttl).Format("January 02, 2006 15:04:05 UTC")
	d.ValidFor = validFor(ttl)
}

// validFor says a lifetime in the largest whole unit that fits it.
func validFor(ttl time.Duration) string {
	plural := func(n int64, unit string) string {
		if n == 1 {
			return "1 " + unit
		}
		return fmt.Sprintf("%d %ss", n, unit)
	}
	switch {
	case ttl >= time.Hour && ttl%time.Hour == 0:
		return plural(int64(ttl/time.Hour), "hour")
	case ttl >= time.Minute && ttl%time.Minute == 0:
		return plural(int64(ttl/time.Minute), "minute")
	default:
		return plural(int64(ttl.Round(time.Second)/time.Second), "second")
	}
}

// MailTemplate returns a mail template file ("layout.html", or a feature's
// own file) in the locale of ctx's request, else Config.MailLocale's, else
// "en"; the host's templates (WithTemplates) come before
// the built-in ones. ok is false when no locale has it.
func (m *Manager) MailTemplate(ctx context.Context, file string) (text string, ok bool) {
	for _, loc := range []string{ClientInfoFrom(ctx).Locale, m.cfg.MailLocale, defaultMailLocale} {
		if loc == "" {
			continue
		}
		if t, ok := m.templateFile(loc, file); ok {
			return t, true
		}
	}
	return "", false
}

// HasMailer reports whether the Manager sends mail (WithMailer): without a
// mailer, every mail is dropped and no answer should say one was sent.
func (m *Manager) HasMailer() bool { return m.mailer != nil }

// QueueMail queues msg for sending, waiting while the queue is full, until
// ctx ends or the Manager closes. kind names the mail in the logs and
// userUUID its recipient's account ("" for none). Without a mailer it does
// nothing. The mails of the core are queued without waiting (they are
// dropped, and logged, when the queue is full); a feature that sends many
// at once, as the admin mail tools do, waits here instead.
func (m *Manager) QueueMail(ctx context.Context, kind string, msg mail.Message, userUUID string) error {
	if m.mailer == nil {
		return nil
	}
	return m.mail.enqueueWait(ctx, queuedMail{msg: msg, kind: kind, user: userUUID})
}

// templateFile reads a template file for locale from the host's templates,
// else the built-in ones.
func (m *Manager) templateFile(locale, file string) (string, bool) {
	p := locale + "/" + file
	if m.mailOpt.templates != nil {
		if b, err := fs.ReadFile(m.mailOpt.templates, p); err == nil {
			return string(b), true
		}
	}
	if b, err := fs.ReadFile(builtinTemplates, "templates/mail/"+p); err == nil {
		return string(b), true
	}
	return "", false
}

// RenderMail renders the mail template name for the locale of ctx (its
// ClientInfo.Locale, else Config.MailLocale, else "en") with data. Every
// value a template names must exist: a template naming an unknown field is
// an error, never a mail with a hole in it.
func (m *Manager) RenderMail(ctx context.Context, name string, data MailData) (subject, text, html string, err error) {
	locales := []string{ClientInfoFrom(ctx).Locale, m.cfg.MailLocale, defaultMailLocale}
	for _, loc := range locales {
		if loc == "" {
			continue
		}
		txt, ok := m.templateFile(loc, name+".txt")
		if !ok {
			continue
		}
		page, okHTML := m.templateFile(loc, name+".html")
		layout, okLayout := m.templateFile(loc, "layout.html")
		if !okHTML || !okLayout {
			return "", "", "", fmt.Errorf("usermgmt: mail template %s/%s: html or layout missing", loc, name)
		}
		return renderMail(loc+"/"+name, txt, layout, page, data)
	}
	return "", "", "", fmt.Errorf("usermgmt: no mail template %q", name)
}

func renderMail(name, txt, layout, page string, data MailData) (subject, text, html string, err error) {
	tt, err := template.New(name).Option("missingkey=error").Parse(txt)
	if err != nil {
		return "", "", "", fmt.Errorf("usermgmt: parse %s.txt: %w", name, err)
	}
	if tt.Lookup("subject") == nil {
		return "", "", "", fmt.Errorf("usermgmt: %s.txt defines no subject", name)
	}
	var sb, tb, hb bytes.Buffer
	if err := tt.ExecuteTemplate(&sb, "subject", data); err != nil {
		return "", "", "", fmt.Errorf("usermgmt: render %s subject: %w", name, err)
	}
	if err := tt.Execute(&tb, data); err != nil {
		return "", "", "", fmt.Errorf("usermgmt: render %s.txt: %w", name, err)
	}
	ht, err := htmltemplate.New("layout").Option("missingkey=error").Parse(layout)
	if err == nil {
		_, err = ht.New("page").Parse(page)
	}
	if err != nil {
		return "", "", "", fmt.Errorf("usermgmt: parse %s.html: %w", name, err)
	}
	if err := ht.ExecuteTemplate(&hb, "layout", data); err != nil {
		return "", "", "", fmt.Errorf("usermgmt: render %s.html: %w", name, err)
	}
	subject = strings.Join(strings.Fields(sb.String()), " ")
	return subject, strings.TrimSpace(tb.String()) + "\n", hb.String(), nil
}

// sendMail renders a template and queues the message to u. Without a
// mailer it does nothing. A template error is returned (it is a bug of the
// host's templates); a send failure is the queue's to retry and log.
func (m *Manager) sendMail(ctx context.Context, u *User, name string, data MailData) error {
	return m.queueMail(ctx, u.Email, u.UUID, name, data, false)
}

// queueMail renders the template name and queues the message to the
// address to (of the account userUUID, for the logs). A decoy is rendered
// and queued all the same but dropped unsent by the queue's worker: a
// request that must not reveal whether it mailed anyone does the same work
// either way. Without a mailer it does nothing.
func (m *Manager) queueMail(ctx context.Context, to, userUUID, name string, data MailData, decoy bool) error {
	if m.mailer == nil {
		return nil
	}
	subject, text, html, err := m.RenderMail(ctx, name, data)
	if err != nil {
		return err
	}
	m.mail.enqueue(ctx, queuedMail{
		msg:  mail.Message{To: []string{to}, Subject: subject, Text: text, HTML: html},
		kind: name, user: userUUID, decoy: decoy,
	})
	return nil
}

// SendTestMail sends the test mail to an address, through the queue like
// any other.
func (m *Manager) SendTestMail(ctx context.Context, to string) error {
	email, err := NormalizeEmail(to)
	if err != nil {
		return err
	}
	u := &User{Username: email, Email: email}
	d := m.MailData(ctx, u)
	d.Link = m.cfg.FrontendURL
	return m.sendMail(ctx, u, MailTest, d)
}

// checkDeliverable refuses an address whose domain has neither MX nor
// address records, when a mailer is configured. A lookup that fails for
// another reason (a timeout, a server failure) lets the address through:
// a DNS hiccup must not block sign-ups.
func (m *Manager) checkDeliverable(ctx context.Context, email string) error {
	if m.mailer == nil {
		return nil
	}
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		return ErrInvalidEmail
	}
	domain := email[at+1:]
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	r := m.mailOpt.resolver
	mxs, err := r.LookupMX(ctx, domain)
	if err == nil {
		for _, mx := range mxs {
			if mx.Host != "." && mx.Host != "" {
				return nil
			}
		}
		if len(mxs) > 0 { // a null MX (RFC 7505): the domain takes no mail
			return ErrEmailUndeliverable
		}
	}
	if err != nil && !isNotFound(err) {
		m.log.WarnContext(ctx, "deliverability check inconclusive", "domain", domain, "err", err)
		return nil
	}
	hosts, err := r.LookupHost(ctx, domain)
	if err == nil && len(hosts) > 0 {
		return nil
	}
	if err != nil && !isNotFound(err) {
		m.log.WarnContext(ctx, "deliverability check inconclusive", "domain", domain, "err", err)
		return nil
	}
	return ErrEmailUndeliverable
}

func isNotFound(err error) bool {
	var de *net.DNSError
	return errors.As(err, &de) && de.IsNotFound
}
