package httpadapter_test

import (
	"context"
	"log/slog"
	"net"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// fakeResolver answers DNS from a table: domains under "invalid" have no
// records, everything else has an MX.
type fakeResolver struct{}

func (fakeResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	if strings.HasSuffix(name, ".invalid") {
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return []*net.MX{{Host: "mx." + name + ".", Pref: 10}}, nil
}

func (fakeResolver) LookupHost(_ context.Context, host string) ([]string, error) {
	if strings.HasSuffix(host, ".invalid") {
		return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
	}
	return []string{"192.0.2.25"}, nil
}

// secEnv is an env whose Manager sends mail to memory.
type secEnv struct {
	*env
	mail *mail.Memory
}

// eachBackendMail runs fn per backend with a Manager that mails to memory;
// edit, when not nil, changes the Config first.
func eachBackendMail(t *testing.T, edit func(*usermgmt.Config), fn func(t *testing.T, e *secEnv)) {
	t.Helper()
	for _, b := range backends {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			fn(t, newSecEnv(t, b.dsn(t), edit))
		})
	}
}

func newSecEnv(t testing.TB, dsn string, edit func(*usermgmt.Config)) *secEnv {
	t.Helper()
	return newSecEnvOpts(t, dsn, edit, httpadapter.Options{})
}

// newSecEnvOpts is newSecEnv serving the Manager with opts, and with the
// extra features beside testFeatures.
func newSecEnvOpts(t testing.TB, dsn string, edit func(*usermgmt.Config), opts httpadapter.Options, extra ...usermgmt.Feature) *secEnv {
	t.Helper()
	ctx := context.Background()
	st, err := anydb.Open(ctx, dsn)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	clock := newFakeClock()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	cfg := usermgmt.Config{
		Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: baseURL,
		BcryptCost: 4, ContactEmail: "support@example.com", Clock: clock.Now, Logger: logger,
		AccountSecurity: usermgmt.AccountSecurity{ProjectName: "Test Project", FrontendURL: "https://app.example.com"},
	}
	if edit != nil {
		edit(&cfg)
	}
	mem := &mail.Memory{}
	m, err := usermgmt.New(cfg, usermgmt.WithMailer(mem), usermgmt.WithResolver(fakeResolver{}), usermgmt.WithMailRetry(2, time.Millisecond), usermgmt.WithFeature(append(testFeatures(), extra...)...))
	if err != nil {
		t.Fatalf("usermgmt.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("logs:\n%s", logs)
		}
	})
	if opts.Logger == nil {
		opts.Logger = logger
	}
	e := &env{t: t, m: m, h: httpadapter.New(m, opts), clock: clock, logs: logs}
	return &secEnv{env: e, mail: mem}
}

// nextMail waits for the next message sent.
func (e *secEnv) nextMail() mail.Message {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	msg, err := e.mail.Next(ctx)
	if err != nil {
		e.t.Fatalf("no mail: %v", err)
	}
	return msg
}

// noMail fails if a message is waiting (the queue is drained first by a
// probe mail through the same queue).
func (e *secEnv) noMail() {
	e.t.Helper()
	if err := e.m.SendTestMail(context.Background(), "probe@example.com"); err != nil {
		e.t.Fatal(err)
	}
	msg := e.nextMail()
	if msg.To[0] != "probe@example.com" {
		e.t.Fatalf("unexpected mail to %v: %s", msg.To, msg.Subject)
	}
}

var linkRE = regexp.MustCompile(`https?://\S+`)

// mailToken returns the token of the link in a message's text.
func mailToken(t testing.TB, msg mail.Message) (link, token string) {
	t.Helper()
	link = linkRE.FindString(msg.Text)
	u, err := url.Parse(link)
	if err != nil || u.Query().Get("token") == "" {
		t.Fatalf("no token link in %q", msg.Text)
	}
	if !strings.Contains(msg.HTML, u.Query().Get("token")) {
		t.Fatalf("HTML lacks the link: %q", msg.HTML)
	}
	return link, u.Query().Get("token")
}

var codeRE = regexp.MustCompile(`\b\d{6}\b`)

// mailCode returns the code of an email OTP message.
func mailCode(t testing.TB, msg mail.Message) string {
	t.Helper()
	c := codeRE.FindString(msg.Text)
	if c == "" {
		t.Fatalf("no code in %q", msg.Text)
	}
	return c
}

// pathOf returns the path and query of an absolute link.
func pathOf(t testing.TB, link string) string {
	t.Helper()
	u, err := url.Parse(link)
	if err != nil {
		t.Fatal(err)
	}
	return u.RequestURI()
}
