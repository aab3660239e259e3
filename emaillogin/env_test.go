package emaillogin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/emaillogin/secretstore"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/store/anydb"
)

const (
	baseURL  = "https://id.example.com"
	appURL   = "https://app.example.com"
	password = "Secret-pass-123"
)

// quiet drops the logs (the dropped-request and failed-job lines tests
// cause on purpose).
var quiet = slog.New(slog.DiscardHandler)

// mxEverywhere is a resolver for which every domain takes mail.
type mxEverywhere struct{}

func (mxEverywhere) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return []*net.MX{{Host: "mx." + name, Pref: 10}}, nil
}

func (mxEverywhere) LookupHost(context.Context, string) ([]string, error) {
	return []string{"192.0.2.1"}, nil
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type env struct {
	t     testing.TB
	m     *usermgmt.Manager
	el    *emaillogin.EmailLogin
	h     http.Handler
	clock *clock
	box   *mail.Memory
}

// newEnv builds a Manager on a fresh SQLite store with a memory mailer and
// the feature; cfg and opts adjust them.
func newEnv(t testing.TB, cfg emaillogin.Config, mc func(*usermgmt.Config), opts ...usermgmt.Option) *env {
	t.Helper()
	return newEnvOn(t, "sqlite://:memory:", cfg, mc, opts...)
}

// newEnvOn is newEnv on the store of dsn.
func newEnvOn(t testing.TB, dsn string, cfg emaillogin.Config, mc func(*usermgmt.Config), opts ...usermgmt.Option) *env {
	t.Helper()
	st, err := anydb.Open(context.Background(), dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	c := &clock{t: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC)}
	box := &mail.Memory{}
	el := emaillogin.New(cfg)
	conf := usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: baseURL,
		BcryptCost: 4, DataDir: t.TempDir(), Clock: c.Now, Logger: quiet}
	conf.FrontendURL, conf.ProjectName = appURL, "Acme"
	if mc != nil {
		mc(&conf)
	}
	m, err := usermgmt.New(conf, append([]usermgmt.Option{usermgmt.WithMailer(box), usermgmt.WithResolver(mxEverywhere{}),
		usermgmt.WithFeature(el)}, opts...)...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { el.Wait(); _ = m.Close() })
	return &env{t: t, m: m, el: el, h: httpadapter.New(m, httpadapter.Options{Prefix: "/api"}), clock: c, box: box}
}

type answer struct {
	status int
	body   []byte
}

func (a answer) code(t testing.TB) string {
	t.Helper()
	var v struct {
		Code string `json:"code"`
	}
	if err := json.Unmarshal(a.body, &v); err != nil {
		t.Fatalf("%d %s: %v", a.status, a.body, err)
	}
	return v.Code
}

func (a answer) accessToken(t testing.TB) string {
	t.Helper()
	var v struct {
		AccessToken string `json:"access_token"`
	}
	if a.status != http.StatusOK || json.Unmarshal(a.body, &v) != nil || v.AccessToken == "" {
		t.Fatalf("want a token answer, got %d %s", a.status, a.body)
	}
	return v.AccessToken
}

func (e *env) do(method, path string, body any) answer {
	e.t.Helper()
	var rd *bytes.Reader
	if s, ok := body.(string); ok {
		rd = bytes.NewReader([]byte(s))
	} else if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	r := httptest.NewRequest(method, path, rd)
	if body != nil {
		r.Header.Set("Content-Type", "application/json")
	}
	rec := httptest.NewRecorder()
	e.h.ServeHTTP(rec, r)
	return answer{rec.Code, rec.Body.Bytes()}
}

func (e *env) user(name string) *usermgmt.User {
	e.t.Helper()
	u, err := e.m.CreateUser(context.Background(), usermgmt.NewUser{Username: name, Email: name + "@example.com", Password: password})
	if err != nil {
		e.t.Fatal(err)
	}
	if msg := e.nextMail(); !strings.Contains(msg.Text, "/auth/email/verify?token=") { // the verification mail
		e.t.Fatalf("want the verification mail, got %q", msg.Subject)
	}
	return u
}

// noSecret fails unless no secret of kind is stored for addr once the
// pending requests are served: the job stores it before its mail, so
// none stored means none mailed.
func (e *env) noSecret(kind, addr string) {
	e.t.Helper()
	e.el.Wait()
	st := e.m.Store().(secretstore.Store)
	if s, err := st.SecretByEmail(context.Background(), kind, addr, e.clock.Now()); !errors.Is(err, usermgmt.ErrNotFound) {
		e.t.Fatalf("a %s secret for %s: %+v, %v; want none", kind, addr, s, err)
	}
}

// nextMail waits for the next mail.
func (e *env) nextMail() mail.Message {
	e.t.Helper()
	e.el.Wait()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	msg, err := e.box.Next(ctx)
	if err != nil {
		e.t.Fatalf("no mail: %v", err)
	}
	return msg
}

var (
	linkRe = regexp.MustCompile(`https://[^\s"<>]+token=[A-Za-z0-9_%-]+`)
	codeRe = regexp.MustCompile(`\b([0-9]{6})\b`)
)

// tokenOf returns the link and the token of a magic-link mail.
func tokenOf(t testing.TB, msg mail.Message) (string, string) {
	t.Helper()
	link := linkRe.FindString(msg.Text)
	u, err := url.Parse(link)
	if link == "" || err != nil || u.Query().Get("token") == "" {
		t.Fatalf("no link in %q", msg.Text)
	}
	return link, u.Query().Get("token")
}

// codeOf returns the code of a sign-in code mail.
func codeOf(t testing.TB, msg mail.Message) string {
	t.Helper()
	m := codeRe.FindStringSubmatch(msg.Text)
	if m == nil {
		t.Fatalf("no code in %q", msg.Text)
	}
	return m[1]
}

func (e *env) audit(uuid string, actions ...string) []*usermgmt.AuditEntry {
	e.t.Helper()
	es, err := e.m.Audit(context.Background(), usermgmt.AuditQuery{SubjectUUID: uuid, Actions: actions})
	if err != nil {
		e.t.Fatal(err)
	}
	return es
}
