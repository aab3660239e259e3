package emaillogin

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/mail"
)

// The feature's mail templates: magic_link, magic_link_signup and
// email_code, each "<locale>/<name>.txt" (whose {{define "subject"}} block
// is the subject) and "<locale>/<name>.html" (defining "content", shown in
// the Manager's mail layout), rendered with usermgmt.MailData (Link or
// Code, ExpiresAt, ValidFor set). A host overrides them with files of the
// same names in usermgmt.WithTemplates.
//
//go:embed templates
var builtinTemplates embed.FS

// template returns a template file: the host's (usermgmt.WithTemplates)
// first, else the built-in one, in the locale of ctx's request, else the
// Manager's MailLocale, else English.
func (f *EmailLogin) template(ctx context.Context, file string) (string, bool) {
	if t, ok := f.m.MailTemplate(ctx, file); ok {
		return t, true
	}
	for _, loc := range []string{usermgmt.ClientInfoFrom(ctx).Locale, f.m.Config().MailLocale, "en"} {
		if loc == "" || strings.ContainsAny(loc, "/\\.") {
			continue
		}
		if b, err := fs.ReadFile(builtinTemplates, "templates/"+loc+"/"+file); err == nil {
			return string(b), true
		}
	}
	return "", false
}

// render renders the template name with d, in the Manager's mail layout.
func (f *EmailLogin) render(ctx context.Context, name string, d usermgmt.MailData) (subject, text, html string, err error) {
	txt, ok1 := f.template(ctx, name+".txt")
	page, ok2 := f.template(ctx, name+".html")
	if !ok1 || !ok2 {
		return "", "", "", fmt.Errorf("emaillogin: mail template %s: a file is missing", name)
	}
	return f.m.RenderFeatureMail(ctx, name, txt, page, d)
}

// send renders the template name for u (to u.Email) with the link or code
// and its lifetime, and queues it through the Manager's mail queue.
func (f *EmailLogin) send(ctx context.Context, u *usermgmt.User, name, link, code string, ttl time.Duration) error {
	d := f.m.MailData(ctx, u)
	d.Link, d.Code = link, code
	d.ExpiresAt = f.now().Add(ttl).Format("January 02, 2006 15:04:05 UTC")
	d.ValidFor = validFor(ttl)
	subject, text, html, err := f.render(ctx, name, d)
	if err != nil {
		return err
	}
	return f.m.QueueMail(ctx, name, mail.Message{To: []string{u.Email}, Subject: subject, Text: text, HTML: html}, u.UUID)
}

// validFor says a lifetime in whole minutes, else in seconds.
func validFor(ttl time.Duration) string {
	n, unit := int64(ttl/time.Second), "second"
	if ttl >= time.Minute && ttl%time.Minute == 0 {
		n, unit = int64(ttl/time.Minute), "minute"
	}
	if n == 1 {
		return "1 " + unit
	}
	return fmt.Sprintf("%d %ss", n, unit)
}
