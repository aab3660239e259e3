package mail_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	umail "github.com/usermgmt/usermgmt/mail"
)

func TestMailjetSend(t *testing.T) {
	var got struct {
		Messages []struct {
			From     struct{ Email, Name string }
			To       []struct{ Email string }
			Subject  string
			TextPart string
			HTMLPart string
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		user, pass, ok := r.BasicAuth()
		switch {
		case r.Method != http.MethodPost || r.URL.Path != "/v3.1/send":
			http.Error(w, "wrong route", http.StatusNotFound)
		case !ok || user != "pub" || pass != "priv":
			http.Error(w, `{"ErrorMessage":"auth"}`, http.StatusUnauthorized)
		case r.Header.Get("Content-Type") != "application/json":
			http.Error(w, "ctype", http.StatusBadRequest)
		default:
			if err := json.NewDecoder(r.Body).Decode(&got); err != nil {
				http.Error(w, err.Error(), http.StatusBadRequest)
				return
			}
			w.Write([]byte(`{"Messages":[{"Status":"success"}]}`))
		}
	}))
	defer srv.Close()

	mj := &umail.Mailjet{PublicKey: "pub", PrivateKey: "priv", From: "noreply@example.com", FromName: "Project", Endpoint: srv.URL + "/v3.1/send", Client: srv.Client()}
	if err := mj.Validate(); err != nil {
		t.Fatal(err)
	}
	msg := umail.Message{To: []string{"jane@example.com"}, Subject: "Hi", Text: "text", HTML: "<p>html</p>"}
	if err := mj.Send(context.Background(), msg); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if len(got.Messages) != 1 {
		t.Fatalf("messages %+v", got)
	}
	m := got.Messages[0]
	if m.From.Email != "noreply@example.com" || m.From.Name != "Project" || len(m.To) != 1 || m.To[0].Email != "jane@example.com" ||
		m.Subject != "Hi" || m.TextPart != "text" || m.HTMLPart != "<p>html</p>" {
		t.Fatalf("request %+v", m)
	}

	bad := &umail.Mailjet{PublicKey: "pub", PrivateKey: "wrong", From: "noreply@example.com", Endpoint: srv.URL + "/v3.1/send", Client: srv.Client()}
	err := bad.Send(context.Background(), msg)
	if err == nil || !strings.Contains(err.Error(), "401") {
		t.Fatalf("Send with a wrong key = %v, want the 401", err)
	}
	if (&umail.Mailjet{From: "x"}).Validate() == nil {
		t.Fatal("incomplete Mailjet config validated")
	}
}

func TestMemoryAndLog(t *testing.T) {
	var mem umail.Memory
	ctx := context.Background()
	done := make(chan umail.Message)
	go func() {
		m, _ := mem.Next(ctx)
		done <- m
	}()
	if err := mem.Send(ctx, umail.Message{To: []string{"a@example.com"}, Subject: "one", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	if m := <-done; m.Subject != "one" {
		t.Fatalf("Next = %+v", m)
	}
	if n := len(mem.Messages()); n != 1 {
		t.Fatalf("%d messages", n)
	}
	var sb strings.Builder
	l := &umail.Log{Logger: newTextLogger(&sb)}
	if err := l.Send(ctx, umail.Message{To: []string{"a@example.com"}, Subject: "s", Text: "go to https://x.example/a?b=c now"}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(sb.String(), "https://x.example/a?b=c") {
		t.Fatalf("log %q lacks the link", sb.String())
	}
}
