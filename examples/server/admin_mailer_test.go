package main

import (
	"context"
	"errors"
	"log/slog"
	"net"
	"path/filepath"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// nullMXResolver answers every domain with a null MX (RFC 7505), as
// example.com's DNS does: no address there can receive mail.
type nullMXResolver struct{}

func (nullMXResolver) LookupMX(context.Context, string) ([]*net.MX, error) {
	return []*net.MX{{Host: "."}}, nil
}
func (nullMXResolver) LookupHost(context.Context, string) ([]string, error) { return nil, nil }

// newMailingManager is newTestManager with a mailer configured, whose
// deliverability check finds no domain that takes mail.
func newMailingManager(t *testing.T, dir string) *usermgmt.Manager {
	t.Helper()
	st, err := anydb.Open(context.Background(), "sqlite://"+filepath.Join(dir, "app.db"))
	if err != nil {
		t.Fatalf("store.Open: %v", err)
	}
	t.Cleanup(func() { _ = st.Close() })
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-0123456789abcdef0123"), BcryptCost: 4,
		Logger: slog.New(slog.DiscardHandler)}, usermgmt.WithMailer(&mail.Memory{}), usermgmt.WithResolver(nullMXResolver{}))
	if err != nil {
		t.Fatalf("usermgmt.New: %v", err)
	}
	t.Cleanup(func() { _ = m.Close() })
	return m
}

// Issue 15 item 4: with a mailer (EMAIL_METHOD=smtp or mailjet) the first
// start on an empty database created no admin ("create the default admin:
// email_undeliverable"), because admin@example.com takes no mail.
func TestEnsureAdminWithMailer(t *testing.T) {
	ctx := context.Background()
	log := slog.New(slog.DiscardHandler)
	for _, tt := range []struct{ adminEmail, want string }{
		{"", adminEmail},
		{"ops@acme.example", "ops@acme.example"},
	} {
		dir := t.TempDir()
		m := newMailingManager(t, dir)
		if err := ensureAdmin(ctx, m, Config{DataDir: dir, AdminPassword: "letmein", AdminEmail: tt.adminEmail}, log); err != nil {
			t.Fatalf("ADMIN_EMAIL=%q: ensureAdmin: %v", tt.adminEmail, err)
		}
		tok, err := m.Login(ctx, tt.want, "letmein")
		if err != nil {
			t.Fatalf("Login(%s): %v", tt.want, err)
		}
		if tok.User.Username != adminUsername || tok.User.Email != tt.want {
			t.Errorf("admin %s <%s>, want admin <%s>", tok.User.Username, tok.User.Email, tt.want)
		}
		// The rule still holds for everybody else.
		if _, err := m.Register(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@acme.example", Password: "Secret-pass-1"}); !errors.Is(err, usermgmt.ErrEmailUndeliverable) {
			t.Errorf("register with an undeliverable address: %v", err)
		}
	}
}

func TestLoadConfigAdminEmail(t *testing.T) {
	cfg, err := loadConfig(env(map[string]string{"ADMIN_EMAIL": "Ops@Acme.Example"}))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.AdminEmail != "ops@acme.example" {
		t.Errorf("AdminEmail = %q", cfg.AdminEmail)
	}
	if _, err := loadConfig(env(map[string]string{"ADMIN_EMAIL": "nobody"})); err == nil {
		t.Error("ADMIN_EMAIL=nobody accepted")
	}
}
