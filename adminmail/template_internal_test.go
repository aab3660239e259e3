package adminmail

import (
	"context"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// FuzzAdminMailTemplate: any subject and content is refused with a 4xx or
// rendered, never a panic; a rendered message carries the layout.
func FuzzAdminMailTemplate(f *testing.F) {
	for _, c := range []string{"<p>{{.Username}}</p>", "{{if}}", "{{.Nope}}", "{{template \"x\"}}", "{{printf \"%d\" 3}}", "<script>{{.Email}}</script>", "x"} {
		f.Add("Subject", c)
	}
	f.Add("a\r\nBcc: x", "x")
	layout := builtinLayout(f)
	f.Fuzz(func(t *testing.T, subject, content string) {
		if strings.Contains(content, "{{define") || strings.Contains(content, "{{block") {
			return // self-recursive templates only meet the engine's depth limit: slow, not wrong
		}
		tm, err := parseMessage(Message{Subject: subject, Content: content}, layout)
		if err != nil {
			if s := usermgmt.AsError(err).Status; s != 400 {
				t.Fatalf("status %d: %v", s, err)
			}
			return
		}
		if strings.ContainsAny(tm.subject, "\r\n") {
			t.Fatalf("subject %q", tm.subject)
		}
		html, err := tm.render(usermgmt.MailData{ProjectName: "P", Username: "u<b>", Email: "e@example.com"})
		if err != nil {
			if s := usermgmt.AsError(err).Status; s != 400 {
				t.Fatalf("render status %d: %v", s, err)
			}
			return
		}
		if !strings.Contains(html, "<!DOCTYPE html>") {
			t.Fatalf("no layout: %s", html)
		}
	})
}

func TestAdminMailRenderEscapes(t *testing.T) {
	tm, err := parseMessage(Message{Subject: " Hi ", Content: `<p title="{{.Username}}">{{.Username}}</p>`}, builtinLayout(t))
	if err != nil {
		t.Fatal(err)
	}
	html, err := tm.render(usermgmt.MailData{ProjectName: "P", Username: `<script>"x"</script>`})
	if err != nil {
		t.Fatal(err)
	}
	if tm.subject != "Hi" || strings.Contains(html, "<script>") || !strings.Contains(html, "&lt;script&gt;") {
		t.Fatalf("%q %s", tm.subject, html)
	}
}

// builtinLayout is the built-in mail layout, as a Manager finds it.
func builtinLayout(tb testing.TB) string {
	tb.Helper()
	l, ok := (&usermgmt.Manager{}).MailTemplate(context.Background(), "layout.html")
	if !ok {
		tb.Fatal("no built-in layout")
	}
	return l
}
