package captcha_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	"github.com/usermgmt/usermgmt/captcha"
)

// siteverify serves answer as a provider's siteverify endpoint.
func siteverify(t testing.TB, answer func(w http.ResponseWriter, r *http.Request)) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(answer))
	t.Cleanup(srv.Close)
	return srv.URL
}

func newCaptcha(t testing.TB, p captcha.Provider, cfg captcha.Config) *captcha.Captcha {
	t.Helper()
	cfg.Provider = p
	c, err := captcha.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestProviderNamed(t *testing.T) {
	for name, want := range map[string]string{
		"turnstile": captcha.TurnstileVerifyURL, "hcaptcha": captcha.HCaptchaVerifyURL,
		"recaptcha": captcha.RecaptchaVerifyURL, "RECAPTCHA-v2": captcha.RecaptchaVerifyURL, "recaptcha-v3": captcha.RecaptchaVerifyURL,
	} {
		p, err := captcha.ProviderNamed(name, "s", "k")
		if err != nil || p.VerifyURL != want || p.Secret != "s" || p.SiteKey != "k" {
			t.Errorf("ProviderNamed(%q) = %+v, %v", name, p, err)
		}
	}
	if p, _ := captcha.ProviderNamed("recaptcha-v3", "s", "k"); !p.Scored || p.MinScore != captcha.DefaultMinScore {
		t.Errorf("reCAPTCHA v3 = %+v, want scored at %v", p, captcha.DefaultMinScore)
	}
	p, _ := captcha.ProviderNamed("turnstile", "the-secret-key", "site")
	if out := fmt.Sprintf("%v %+v %+v", p, p, captcha.Config{Provider: p}); strings.Contains(out, "the-secret-key") {
		t.Errorf("printing a Provider shows its secret: %s", out)
	}
	if _, err := captcha.ProviderNamed("friendly", "s", "k"); err == nil {
		t.Error("an unknown provider was accepted")
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for name, cfg := range map[string]captcha.Config{
		"no provider":       {},
		"no secret":         {Provider: captcha.Turnstile("", "k")},
		"no site key":       {Provider: captcha.Turnstile("s", "")},
		"bad verify URL":    {Provider: func() captcha.Provider { p := captcha.HCaptcha("s", "k"); p.VerifyURL = "ftp://x"; return p }()},
		"negative failures": {Provider: captcha.HCaptcha("s", "k"), Login: captcha.AfterFailures(-1)},
	} {
		if _, err := captcha.New(cfg); err == nil {
			t.Errorf("%s: New accepted %+v", name, cfg)
		}
	}
}

func TestVerify(t *testing.T) {
	var got string
	url := siteverify(t, func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		got = r.PostForm.Encode()
		switch r.PostForm.Get("response") {
		case "good":
			_, _ = io.WriteString(w, `{"success":true,"hostname":"users.example.com","action":"login"}`)
		case "other-host":
			_, _ = io.WriteString(w, `{"success":true,"hostname":"evil.example","action":"login"}`)
		case "huge":
			_, _ = io.WriteString(w, `{"success":true,"pad":"`+strings.Repeat("x", 70<<10)+`"}`)
		default:
			_, _ = io.WriteString(w, `{"success":false,"error-codes":["invalid-input-response"]}`)
		}
	})
	p := captcha.Turnstile("sekrit", "site")
	p.VerifyURL = url
	c := newCaptcha(t, p, captcha.Config{Hostnames: []string{"users.example.com"}})
	ctx := context.Background()
	if err := c.Verify(ctx, "good", "198.51.100.7", "login"); err != nil {
		t.Fatalf("good token: %v", err)
	}
	if got != "remoteip=198.51.100.7&response=good&secret=sekrit" {
		t.Fatalf("siteverify form = %q", got)
	}
	for tok, want := range map[string]error{
		"forged": captcha.ErrFailed, "other-host": captcha.ErrFailed, "huge": captcha.ErrUnavailable,
	} {
		if err := c.Verify(ctx, tok, "", "login"); !errors.Is(err, want) {
			t.Errorf("token %q: %v, want %v", tok, err, want)
		}
	}
	// Turnstile reports the widget's action: another one fails.
	if err := c.Verify(ctx, "good", "", "register"); !errors.Is(err, captcha.ErrFailed) {
		t.Errorf("other action: %v", err)
	}
	// The error of an unreachable provider never holds the secret.
	p.VerifyURL = "http://127.0.0.1:1/siteverify"
	err := newCaptcha(t, p, captcha.Config{}).Verify(ctx, "good", "", "")
	if !errors.Is(err, captcha.ErrUnavailable) || strings.Contains(err.Error(), "sekrit") {
		t.Fatalf("unreachable: %v", err)
	}
}

func TestMemoryFailures(t *testing.T) {
	f := captcha.NewMemoryFailures(captcha.MemoryFailuresOptions{MaxKeys: 2})
	ctx := context.Background()
	for range 3 {
		if err := f.AddFailure(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	}
	if n, _ := f.Failures(ctx, "a"); n != 3 {
		t.Fatalf("failures = %d, want 3", n)
	}
	_ = f.Reset(ctx, "a")
	if n, _ := f.Failures(ctx, "a"); n != 0 {
		t.Fatalf("after Reset: %d", n)
	}
	// Bounded: the least recently used key goes.
	for _, k := range []string{"x", "y", "z"} {
		_ = f.AddFailure(ctx, k)
	}
	if n, _ := f.Failures(ctx, "x"); n != 0 {
		t.Fatalf("x kept beyond MaxKeys: %d", n)
	}
}

// FuzzVerifyAnswer: whatever a siteverify endpoint answers, Verify
// returns nil, ErrFailed or ErrUnavailable, never panics, and accepts
// only a JSON verdict with success true.
func FuzzVerifyAnswer(f *testing.F) {
	for _, s := range []string{`{"success":true}`, `{"success":false,"error-codes":["x"]}`, `{"success":true,"score":0.9,"action":"login"}`,
		`{"success":"yes"}`, `null`, `[]`, `{"success":true,"score":"high"}`, ``, `<html>`} {
		f.Add(s)
	}
	var answer atomicString
	url := func() string {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = io.WriteString(w, answer.load()) }))
		f.Cleanup(srv.Close)
		return srv.URL
	}()
	p := captcha.RecaptchaV3("s", "k", 0) // scored: the most fields read
	p.VerifyURL = url
	c, err := captcha.New(captcha.Config{Provider: p})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, body string) {
		answer.store(body)
		err := c.Verify(context.Background(), "tok", "", "login")
		if err != nil && !errors.Is(err, captcha.ErrFailed) && !errors.Is(err, captcha.ErrUnavailable) {
			t.Fatalf("answer %q: %v", body, err)
		}
		if err == nil && !strings.Contains(body, "true") {
			t.Fatalf("answer %q passed", body)
		}
	})
}

// atomicString is a string shared with the fake server's goroutines.
type atomicString struct {
	mu sync.Mutex
	s  string
}

func (a *atomicString) store(s string) { a.mu.Lock(); a.s = s; a.mu.Unlock() }
func (a *atomicString) load() string   { a.mu.Lock(); defer a.mu.Unlock(); return a.s }
