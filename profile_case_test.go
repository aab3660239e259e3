package usermgmt_test

import (
	"context"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// TestProfileAnyCaseOfUUID: a profile read by an upper-case UUID is the
// cached entry that writes invalidate (found in review: it was cached
// under the spelling given and never cleared).
func TestProfileAnyCaseOfUUID(t *testing.T) {
	ctx := context.Background()
	m := newManager(t, openStore(t), newFakeClock())
	u := mustCreate(t, m, "case_user")
	upper := strings.ToUpper(u.UUID)
	if _, err := m.Profile(ctx, upper); err != nil {
		t.Fatal(err)
	}
	desc := "changed"
	if _, err := m.UpdateUser(ctx, u.UUID, usermgmt.UserPatch{Description: &desc}); err != nil {
		t.Fatal(err)
	}
	p, err := m.Profile(ctx, upper)
	if err != nil || p.User.Description != "changed" {
		t.Fatalf("profile after the change: %+v, %v", p, err)
	}
}
