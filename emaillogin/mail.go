package emaillogin

import (
	"bytes"
	"context"
	"embed"
	"fmt"
	htmltemplate "html/template"
	"io/fs"
	"strings"
	"text/template"
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

// render renders the template name with d.
func (f *EmailLogin) render(ctx context.Context, name string, d usermgmt.MailData) (subject, text, html string, err error) {
	txt, ok1 := f.template(ctx, name+".txt")
	page, ok2 := f.template(ctx, name+".html")
	layout, ok3 := f.m.MailTemplate(ctx, "layout.html")
	if !ok1 || !ok2 || !ok3 {
		return "", "", "", fmt.Errorf("emaillogin: mail template %s: a file is missing", name)
	}
	tt, err := template.New(name).Option("missingkey=error").Parse(txt)
	if err != nil {
		return "", "", "", fmt.Errorf("emaillogin: parse %s.txt: %w", name, err)
	}
	if tt.Lookup("subject") == nil {
		return "", "", "", fmt.Errorf("emaillogin: %s.txt defines no subject", name)
	}
	var sb, tb, hb bytes.Buffer
	if err := tt.ExecuteTemplate(&sb, "subject", d); err != nil {
		return "", "", "", fmt.Errorf("emaillogin: render %s subject: %w", name, err)
	}
	if err := tt.Execute(&tb, d); err != nil {
		return "", "", "", fmt.Errorf("emaillogin: render %s.txt: %w", name, err)
	}
	ht, err := htmltemplate.New("layout").Option("missingkey=error").Parse(layout)
	if err == nil {
		_, err = ht.New("page").Parse(page)
	}
	if err == nil {
		err = ht.ExecuteTemplate(&hb, "layout", d)
	}
	if err != nil {
		return "", "", "", fmt.Errorf("emaillogin: render %s.html: %w", name, err)
	}
	return strings.Join(strings.Fields(sb.String()), " "), strings.TrimSpace(tb.String()) + "\n", hb.String(), nil
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
