package store_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestLinkedOnlyWhereUsed keeps each database driver in its own package:
// store links neither, store/sqlite no PostgreSQL, store/postgres no
// SQLite, and the root package and httpadapter none of them nor Swagger UI.
// A host's binary carries what it imports and nothing more.
func TestLinkedOnlyWhereUsed(t *testing.T) {
	const mod = "github.com/usermgmt/usermgmt"
	sqlite := []string{"modernc.org/sqlite", "github.com/uptrace/bun/dialect/sqlitedialect"}
	pg := []string{"github.com/jackc/pgx/v5", "github.com/uptrace/bun/dialect/pgdialect"}
	docs := []string{mod + "/httpadapter/swaggerui"}
	// The passkey feature's WebAuthn library: a host that does not enable
	// passkeys does not link it, though its store implements their table.
	// Nor the features themselves (their routes import httpadapter): the
	// store links only their storage vocabularies (passkey/credstore,
	// emaillogin/secretstore).
	features := []string{"github.com/go-webauthn/webauthn", mod + "/httpadapter"}
	// The CAPTCHA feature: the core and httpadapter hold no provider code.
	captcha := []string{mod + "/captcha"}
	for pkg, banned := range map[string][]string{
		mod + "/store":          append(append(append([]string{}, sqlite...), pg...), features...),
		mod + "/store/sqlite":   pg,
		mod + "/store/postgres": sqlite,
		mod:                     append(append(append(append([]string{}, sqlite...), pg...), docs...), captcha...),
		mod + "/httpadapter":    append(append(append(append([]string{}, sqlite...), pg...), docs...), captcha...),
	} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			for _, b := range banned {
				if dep == b || strings.HasPrefix(dep, b+"/") {
					t.Errorf("%s links %s", pkg, dep)
				}
			}
		}
	}
}
