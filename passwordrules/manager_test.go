package passwordrules_test

import (
	"context"
	"errors"
	"log/slog"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/testdns"
	"github.com/usermgmt/usermgmt/passwordrules"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// Through the Manager: register refuses a password containing the
// username, and one under MinStrength, with 400 weak_password; a good one
// passes.
func TestRulesThroughManager(t *testing.T) {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("0123456789abcdef0123456789abcdef"), BcryptCost: 4,
		Logger: slog.New(slog.DiscardHandler)},
		usermgmt.WithResolver(testdns.AnyDomain{}), usermgmt.WithPasswordChecker(passwordrules.Rules{NotIdentity: true, MinStrength: 60}))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	for pw, rule := range map[string]string{"Jane_Doe-2026!": "identity", "Aaaaaaaaaaa1!": "strength"} {
		_, err := m.Register(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: pw})
		if e := usermgmt.AsError(err); !errors.Is(err, usermgmt.ErrWeakPassword) || e.Status != 400 || e.Params["rule"] != rule {
			t.Errorf("Register(%q) = %v, want 400 weak_password rule=%s", pw, err, rule)
		}
	}
	if _, err := m.Register(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Quiet-Maple-Lantern-7"}); err != nil {
		t.Fatalf("a good password: %v", err)
	}
}
