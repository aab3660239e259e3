package adminmail

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/usermgmt/usermgmt"
)

// mailTemplate is a checked Message, ready to render per recipient.
type mailTemplate struct {
	subject string
	content *htmltemplate.Template
	layout  string
}

// parseMessage checks msg and parses its content, to render inside layout.
func parseMessage(msg Message, layout string) (*mailTemplate, error) {
	subject := strings.TrimSpace(msg.Subject)
	switch {
	case subject == "":
		return nil, usermgmt.ErrInvalidInput.WithMessage("subject: field required")
	case len(subject) > MaxSubject || !utf8.ValidString(subject) || strings.ContainsFunc(subject, unicode.IsControl):
		return nil, usermgmt.ErrInvalidInput.WithMessage(fmt.Sprintf("subject: one line of at most %d bytes", MaxSubject))
	case strings.TrimSpace(msg.Content) == "":
		return nil, usermgmt.ErrInvalidInput.WithMessage("content: field required")
	case len(msg.Content) > MaxContent || !utf8.ValidString(msg.Content):
		return nil, usermgmt.ErrInvalidInput.WithMessage(fmt.Sprintf("content: at most %d bytes of UTF-8", MaxContent))
	}
	t, err := htmltemplate.New("content").Option("missingkey=error").Parse(msg.Content)
	if err != nil {
		return nil, ErrInvalidTemplate.WithMessage("The content is not a valid template: " + templateProblem(err))
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
func (t *mailTemplate) render(data usermgmt.MailData) (string, error) {
	var body bytes.Buffer
	if err := t.content.Execute(&body, data); err != nil {
		return "", ErrInvalidTemplate.WithMessage("The content could not be rendered: " + templateProblem(err))
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
		usermgmt.MailData
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
		e, err := usermgmt.NormalizeEmail(a)
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
