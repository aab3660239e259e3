package dbtools_test

import (
	"bytes"
	"context"
	"fmt"
	"log"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// newManager returns a Manager over a fresh in-memory SQLite store, with
// the database tools enabled.
func newManager(ctx context.Context) (*usermgmt.Manager, *dbtools.Tools, func()) {
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	tools := dbtools.New(dbtools.Options{})
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("a secret of at least 16 bytes, better 32"), BcryptCost: 4},
		usermgmt.WithFeature(tools))
	if err != nil {
		log.Fatal(err)
	}
	return m, tools, func() { m.Close(); st.Close() }
}

// Moving a database: export from one store, import into another.
func ExampleTools_Export() {
	ctx := context.Background()
	from, fromTools, done := newManager(ctx)
	defer done()
	_, _ = from.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Correct-Horse-9"})
	var buf bytes.Buffer
	if err := fromTools.Export(ctx, &buf); err != nil {
		log.Fatal(err)
	}

	to, toTools, done2 := newManager(ctx)
	defer done2()
	res, err := toTools.Import(ctx, &buf, dbtools.ImportFill)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Printf("%+v\n", res.Tables[0])
	n, _ := to.CountUsers(ctx)
	fmt.Println(n, "user")
	// Output:
	// {Table:users Inserted:1 Updated:0 Unchanged:0}
	// 1 user
}
