package usermgmt

import (
	"context"
	"fmt"
)

// RenderFeatureMail renders a feature's own mail template as RenderMail
// renders the core's: txt is the text part, whose {{define "subject"}}
// block is the subject, and page defines "content", shown in the mail
// layout of ctx's locale (MailTemplate("layout.html")). Every value a
// template names must exist in data. name names the template in errors.
func (m *Manager) RenderFeatureMail(ctx context.Context, name, txt, page string, data MailData) (subject, text, html string, err error) {
	layout, ok := m.MailTemplate(ctx, "layout.html")
	if !ok {
		return "", "", "", fmt.Errorf("usermgmt: mail template %s: no layout", name)
	}
	return renderMail(name, txt, layout, page, data)
}
