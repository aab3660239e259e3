// Package mail holds the message type and the transports usermgmt sends
// mail through: SMTP (STARTTLS and AUTH), the Mailjet v3.1 send API, a log
// transport for development and an in-memory one for tests. It imports
// nothing of usermgmt and can be used on its own.
package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"strings"
	"time"
)

// Message is one mail to one or more recipients, with a plain-text body, an
// HTML body, or both.
type Message struct {
	// From is the sender address; empty uses the transport's.
	From string
	// To are the recipients' addresses.
	To []string
	// Subject is a single line.
	Subject string
	// Text and HTML are the two renderings of the body.
	Text string
	HTML string
}

// ErrInvalidMessage is returned for a message no transport can send: no
// recipient, an unparsable address, or a line break in a header.
var ErrInvalidMessage = errors.New("mail: invalid message")

// Validate checks that msg can be sent.
func (msg Message) Validate() error {
	if len(msg.To) == 0 {
		return fmt.Errorf("%w: no recipient", ErrInvalidMessage)
	}
	addrs := msg.To
	if msg.From != "" {
		addrs = append([]string{msg.From}, addrs...)
	}
	for _, a := range addrs {
		if _, err := mail.ParseAddress(a); err != nil || strings.ContainsAny(a, "\r\n") {
			return fmt.Errorf("%w: bad address %q", ErrInvalidMessage, a)
		}
	}
	if strings.ContainsAny(msg.Subject, "\r\n") {
		return fmt.Errorf("%w: line break in the subject", ErrInvalidMessage)
	}
	if msg.Text == "" && msg.HTML == "" {
		return fmt.Errorf("%w: empty body", ErrInvalidMessage)
	}
	return nil
}

// formatFrom returns the From header of a sender address and display name.
func formatFrom(addr, name string) string {
	if name == "" {
		return addr
	}
	return (&mail.Address{Name: name, Address: addr}).String()
}

// buildMIME renders msg as an RFC 5322 message: multipart/alternative when
// it has both bodies, quoted-printable UTF-8 parts.
func buildMIME(msg Message, from string, now time.Time) ([]byte, error) {
	var buf bytes.Buffer
	h := textproto.MIMEHeader{}
	h.Set("From", from)
	h.Set("To", strings.Join(msg.To, ", "))
	h.Set("Subject", mime.QEncoding.Encode("utf-8", msg.Subject))
	h.Set("Date", now.Format(time.RFC1123Z))
	id := make([]byte, 16)
	_, _ = rand.Read(id)
	domain := "localhost"
	if a, err := mail.ParseAddress(from); err == nil {
		if i := strings.LastIndexByte(a.Address, '@'); i >= 0 {
			domain = a.Address[i+1:]
		}
	}
	h.Set("Message-ID", "<"+hex.EncodeToString(id)+"@"+domain+">")
	h.Set("MIME-Version", "1.0")
	writeHeader := func(h textproto.MIMEHeader) {
		for _, k := range []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type", "Content-Transfer-Encoding"} {
			if v := h.Get(k); v != "" {
				fmt.Fprintf(&buf, "%s: %s\r\n", k, v)
			}
		}
		buf.WriteString("\r\n")
	}
	part := func(w *bytes.Buffer, body string) error {
		qp := quotedprintable.NewWriter(w)
		if _, err := qp.Write([]byte(strings.ReplaceAll(body, "\n", "\r\n"))); err != nil {
			return err
		}
		return qp.Close()
	}
	if msg.Text == "" || msg.HTML == "" {
		ct, body := "text/plain; charset=utf-8", msg.Text
		if msg.Text == "" {
			ct, body = "text/html; charset=utf-8", msg.HTML
		}
		h.Set("Content-Type", ct)
		h.Set("Content-Transfer-Encoding", "quoted-printable")
		writeHeader(h)
		if err := part(&buf, body); err != nil {
			return nil, err
		}
		return buf.Bytes(), nil
	}
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	h.Set("Content-Type", "multipart/alternative; boundary="+mw.Boundary())
	writeHeader(h)
	for _, p := range []struct{ ct, body string }{{"text/plain; charset=utf-8", msg.Text}, {"text/html; charset=utf-8", msg.HTML}} {
		ph := textproto.MIMEHeader{}
		ph.Set("Content-Type", p.ct)
		ph.Set("Content-Transfer-Encoding", "quoted-printable")
		w, err := mw.CreatePart(ph)
		if err != nil {
			return nil, err
		}
		var pb bytes.Buffer
		if err := part(&pb, p.body); err != nil {
			return nil, err
		}
		if _, err := w.Write(pb.Bytes()); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	buf.Write(body.Bytes())
	return buf.Bytes(), nil
}
