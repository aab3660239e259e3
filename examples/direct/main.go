// Command direct uses usermgmt from Go without HTTP: the trusted Manager
// calls for the host's own code, and Manager.As for calls checked against
// the access policy as a given user.
//
//	go run ./examples/direct
package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log"
	"os"
	"strings"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

func main() {
	if err := run(context.Background(), os.Stdout, 0); err != nil {
		log.Fatal(err)
	}
}

// run runs the walk-through; bcryptCost 0 means the library's default
// (tests use 4).
func run(ctx context.Context, out io.Writer, bcryptCost int) error {
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		return err
	}
	defer st.Close()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	tools := dbtools.New(dbtools.Options{}) // a feature: the database export and import
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: secret, BcryptCost: bcryptCost}, usermgmt.WithFeature(tools))
	if err != nil {
		return err
	}
	defer m.Close()

	// Trusted calls: no policy applies.
	admin, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "site_admin", Email: "admin@example.com", Password: "Correct-Horse-9", Roles: []string{usermgmt.RoleAdmin}})
	if err != nil {
		return err
	}
	jane, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Correct-Horse-9"})
	if err != nil {
		return err
	}
	bob, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "bob_smith", Email: "bob@example.com", Password: "Correct-Horse-9"})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "created", admin.Username, jane.Username, bob.Username)

	// Calls as a user: the same rules as over HTTP.
	if _, err := m.As(jane).ListUsers(ctx, usermgmt.UserQuery{}); errors.Is(err, usermgmt.ErrForbidden) {
		fmt.Fprintln(out, "jane may not list users")
	}
	blocked, err := m.As(jane).BlockUsers(ctx, jane.UUID, []string{bob.UUID})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "jane blocked", len(blocked), "user")
	if _, err := m.As(bob).User(ctx, jane.UUID); errors.Is(err, usermgmt.ErrForbidden) {
		fmt.Fprintln(out, "bob can no longer see jane")
	}
	if _, err := m.As(admin).Ban(ctx, bob.UUID, "spam"); err != nil {
		return err
	}
	page, err := m.As(admin).ListUsers(ctx, usermgmt.UserQuery{Search: "b"})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "search b:", page[0].Username, "active:", page[0].IsActive)
	entries, err := m.As(admin).Audit(ctx, usermgmt.AuditQuery{Actions: []string{usermgmt.AuditBan}})
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "audit:", entries[0].Action, entries[0].Detail)

	var export strings.Builder
	if err := tools.ExportAs(ctx, admin, &export); err != nil {
		return err
	}
	fmt.Fprintln(out, "export starts with", export.String()[:strings.Index(export.String(), ",")])
	return nil
}
