package usermgmt_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// TestSealOTPSecret: an import seals a foreign base32 secret in any case;
// anything that is not base32 of 80 bits or more is refused. (The round
// trip through a login is dbtools/importref's TestImportSQLiteReference.)
func TestSealOTPSecret(t *testing.T) {
	m := newManager(t, openStore(t), newFakeClock())
	const id = "0b0b0b0b-0000-4000-8000-000000000002"
	for _, ok := range []string{"KzQwErTyUiOpAsDfGhJkLzXcVbNmQwEr", "JBSWY3DPEHPK3PXP", " jbswy3dpehpk3pxp== "} {
		sealed, err := m.SealOTPSecret(id, ok)
		if err != nil || !strings.HasPrefix(sealed, "v1:") || strings.Contains(strings.ToUpper(sealed), strings.ToUpper(strings.TrimSpace(ok))) {
			t.Errorf("SealOTPSecret(%q) = %q, %v", ok, sealed, err)
		}
	}
	for _, bad := range []string{"", "changeme", "JBSWY3DP", "not base32 at all!", "JBSWY3DPEHPK3PX1"} {
		if _, err := m.SealOTPSecret(id, bad); !errors.Is(err, usermgmt.ErrInvalidInput) {
			t.Errorf("SealOTPSecret(%q): %v, want ErrInvalidInput", bad, err)
		}
	}
}
