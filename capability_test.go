package usermgmt_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/oauth"
)

// coreOnly hides every capability of a store: it has the core contract
// and nothing else, as a host's own store of users and sessions would.
type coreOnly struct{ usermgmt.Store }

// InTx hands fn the transaction with the same (core) capabilities.
func (c coreOnly) InTx(ctx context.Context, fn func(ctx context.Context, tx usermgmt.Store) error) error {
	return c.Store.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error { return fn(ctx, coreOnly{tx}) })
}

func TestCoreOnlyStore(t *testing.T) {
	st := coreOnly{openStore(t)}
	base := usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BcryptCost: 4}

	// What the configuration needs is checked at New, naming the interface.
	for _, c := range []struct {
		name string
		edit func(*usermgmt.Config)
		opts []usermgmt.Option
		want string
	}{
		{"lockout on by default", func(*usermgmt.Config) {}, nil, "usermgmt.LockoutStore"},
		{"files", func(c *usermgmt.Config) { c.Lockout.Threshold = -1; c.DataDir = t.TempDir() }, nil, "usermgmt.FileStore"},
		{"oauth", func(c *usermgmt.Config) {
			c.Lockout.Threshold = -1
			c.OAuthProviders = []oauth.Provider{oauth.GitHub(oauth.Config{ClientID: "id", ClientSecret: "secret"})}
		}, nil, "usermgmt.ExternalStore"},
		{"dbtools", func(c *usermgmt.Config) { c.Lockout.Threshold = -1 },
			[]usermgmt.Option{usermgmt.WithFeature(dbtools.New(dbtools.Options{}))}, "dump.Store"},
	} {
		t.Run(c.name, func(t *testing.T) {
			cfg := base
			c.edit(&cfg)
			m, err := usermgmt.New(cfg, c.opts...)
			if err == nil {
				m.Close()
				t.Fatal("New accepted a store without the capability")
			}
			if !errors.Is(err, usermgmt.ErrStoreCapability) || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("New: %v; want ErrStoreCapability naming %s", err, c.want)
			}
		})
	}

	// Without them, the core works: accounts, login, sessions, flags at
	// their defaults.
	cfg := base
	cfg.Lockout.Threshold = -1
	m, err := usermgmt.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	ctx := context.Background()
	u, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Correct-Horse-9"})
	if err != nil {
		t.Fatal(err)
	}
	tok, err := m.Login(ctx, "jane_doe", "Correct-Horse-9")
	if err != nil {
		t.Fatalf("Login: %v", err)
	}
	if p, err := m.Authenticate(ctx, tok.AccessToken); err != nil || p.User().UUID != u.UUID {
		t.Fatalf("Authenticate: %v", err)
	}
	if _, err := m.Login(ctx, "jane_doe", "wrong-password-1"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
		t.Fatalf("wrong password: %v", err)
	}
	if err := m.DeleteUser(ctx, u.UUID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
}
