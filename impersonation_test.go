package usermgmt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

// TestOpenSessionActingParty: the seam the impersonate feature builds on,
// without the feature.
func TestOpenSessionActingParty(t *testing.T) {
	clock := newFakeClock()
	m := newManager(t, openStore(t), clock)
	ctx := context.Background()
	admin := mustCreate(t, m, "rootadmin", usermgmt.RoleAdmin)
	jane := mustCreate(t, m, "janedoe")

	for name, opts := range map[string][]usermgmt.SessionOption{
		"oneself":               {usermgmt.ActingParty(jane.UUID)},
		"not a uuid":            {usermgmt.ActingParty("root")},
		"negative lifetime":     {usermgmt.Lifetime(-time.Second)},
		"longer than a session": {usermgmt.Lifetime(365 * 24 * time.Hour)},
	} {
		if _, err := m.OpenSession(ctx, jane, opts...); !errors.Is(err, usermgmt.ErrInvalidInput) {
			t.Errorf("%s: %v, want ErrInvalidInput", name, err)
		}
	}

	// Without Lifetime, the session and its one token last an access
	// token's lifetime.
	tk, err := m.OpenSession(ctx, jane, usermgmt.ActingParty(admin.UUID))
	if err != nil {
		t.Fatal(err)
	}
	if tk.RefreshToken != "" || time.Duration(tk.ExpiresIn)*time.Second != m.Config().AccessTokenTTL {
		t.Errorf("tokens: refresh %q, expires_in %d", tk.RefreshToken, tk.ExpiresIn)
	}
	p, err := m.Authenticate(ctx, tk.AccessToken)
	if err != nil || p.Impersonator != admin.UUID {
		t.Fatalf("Authenticate: %+v, %v", p, err)
	}
	ictx := usermgmt.ContextWithCaller(ctx, p)
	if err := usermgmt.RefuseImpersonated(ictx); !errors.Is(err, usermgmt.ErrImpersonated) {
		t.Errorf("RefuseImpersonated: %v", err)
	}
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		t.Errorf("RefuseImpersonated without a caller: %v", err)
	}
	// The rules of the core, through the trusted API too.
	if _, err := m.UpdateUser(ictx, jane.UUID, usermgmt.UserPatch{Password: ptrTo("Another-good-pw-7")}); !errors.Is(err, usermgmt.ErrImpersonated) {
		t.Errorf("UpdateUser password: %v", err)
	}
	if err := m.DeleteUser(ictx, jane.UUID); !errors.Is(err, usermgmt.ErrImpersonated) {
		t.Errorf("DeleteUser: %v", err)
	}
	if _, err := m.SetupOTP(ictx, jane.UUID); !errors.Is(err, usermgmt.ErrImpersonated) {
		t.Errorf("SetupOTP: %v", err)
	}
	// Audit entries written with that context name the impersonator.
	if err := m.AppendAudit(ictx, m.Store(), usermgmt.AuditEntry{ActorUUID: jane.UUID, SubjectUUID: jane.UUID, Action: "test-action"}); err != nil {
		t.Fatal(err)
	}
	es, err := m.Store().Audit(ctx, usermgmt.AuditQuery{SubjectUUID: jane.UUID, Actions: []string{"test-action", usermgmt.AuditLogin}})
	if err != nil || len(es) != 2 {
		t.Fatalf("audit: %+v, %v", es, err)
	}
	for _, e := range es {
		if e.ImpersonatorUUID != admin.UUID {
			t.Errorf("%s: impersonator %q", e.Action, e.ImpersonatorUUID)
		}
	}
	if es[1].Action != usermgmt.AuditLogin || es[1].ActorUUID != admin.UUID {
		t.Errorf("login entry %+v: want actor the acting party", es[1])
	}

	clock.Advance(m.Config().AccessTokenTTL + time.Minute)
	if _, err := m.Authenticate(ctx, tk.AccessToken); err == nil {
		t.Error("the token outlived its lifetime")
	}
}

func ptrTo[T any](v T) *T { return &v }
