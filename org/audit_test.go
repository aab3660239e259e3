package org_test

import (
	"context"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/org"
)

// TestAudit: every change of an organization is in the audit log, its
// detail naming the organization's ID.
func TestAudit(t *testing.T) {
	e := newEnv(t, "sqlite://"+t.TempDir()+"/orgs.db", org.Config{})
	ctx := context.Background()
	a, b := e.user(), e.user()
	o := e.create(a, "audited")
	e.join(a, o, b, org.RoleMember)
	steps := []func() error{
		func() error { _, err := e.orgs.Update(ctx, a, o.ID, org.Patch{Name: ptr("New name")}); return err },
		func() error { _, err := e.orgs.SetRole(ctx, a, o.ID, b.UUID, org.RoleAdmin); return err },
		func() error { _, err := e.orgs.Transfer(ctx, a, o.ID, b.UUID); return err },
		func() error { return e.orgs.RemoveMember(ctx, a, o.ID, a.UUID) },
		func() error { return e.orgs.Delete(ctx, b, o.ID) },
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("step %d: %v", i, err)
		}
	}
	actions := []string{org.AuditCreated, org.AuditMemberAdded, org.AuditUpdated, org.AuditMemberRole, org.AuditTransferred, org.AuditMemberRemoved, org.AuditDeleted}
	es, err := e.m.Audit(ctx, usermgmt.AuditQuery{Actions: actions, Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, en := range es {
		if !strings.HasPrefix(en.Detail, "org "+o.ID) {
			t.Errorf("%s: detail %q does not name the organization", en.Action, en.Detail)
		}
		seen[en.Action] = true
	}
	for _, act := range actions {
		if !seen[act] {
			t.Errorf("no %s entry in the audit log", act)
		}
	}
}
