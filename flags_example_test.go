package usermgmt_test

import (
	"fmt"

	"github.com/usermgmt/usermgmt"
)

// A flags file in the reference's format, evaluated for two users.
func ExampleFlagSet_Evaluate() {
	set, err := usermgmt.ParseFlags([]byte(`{
		"REGISTER": false,
		"READ_USERS": [{"userRoles": ["admin", "moderator"]}]
	}`))
	if err != nil {
		panic(err)
	}
	admin := &usermgmt.User{UUID: "00000000-0000-4000-8000-000000000001", Roles: []string{"admin"}}
	plain := &usermgmt.User{UUID: "00000000-0000-4000-8000-000000000002", Roles: []string{"user"}}
	for _, c := range []struct {
		flag string
		u    *usermgmt.User
	}{{"REGISTER", nil}, {"READ_USERS", admin}, {"READ_USERS", plain}, {"READ_USERS", nil}, {"NEW_USER", nil}} {
		ev := set.Evaluate(c.flag, c.u)
		fmt.Println(c.flag, ev.Value, ev.Reason, ev.Rule)
	}
	// Output:
	// REGISTER false STATIC -1
	// READ_USERS true TARGETING_MATCH 0
	// READ_USERS false DEFAULT -1
	// READ_USERS false ERROR -1
	// NEW_USER true DEFAULT -1
}
