package usermgmt_test

import (
	"context"
	"fmt"
	"log"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// newExampleManager returns a Manager over an in-memory store.
func newExampleManager(ctx context.Context) (*usermgmt.Manager, func()) {
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("a secret of at least 16 bytes, better 32"), BcryptCost: 4})
	if err != nil {
		log.Fatal(err)
	}
	return m, func() { m.Close(); st.Close() }
}

// A user blocks another: they no longer see each other.
func ExampleActor_BlockUsers() {
	ctx := context.Background()
	m, done := newExampleManager(ctx)
	defer done()
	jane, _ := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Correct-Horse-9"})
	bob, _ := m.CreateUser(ctx, usermgmt.NewUser{Username: "bob_smith", Email: "bob@example.com", Password: "Correct-Horse-9"})

	list, err := m.As(jane).BlockUsers(ctx, jane.UUID, []string{bob.UUID})
	fmt.Println(len(list), err)
	_, err = m.As(bob).User(ctx, jane.UUID)
	fmt.Println(err)
	list, _ = m.As(jane).UnblockUsers(ctx, jane.UUID, []string{bob.UUID})
	fmt.Println(len(list))
	// Output:
	// 1 <nil>
	// forbidden: Forbidden
	// 0
}

// Pages of users by cursor, filtered by a username or email prefix.
func ExampleManager_ListUsers() {
	ctx := context.Background()
	m, done := newExampleManager(ctx)
	defer done()
	for _, name := range []string{"anna_one", "anna_two", "anna_three", "bob_smith"} {
		_, _ = m.CreateUser(ctx, usermgmt.NewUser{Username: name, Email: name + "@example.com", Password: "Correct-Horse-9"})
	}
	q := usermgmt.UserQuery{Search: "anna", Limit: 2}
	for {
		page, err := m.ListUsers(ctx, q)
		if err != nil {
			log.Fatal(err)
		}
		fmt.Println("page of", len(page))
		if q.After = usermgmt.NextUserCursor(page, q.Limit); q.After == nil {
			break
		}
	}
	// Output:
	// page of 2
	// page of 1
}

// The audit log, filtered by action.
func ExampleManager_Audit() {
	ctx := context.Background()
	m, done := newExampleManager(ctx)
	defer done()
	jane, _ := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Correct-Horse-9"})
	_, _ = m.Ban(ctx, jane.UUID, "spam")

	entries, _ := m.Audit(ctx, usermgmt.AuditQuery{SubjectUUID: jane.UUID, Actions: []string{usermgmt.AuditBan}})
	for _, e := range entries {
		fmt.Println(e.Action, e.Detail)
	}
	// Output:
	// ban spam
}
