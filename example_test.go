package usermgmt_test

import (
	"context"
	"errors"
	"fmt"
	"log"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// A host builds one Manager over a store and calls it directly.
func Example() {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	m, err := usermgmt.New(usermgmt.Config{
		Store:      st,
		JWTSecret:  []byte("a secret of at least 16 bytes, better 32"),
		BcryptCost: 4, // for the example only: keep the default (12) in production
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	u, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "Jane@Example.com", Password: "Correct-Horse-9"})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(u.Username, u.DisplayName, u.Email, u.Roles)

	tok, err := m.Login(ctx, "jane@example.com", "Correct-Horse-9")
	if err != nil {
		log.Fatal(err)
	}
	p, err := m.Authenticate(ctx, tok.AccessToken)
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("authenticated as", p.User().Username)

	_, err = m.Login(ctx, "jane_doe", "wrong password")
	fmt.Println(errors.Is(err, usermgmt.ErrInvalidLogin))
	// Output:
	// jane_doe jane_doe jane@example.com [user]
	// authenticated as jane_doe
	// true
}

// Manager.As applies the access policy as a given user: the same checks
// the HTTP handlers make.
func ExampleManager_As() {
	ctx := context.Background()
	st, _ := sqlite.Open(ctx, ":memory:")
	defer st.Close()
	m, _ := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("a secret of at least 16 bytes, better 32"), BcryptCost: 4})

	admin, _ := m.CreateUser(ctx, usermgmt.NewUser{Username: "the_admin", Email: "admin@example.com", Password: "Correct-Horse-9", Roles: []string{"admin"}})
	jane, _ := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Correct-Horse-9"})

	_, err := m.As(jane).ListUsers(ctx, usermgmt.UserQuery{})
	fmt.Println("jane lists users:", err)

	banned, err := m.As(admin).Ban(ctx, jane.UUID, "spam")
	fmt.Println("admin bans jane:", err, banned.IsActive)
	// Output:
	// jane lists users: forbidden: Forbidden
	// admin bans jane: <nil> false
}

// A custom policy: roles, and rules that are fixed or predicates.
func ExamplePolicy() {
	p := usermgmt.NewPolicy("editor").
		Set("editor", "article", "read", usermgmt.Allow).
		Set("editor", "article", "update", usermgmt.When(func(r usermgmt.AccessRequest) bool {
			return r.Target != nil && r.Target.UUID == r.Actor.UUID // their own articles
		}))
	ed := &usermgmt.User{UUID: "e1", Roles: []string{"editor"}}
	other := &usermgmt.User{UUID: "e2"}
	fmt.Println(p.Allows(usermgmt.AccessRequest{Actor: ed, Resource: "article", Action: "read"}))
	fmt.Println(p.Allows(usermgmt.AccessRequest{Actor: ed, Resource: "article", Action: "update", Target: ed}))
	fmt.Println(p.Allows(usermgmt.AccessRequest{Actor: ed, Resource: "article", Action: "update", Target: other}))
	fmt.Println(p.Allows(usermgmt.AccessRequest{Actor: ed, Resource: "article", Action: "delete", Target: ed}))
	// Output:
	// true
	// true
	// false
	// false
}
