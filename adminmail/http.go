package adminmail

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
	"github.com/usermgmt/usermgmt/httpadapter"
)

// The admin mail routes (the reference's /email/...): the policy first
// (resource "email", admins only by default), then the confirm guard,
// then the send. Every send is audited by the Manager.

// Endpoints implements httpadapter.Feature: the routes under /email.
func (t *Tools) Endpoints() []httpadapter.Endpoint {
	mail := func(path, name, flag, summary, request string, encodings []string, in httpadapter.Input,
		call func(*Tools, context.Context, *usermgmt.Principal, mailInput) (httpadapter.Response, error)) httpadapter.Endpoint {
		e := httpadapter.Handle(httpadapter.Route{Method: http.MethodPost, Path: "/email" + path, Name: name, Flag: flag, Tag: "email", Auth: true,
			Summary: summary, Request: request, Encodings: encodings, Status: http.StatusOK, Response: "text"},
			decodeMail(encodings), func(ctx context.Context, p *usermgmt.Principal, in mailInput) (httpadapter.Response, error) {
				return call(t, ctx, p, in)
			})
		e.Input = in
		return e
	}
	eps := []httpadapter.Endpoint{
		mail("/send-email", "send_email_single", "SEND_EMAIL_SINGLE",
			"Mail one address (confirm=true); the content is a template rendered with the mail data.",
			"EmailSingle", jsonOnly, httpadapter.Input{Params: []httpadapter.Param{confirmParam, subjectParam, recipientParam}, Body: "MailContent", BodyRequired: true},
			(*Tools).sendEmailSingle),
		mail("/send-email-multiple", "send_email_multiple", "SEND_EMAIL_MULTIPLE",
			"Mail each of the recipients, one message each (confirm=true).",
			"EmailMultiple", jsonOnly, httpadapter.Input{Params: []httpadapter.Param{confirmParam, subjectParam,
				{Name: "recipients", Schema: map[string]any{"type": "array", "items": emailSchema()}, Required: true, Description: "Repeatable."}},
				Body: "MailContent", BodyRequired: true},
			(*Tools).sendEmailMultiple),
		mail("/send-email-all", "send_email_all", "SEND_EMAIL_ALL",
			"Mail every active user, one message each (confirm=true).",
			"EmailAll", jsonOnly, httpadapter.Input{Params: []httpadapter.Param{confirmParam, subjectParam}, Body: "MailContent", BodyRequired: true},
			(*Tools).sendEmailAll),
		mail("/send-test-email", "test_email", "TEST_EMAIL",
			"Send the test mail to recipient (default CONTACT_EMAIL); no confirm needed.",
			"EmailTest", nil, httpadapter.Input{Params: []httpadapter.Param{{Name: "recipient", Schema: emailSchema(), Description: "Default: CONTACT_EMAIL."}}},
			(*Tools).sendTestEmail),
		mail("/send-otp-email", "otp_email", "OTP_EMAIL",
			"Mail the account of recipient a one-time code (confirm=true).",
			"EmailAuth", nil, httpadapter.Input{Params: []httpadapter.Param{confirmParam, recipientParam}},
			(*Tools).sendOTPEmail),
		mail("/send-reset-password-email", "reset_password_email", "RESET_PASSWORD_EMAIL",
			"Mail the account of recipient a password reset link (confirm=true).",
			"EmailReset", jsonOrForm, httpadapter.Input{Params: []httpadapter.Param{confirmParam, recipientParam}, Body: "EmailResetForm"},
			(*Tools).sendResetPasswordEmail),
		mail("/send-validation-email", "validation_email", "VALIDATION_EMAIL",
			"Mail the account of recipient a new verification link (confirm=true).",
			"EmailAuth", nil, httpadapter.Input{Params: []httpadapter.Param{confirmParam, recipientParam}},
			(*Tools).sendValidationEmail),
	}
	// The sends to one account answer 404 for an unknown one; a
	// verification link, 409 for an address verified already.
	for i := range eps {
		switch eps[i].Name {
		case "otp_email", "reset_password_email":
			eps[i].Statuses = []int{http.StatusNotFound}
		case "validation_email":
			eps[i].Statuses = []int{http.StatusNotFound, http.StatusConflict}
		}
	}
	return eps
}

// The encodings the routes take, as the reference did.
var (
	jsonOnly   = []string{mediaJSON}
	jsonOrForm = []string{mediaJSON, "application/x-www-form-urlencoded", "multipart/form-data"}
)

const mediaJSON = "application/json"

func emailSchema() map[string]any { return map[string]any{"type": "string", "format": "email"} }

// The query parameters the routes share.
var (
	confirmParam = httpadapter.Param{Name: "confirm", Schema: map[string]any{"type": "boolean", "default": false},
		Description: "Must be true: without it a permitted caller gets 400 confirmation_required."}
	subjectParam   = httpadapter.Param{Name: "subject", Schema: map[string]any{"type": "string"}, Required: true}
	recipientParam = httpadapter.Param{Name: "recipient", Schema: emailSchema(), Required: true}
)

// Schemas implements httpadapter.Feature: the bodies of the routes.
func (t *Tools) Schemas() map[string]any {
	return map[string]any{
		"MailContent": map[string]any{"description": "The HTML content, a template rendered with the mail data (ProjectName, Username, Email, ...): a bare JSON string, or an object.",
			"oneOf": []any{map[string]any{"type": "string"}, map[string]any{"type": "object", "properties": map[string]any{"content": map[string]any{"type": "string"}}, "required": []string{"content"}}}},
		"EmailResetForm": map[string]any{"type": "object", "properties": map[string]any{
			"endpoint": map[string]any{"type": "string", "enum": []string{"/reset-password", "/forgot-password/reset-form"}}}},
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
			err = httpadapter.ErrUnsupportedMediaType.WithMessage("Unsupported Content-Type; send " + strings.Join(encodings, " or ") + ".")
		}
		return in, err
	}
}

// readMailInput reads the query (confirm, subject, recipient, recipients)
// and keeps the body for the route to read.
func readMailInput(r *http.Request) (mailInput, error) {
	q, err := httpadapter.Query(r)
	if err != nil {
		return mailInput{}, err
	}
	in := mailInput{subject: q.Get("subject"), recipients: q["recipients"]}
	if c := q.Get("confirm"); c != "" {
		var ok bool
		if in.confirm, ok = httpadapter.ParseBool(c); !ok { // the same booleans as every other route
			return mailInput{}, httpadapter.Invalid("confirm: must be a boolean")
		}
	}
	if rcpt := q.Get("recipient"); rcpt != "" {
		in.recipients = []string{rcpt}
	}
	if in.body, err = io.ReadAll(r.Body); err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return mailInput{}, httpadapter.ErrTooLarge
		}
		return mailInput{}, httpadapter.Invalid("Could not read the request body.")
	}
	if in.ctype = r.Header.Get("Content-Type"); in.ctype != "" {
		if in.media, _, err = mime.ParseMediaType(in.ctype); err != nil {
			return mailInput{}, httpadapter.ErrUnsupportedMediaType
		}
	}
	return in, nil
}

// parseMailContent reads a mail's content from a JSON body: the
// reference's bare JSON string, or an object {"content": "..."}.
func parseMailContent(media string, body []byte) (string, error) {
	if media != "" && media != mediaJSON {
		return "", httpadapter.ErrUnsupportedMediaType.WithMessage("Unsupported Content-Type; send application/json.")
	}
	body = bytes.TrimSpace(body)
	if len(body) == 0 {
		return "", httpadapter.Invalid("content: field required")
	}
	var s string
	if body[0] == '"' {
		if err := json.Unmarshal(body, &s); err != nil {
			return "", httpadapter.Invalid("The body must be a JSON string or an object with content.")
		}
		return s, nil
	}
	var obj struct {
		Content *string `json:"content"`
	}
	if err := json.Unmarshal(body, &obj); err != nil || body[0] != '{' {
		return "", httpadapter.Invalid("The body must be a JSON string or an object with content.")
	}
	if obj.Content == nil {
		return "", httpadapter.Invalid("content: field required")
	}
	return *obj.Content, nil
}

// recipient returns the one recipient the route takes.
func (in mailInput) recipient() (string, error) {
	if len(in.recipients) == 0 || in.recipients[0] == "" {
		return "", httpadapter.Invalid("recipient: field required")
	}
	return in.recipients[0], nil
}

// guard checks the policy's email action for the caller, then confirm.
func (t *Tools) guard(ctx context.Context, p *usermgmt.Principal, action string, confirm bool) error {
	if err := t.m.Authorize(ctx, usermgmt.AccessRequest{Actor: p.User(), Resource: "email", Action: action}); err != nil {
		return err
	}
	if !confirm {
		return ErrConfirmRequired
	}
	return nil
}

// sent is the answer of a send: the reference's texts.
func sent(n int, subject string) httpadapter.Response {
	switch {
	case n == 0:
		return httpadapter.Text(http.StatusOK, "No Email Sent")
	case subject != "":
		return httpadapter.Text(http.StatusOK, "Subject: "+subject+" - Email Sent")
	}
	return httpadapter.Text(http.StatusOK, "Email Sent")
}

// freeForm reads the content of a free-form mail after the guard.
func (t *Tools) freeForm(ctx context.Context, p *usermgmt.Principal, action string, in mailInput) (Message, error) {
	if err := t.guard(ctx, p, action, in.confirm); err != nil {
		return Message{}, err
	}
	content, err := parseMailContent(in.media, in.body)
	if err != nil {
		return Message{}, err
	}
	return Message{Subject: in.subject, Content: content}, nil
}

func (t *Tools) sendEmailSingle(ctx context.Context, p *usermgmt.Principal, in mailInput) (httpadapter.Response, error) {
	msg, err := t.freeForm(ctx, p, "single", in)
	if err != nil {
		return httpadapter.Response{}, err
	}
	to, err := in.recipient()
	if err != nil {
		return httpadapter.Response{}, err
	}
	n, err := t.SendTo(ctx, p.User(), to, msg)
	if err != nil {
		return httpadapter.Response{}, err
	}
	return sent(n, msg.Subject), nil
}

func (t *Tools) sendEmailMultiple(ctx context.Context, p *usermgmt.Principal, in mailInput) (httpadapter.Response, error) {
	msg, err := t.freeForm(ctx, p, "multiple", in)
	if err != nil {
		return httpadapter.Response{}, err
	}
	n, err := t.SendToMany(ctx, p.User(), in.recipients, msg)
	if err != nil {
		return httpadapter.Response{}, err
	}
	return sent(n, msg.Subject), nil
}

func (t *Tools) sendEmailAll(ctx context.Context, p *usermgmt.Principal, in mailInput) (httpadapter.Response, error) {
	msg, err := t.freeForm(ctx, p, "all", in)
	if err != nil {
		return httpadapter.Response{}, err
	}
	n, err := t.SendToAll(ctx, p.User(), msg)
	if err != nil {
		return httpadapter.Response{}, err
	}
	return sent(n, msg.Subject), nil
}

// sendTestEmail needs no confirm, as in the reference.
func (t *Tools) sendTestEmail(ctx context.Context, p *usermgmt.Principal, in mailInput) (httpadapter.Response, error) {
	var to string
	if len(in.recipients) > 0 {
		to = in.recipients[0]
	}
	n, err := t.SendTest(ctx, p.User(), to)
	if err != nil {
		return httpadapter.Response{}, err
	}
	return sent(n, ""), nil
}

// accountMail runs one of the account mails after the guard.
func (t *Tools) accountMail(ctx context.Context, p *usermgmt.Principal, in mailInput, send func(t *Tools, ctx context.Context, actor *usermgmt.User, recipient string) (int, error)) (httpadapter.Response, error) {
	if err := t.guard(ctx, p, "auth", in.confirm); err != nil {
		return httpadapter.Response{}, err
	}
	to, err := in.recipient()
	if err != nil {
		return httpadapter.Response{}, err
	}
	n, err := send(t, ctx, p.User(), to)
	if err != nil {
		return httpadapter.Response{}, err
	}
	return sent(n, ""), nil
}

func (t *Tools) sendOTPEmail(ctx context.Context, p *usermgmt.Principal, in mailInput) (httpadapter.Response, error) {
	return t.accountMail(ctx, p, in, (*Tools).SendOTP)
}

func (t *Tools) sendValidationEmail(ctx context.Context, p *usermgmt.Principal, in mailInput) (httpadapter.Response, error) {
	return t.accountMail(ctx, p, in, (*Tools).SendVerification)
}

// resetEndpoints are the reference's accepted values of the form field
// endpoint. The link itself is always Config.ResetURLTemplate's.
var resetEndpoints = map[string]bool{"/reset-password": true, "/forgot-password/reset-form": true}

func (t *Tools) sendResetPasswordEmail(ctx context.Context, p *usermgmt.Principal, in mailInput) (httpadapter.Response, error) {
	if err := t.guard(ctx, p, "auth", in.confirm); err != nil {
		return httpadapter.Response{}, err
	}
	if len(bytes.TrimSpace(in.body)) > 0 {
		r := &http.Request{Header: http.Header{"Content-Type": {in.ctype}}, Body: io.NopCloser(bytes.NewReader(in.body))}
		f, err := httpadapter.ReadFields(r, jsonOrForm)
		if err != nil {
			return httpadapter.Response{}, err
		}
		ep, sentEP := f.String("endpoint")
		if err := f.Err(); err != nil {
			return httpadapter.Response{}, err
		}
		if sentEP && !resetEndpoints[ep] {
			return httpadapter.Response{}, httpadapter.Invalid("endpoint: must be /reset-password or /forgot-password/reset-form")
		}
	}
	return t.accountMail(ctx, p, in, (*Tools).SendPasswordReset)
}
