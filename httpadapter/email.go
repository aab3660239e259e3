package httpadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"slices"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// The admin mail routes (the reference's /email/...): the policy first
// (resource "email", admins only by default), then the confirm guard,
// then the send. Every send is audited by the Manager.

// emailRoutes are the routes under /email.
func emailRoutes() []route {
	mail := func(path, name, flag, summary, request string, encodings []string, call func(*handler, context.Context, *usermgmt.Principal, mailInput) (response, error)) route {
		return route{Route{Method: post, Path: "/email" + path, Name: name, Flag: flag, Tag: "email", Auth: true,
			Summary: summary, Request: request, Encodings: encodings, Status: ok, Response: "text"},
			op[mailInput]{decodeMail(encodings), call}}
	}
	return []route{
		mail("/send-email", "send_email_single", "SEND_EMAIL_SINGLE",
			"Mail one address (confirm=true); the content is a template rendered with the mail data.",
			"EmailSingle", jsonOnly, (*handler).sendEmailSingle),
		mail("/send-email-multiple", "send_email_multiple", "SEND_EMAIL_MULTIPLE",
			"Mail each of the recipients, one message each (confirm=true).",
			"EmailMultiple", jsonOnly, (*handler).sendEmailMultiple),
		mail("/send-email-all", "send_email_all", "SEND_EMAIL_ALL",
			"Mail every active user, one message each (confirm=true).",
			"EmailAll", jsonOnly, (*handler).sendEmailAll),
		mail("/send-test-email", "test_email", "TEST_EMAIL",
			"Send the test mail to recipient (default CONTACT_EMAIL); no confirm needed.",
			"EmailTest", nil, (*handler).sendTestEmail),
		mail("/send-otp-email", "otp_email", "OTP_EMAIL",
			"Mail the account of recipient a one-time code (confirm=true).",
			"EmailAuth", nil, (*handler).sendOTPEmail),
		mail("/send-reset-password-email", "reset_password_email", "RESET_PASSWORD_EMAIL",
			"Mail the account of recipient a password reset link (confirm=true).",
			"EmailReset", jsonOrForm, (*handler).sendResetPasswordEmail),
		mail("/send-validation-email", "validation_email", "VALIDATION_EMAIL",
			"Mail the account of recipient a new verification link (confirm=true).",
			"EmailAuth", nil, (*handler).sendValidationEmail),
	}
}

// mailInput is the input of every mail route; each reads what it needs.
type mailInput struct {
	confirm    bool
	subject    string
	recipients []string // recipient, or the repeated recipients
	body       []byte   // the raw body: content, or the reset form
	ctype      string   // the body's Content-Type
	media      string   // its media type
}

// decodeMail returns the decoder of a mail route taking a body in one of
// encodings (nil: the body is ignored).
func decodeMail(encodings []string) func(r *http.Request) (mailInput, error) {
	return func(r *http.Request) (mailInput, error) {
		in, err := readMailInput(r)
		if err == nil && in.media != "" && encodings != nil && !slices.Contains(encodings, in.media) {
			err = errUnsupportedMediaType.WithMessage("Unsupported Content-Type; send " + strings.Join(encodings, " or ") + ".")
		}
		return in, err
	}
}

// readMailInput reads the query (confirm, subject, recipient, recipients)
// and keeps the body for the route to read.
func readMailInput(r *http.Request) (mailInput, error) {
	q, err := query(r)
	if err != nil {
		return mailInput{}, err
	}
	in := mailInput{subject: q.Get("subject"), recipients: q["recipients"]}
	if c := q.Get("confirm"); c != "" {
		var ok bool
		if in.confirm, ok = parseBool(c); !ok { // the same booleans as every other route
			return mailInput{}, invalid("confirm: must be a boolean")
		}
	}
	if rcpt := q.Get("recipient"); rcpt != "" {
		in.recipients = []string{rcpt}
	}
	if in.body, err = io.ReadAll(r.Body); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return mailInput{}, errTooLarge
		}
		return mailInput{}, invalid("Could not read the request body.")
	}
	if in.ctype = r.Header.Get("Content-Type"); in.ctype != "" {
		if in.media, _, err = mime.ParseMediaType(in.ctype); err != nil {
			return mailInput{}, errUnsupportedMediaType
		}
	}
	return in, nil
}

// parseMailContent reads a mail's content from a JSON body: the
// reference's bare JSON string, or an object {"content": "..."}.
func parseMailContent(media string, body []byte) (string, error) {
	if media != "" && media != mediaJSON {
		return "", errUnsupportedMediaType.WithMessage("Unsupported Content-Type; send application/json.")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", invalid("content: field required")
	}
	var s string
	if body[0] == '"' {
		if err := json.Unmarshal(body, &s); err != nil {
			return "", invalid("The body must be a JSON string or an object with content.")
		}
		return s, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(body, &obj); err != nil || body[0] != '{' {
		return "", invalid("The body must be a JSON string or an object with content.")
	}
	if obj.Content == nil {
		return "", invalid("content: field required")
	}
	return *obj.Content, nil
}

// recipient returns the one recipient the route takes.
func (in mailInput) recipient() (string, error) {
	if len(in.recipients) == 0 || in.recipients[0] == "" {
		return "", invalid("recipient: field required")
	}
	return in.recipients[0], nil
}

// guard checks the policy's email action for the caller, then confirm.
func (h *handler) mailGuard(ctx context.Context, p *usermgmt.Principal, action string, confirm bool) error {
	if err := h.m.Authorize(ctx, usermgmt.AccessRequest{Actor: p.User(), Resource: "email", Action: action}); err != nil {
		return err
	}
	if !confirm {
		return usermgmt.ErrConfirmRequired
	}
	return nil
}

// sent is the answer of a send: the reference's texts.
func sent(n int, subject string) response {
	switch {
	case n == 0:
		return textOK("No Email Sent")
	case subject != "":
		return textOK("Subject: " + subject + " - Email Sent")
	}
	return textOK("Email Sent")
}

// freeForm reads the content of a free-form mail after the guard.
func (h *handler) freeForm(ctx context.Context, p *usermgmt.Principal, action string, in mailInput) (usermgmt.AdminMail, error) {
	if err := h.mailGuard(ctx, p, action, in.confirm); err != nil {
		return usermgmt.AdminMail{}, err
	}
	content, err := parseMailContent(in.media, in.body)
	if err != nil {
		return usermgmt.AdminMail{}, err
	}
	return usermgmt.AdminMail{Subject: in.subject, Content: content}, nil
}

func (h *handler) sendEmailSingle(ctx context.Context, p *usermgmt.Principal, in mailInput) (response, error) {
	msg, err := h.freeForm(ctx, p, "single", in)
	if err != nil {
		return response{}, err
	}
	to, err := in.recipient()
	if err != nil {
		return response{}, err
	}
	n, err := h.m.As(p.User()).SendMailTo(ctx, to, msg)
	if err != nil {
		return response{}, err
	}
	return sent(n, msg.Subject), nil
}

func (h *handler) sendEmailMultiple(ctx context.Context, p *usermgmt.Principal, in mailInput) (response, error) {
	msg, err := h.freeForm(ctx, p, "multiple", in)
	if err != nil {
		return response{}, err
	}
	n, err := h.m.As(p.User()).SendMailToMany(ctx, in.recipients, msg)
	if err != nil {
		return response{}, err
	}
	return sent(n, msg.Subject), nil
}

func (h *handler) sendEmailAll(ctx context.Context, p *usermgmt.Principal, in mailInput) (response, error) {
	msg, err := h.freeForm(ctx, p, "all", in)
	if err != nil {
		return response{}, err
	}
	n, err := h.m.As(p.User()).SendMailToAll(ctx, msg)
	if err != nil {
		return response{}, err
	}
	return sent(n, msg.Subject), nil
}

// sendTestEmail needs no confirm, as in the reference.
func (h *handler) sendTestEmail(ctx context.Context, p *usermgmt.Principal, in mailInput) (response, error) {
	var to string
	if len(in.recipients) > 0 {
		to = in.recipients[0]
	}
	n, err := h.m.As(p.User()).SendTestMail(ctx, to)
	if err != nil {
		return response{}, err
	}
	return sent(n, ""), nil
}

// accountMail runs one of the account mails after the guard.
func (h *handler) accountMail(ctx context.Context, p *usermgmt.Principal, in mailInput, send func(*usermgmt.Actor, context.Context, string) (int, error)) (response, error) {
	if err := h.mailGuard(ctx, p, "auth", in.confirm); err != nil {
		return response{}, err
	}
	to, err := in.recipient()
	if err != nil {
		return response{}, err
	}
	n, err := send(h.m.As(p.User()), ctx, to)
	if err != nil {
		return response{}, err
	}
	return sent(n, ""), nil
}

func (h *handler) sendOTPEmail(ctx context.Context, p *usermgmt.Principal, in mailInput) (response, error) {
	return h.accountMail(ctx, p, in, (*usermgmt.Actor).SendOTPMail)
}

func (h *handler) sendValidationEmail(ctx context.Context, p *usermgmt.Principal, in mailInput) (response, error) {
	return h.accountMail(ctx, p, in, (*usermgmt.Actor).SendVerificationMail)
}

// resetEndpoints are the reference's accepted values of the form field
// endpoint. The link itself is always Config.ResetURLTemplate's.
var resetEndpoints = map[string]bool{"/reset-password": true, "/forgot-password/reset-form": true}

func (h *handler) sendResetPasswordEmail(ctx context.Context, p *usermgmt.Principal, in mailInput) (response, error) {
	if err := h.mailGuard(ctx, p, "auth", in.confirm); err != nil {
		return response{}, err
	}
	if len(bytes.TrimSpace(in.body)) > 0 {
		r := &http.Request{Header: http.Header{"Content-Type": {in.ctype}}, Body: io.NopCloser(bytes.NewReader(in.body))}
		f, err := readBody(r, jsonOrForm)
		if err != nil {
			return response{}, err
		}
		ep, sentEP := f.String("endpoint")
		if err := f.Err(); err != nil {
			return response{}, err
		}
		if sentEP && !resetEndpoints[ep] {
			return response{}, invalid("endpoint: must be /reset-password or /forgot-password/reset-form")
		}
	}
	return h.accountMail(ctx, p, in, (*usermgmt.Actor).SendResetPasswordMail)
}
