package browsertest_test

import (
	"context"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// password is the walk's first password; it passes the default policy.
const password = "Passw0rd!x"

// backends are the databases the walk runs on, each opened fresh.
var backends = []struct {
	name string
	dsn  func(t testing.TB) string
}{
	{"sqlite", func(t testing.TB) string { return "sqlite://" + filepath.Join(t.TempDir(), "db.sqlite") }},
	{"postgres", func(t testing.TB) string { return testpg.DSN(t) }},
}

// stepClock is the Manager's clock: a fixed start that the test moves
// forward (a TOTP code is accepted once per step).
type stepClock struct{ offset atomic.Int64 }

var clockStart = time.Date(2025, 3, 14, 15, 9, 26, 0, time.UTC)

// Now is the start plus every Advance so far.
func (c *stepClock) Now() time.Time { return clockStart.Add(time.Duration(c.offset.Load())) }

// Advance moves the clock forward by d.
func (c *stepClock) Advance(d time.Duration) { c.offset.Add(int64(d)) }

// anyDomainResolver answers every mail domain with an MX record, so that
// sign-up's domain check passes without a network.
type anyDomainResolver struct{}

func (anyDomainResolver) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return []*net.MX{{Host: "mx." + name + ".", Pref: 10}}, nil
}

func (anyDomainResolver) LookupHost(context.Context, string) ([]string, error) {
	return []string{"192.0.2.1"}, nil
}

// secEnv is a Manager over a fresh store that mails to memory, served by
// httpadapter.New.
type secEnv struct {
	t     testing.TB
	h     http.Handler
	clock *stepClock
	mail  *mail.Memory
}

// newSecEnvOpts opens the store at dsn, lets edit change the Manager's
// Config and serves the Manager with opts and the features fs.
func newSecEnvOpts(t testing.TB, dsn string, edit func(*usermgmt.Config), opts httpadapter.Options, fs ...usermgmt.Feature) *secEnv {
	t.Helper()
	st, err := anydb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	e := &secEnv{t: t, clock: &stepClock{}, mail: &mail.Memory{}}
	cfg := usermgmt.Config{
		Store: st, JWTSecret: []byte("browser-walk-secret-of-32-bytes!!"), BaseURL: "https://users.example.com",
		BcryptCost: 4, Clock: e.clock.Now, Logger: slog.New(slog.NewTextHandler(t.Output(), nil)),
		AccountSecurity: usermgmt.AccountSecurity{ProjectName: "Test Project", FrontendURL: "https://app.example.com"},
	}
	if edit != nil {
		edit(&cfg)
	}
	m, err := usermgmt.New(cfg, usermgmt.WithMailer(e.mail), usermgmt.WithResolver(anyDomainResolver{}), usermgmt.WithMailRetry(2, time.Millisecond), usermgmt.WithFeature(fs...))
	if err != nil {
		t.Fatalf("usermgmt.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	e.h = httpadapter.New(m, opts)
	return e
}

// nextMail waits up to 10 s for the next message sent.
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

var mailLink = regexp.MustCompile(`https?://\S+`)

// mailToken returns the first link of a message's text and its token
// parameter; the HTML part must carry the same token.
func mailToken(t testing.TB, msg mail.Message) (link, token string) {
	t.Helper()
	link = mailLink.FindString(msg.Text)
	u, err := url.Parse(link)
	if err != nil {
		t.Fatalf("link %q: %v", link, err)
	}
	if token = u.Query().Get("token"); token == "" || !strings.Contains(msg.HTML, token) {
		t.Fatalf("no token link in both parts: text %q, html %q", msg.Text, msg.HTML)
	}
	return link, token
}
