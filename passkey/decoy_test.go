package passkey_test

import (
	"encoding/json"
	"testing"
)

// decoyOf returns the one credential ID login/begin lists for username.
func (e *env) decoyOf(username string) string {
	e.t.Helper()
	opts, _ := e.begin("/api/auth/passkeys/login/begin", "", map[string]string{"username": username})
	var o struct {
		Allow []struct {
			ID string `json:"id"`
		} `json:"allowCredentials"`
	}
	if err := json.Unmarshal(opts, &o); err != nil || len(o.Allow) != 1 || o.Allow[0].ID == "" {
		e.t.Fatalf("login/begin for %s lists no single credential: %s", username, opts)
	}
	return o.Allow[0].ID
}

// TestPasskeyDecoySharedByInstances: two instances with the same secret
// (a load-balanced pair, or one before and after a restart) list the same
// decoy for an unknown username, so comparing their answers reveals
// nothing; an account without passkeys gets a decoy of the same kind; and
// another secret gives other decoys.
func TestPasskeyDecoySharedByInstances(t *testing.T) {
	const secret = "the-shared-secret-of-32-bytes-or-more"
	a, b := newEnvSecret(t, secret), newEnvSecret(t, secret)
	if x, y := a.decoyOf("nobody_here"), b.decoyOf("nobody_here"); x != y {
		t.Errorf("two instances list different decoys for an unknown name: %s, %s", x, y)
	}
	if a.decoyOf("nobody_here") == a.decoyOf("someone_else") {
		t.Error("two names share a decoy")
	}
	a.user("jane_doe", "Secret-pass-123") // an account without passkeys, on a only
	if x, y := a.decoyOf("jane_doe"), b.decoyOf("jane_doe"); x != y {
		t.Errorf("an account without passkeys lists another decoy than an unknown name: %s, %s", x, y)
	}
	other := newEnvSecret(t, "another-secret-of-32-bytes-or-more!!")
	if a.decoyOf("nobody_here") == other.decoyOf("nobody_here") {
		t.Error("the decoy does not depend on the secret")
	}
}
