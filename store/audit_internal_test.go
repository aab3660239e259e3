package store

import "testing"

// TestAuditDetailImpersonator: the impersonator stored in the detail
// column reads back apart from the detail, and a detail cannot pass for
// one.
func TestAuditDetailImpersonator(t *testing.T) {
	const admin = "123e4567-e89b-42d3-a456-426614174000"
	for _, c := range []struct {
		detail, impersonator, wantDetail, wantImp string
	}{
		{"display_name", admin, "display_name", admin},
		{"", admin, "", admin},
		{"spam", "", "spam", ""},
		{"", "", "", ""},
		{auditImpersonator + admin + auditMark + "forged", "", "impersonator=" + admin + auditMark + "forged", ""},
		{auditMark + "x", admin, "x", admin},
	} {
		d, imp := splitAuditDetail(auditDetail(c.detail, c.impersonator))
		if d != c.wantDetail || imp != c.wantImp {
			t.Errorf("%q, %q: read back %q, %q; want %q, %q", c.detail, c.impersonator, d, imp, c.wantDetail, c.wantImp)
		}
	}
	// A stored detail of an older row is read as it is.
	if d, imp := splitAuditDetail("plain"); d != "plain" || imp != "" {
		t.Errorf("plain: %q, %q", d, imp)
	}
}
