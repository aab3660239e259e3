package mail

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/smtp"
	"strconv"
	"time"
)

// SMTP sends through an SMTP server: one connection per message, EHLO,
// STARTTLS (unless NoTLS), AUTH PLAIN when a username is set, then the
// message as multipart/alternative.
type SMTP struct {
	// Host and Port of the server. Port defaults to 587.
	Host string
	Port int
	// Username and Password authenticate (AUTH PLAIN, only over TLS or to
	// localhost, as net/smtp insists). Empty Username skips AUTH.
	Username, Password string
	// From is the sender address; FromName its display name.
	From, FromName string
	// EnvelopeFrom is the MAIL FROM address; defaults to From.
	EnvelopeFrom string
	// NoTLS skips STARTTLS (the reference's SMTP_TLS=false). With TLS on, a
	// server that does not offer STARTTLS is an error, never a silent
	// downgrade.
	NoTLS bool
	// TLSConfig configures STARTTLS; nil verifies the server against Host.
	TLSConfig *tls.Config
	// Timeout bounds the whole exchange. Default 30 s.
	Timeout time.Duration
	// Clock dates the message. Default time.Now.
	Clock func() time.Time
}

// Validate reports a configuration that cannot send.
func (s *SMTP) Validate() error {
	var errs []error
	if s.Host == "" {
		errs = append(errs, errors.New("SMTP host is required"))
	}
	if _, err := mail.ParseAddress(s.From); err != nil {
		errs = append(errs, fmt.Errorf("SMTP sender %q is not an address", s.From))
	}
	if s.Port < 0 || s.Port > 65535 {
		errs = append(errs, fmt.Errorf("SMTP port %d is out of range", s.Port))
	}
	return errors.Join(errs...)
}

// Send implements the Mailer of usermgmt.
func (s *SMTP) Send(ctx context.Context, msg Message) error {
	if err := msg.Validate(); err != nil {
		return err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	port := s.Port
	if port == 0 {
		port = 587
	}
	addr := net.JoinHostPort(s.Host, strconv.Itoa(port))
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return fmt.Errorf("mail: smtp dial %s: %w", addr, err)
	}
	defer conn.Close()
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	}
	stop := context.AfterFunc(ctx, func() { _ = conn.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	c, err := smtp.NewClient(conn, s.Host)
	if err != nil {
		return fmt.Errorf("mail: smtp greeting: %w", err)
	}
	defer c.Close()
	if err := c.Hello("localhost"); err != nil {
		return fmt.Errorf("mail: smtp EHLO: %w", err)
	}
	if !s.NoTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			return errors.New("mail: smtp server does not offer STARTTLS")
		}
		cfg := s.TLSConfig
		if cfg == nil {
			cfg = &tls.Config{ServerName: s.Host, MinVersion: tls.VersionTLS12}
		}
		if err := c.StartTLS(cfg); err != nil {
			return fmt.Errorf("mail: smtp STARTTLS: %w", err)
		}
	}
	if s.Username != "" {
		if err := c.Auth(smtp.PlainAuth("", s.Username, s.Password, s.Host)); err != nil {
			return fmt.Errorf("mail: smtp AUTH: %w", err)
		}
	}
	from := msg.From
	if from == "" {
		from = formatFrom(s.From, s.FromName)
	}
	envelope := s.EnvelopeFrom
	if envelope == "" {
		envelope = s.From
	}
	if a, err := mail.ParseAddress(envelope); err == nil {
		envelope = a.Address
	}
	if err := c.Mail(envelope); err != nil {
		return fmt.Errorf("mail: smtp MAIL FROM: %w", err)
	}
	for _, to := range msg.To {
		a, _ := mail.ParseAddress(to) // Validate parsed it
		if err := c.Rcpt(a.Address); err != nil {
			return fmt.Errorf("mail: smtp RCPT TO: %w", err)
		}
	}
	now := time.Now
	if s.Clock != nil {
		now = s.Clock
	}
	body, err := buildMIME(msg, from, now())
	if err != nil {
		return fmt.Errorf("mail: build message: %w", err)
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("mail: smtp DATA: %w", err)
	}
	if _, err := w.Write(body); err != nil {
		return fmt.Errorf("mail: smtp write: %w", err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("mail: smtp end of data: %w", err)
	}
	return c.Quit()
}
