package apikey_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// A user creates a key limited to reading users; the key then
// authenticates as the user, with its scopes.
func Example() {
	ctx := context.Background()
	st, err := anydb.Open(ctx, "sqlite://:memory:")
	if err != nil {
		panic(err)
	}
	defer st.Close()
	keys := apikey.New(apikey.Config{})
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("example-secret-of-at-least-32-bytes"), BcryptCost: 4,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, usermgmt.WithFeature(keys))
	if err != nil {
		panic(err)
	}
	defer m.Close()
	u, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Password-123!"})
	if err != nil {
		panic(err)
	}
	created, err := keys.Create(ctx, u, u.UUID, apikey.NewKey{Name: "ci", Scopes: []string{"user:read"}})
	if err != nil {
		panic(err)
	}
	fmt.Println(len(created.Key), created.Key[:3], created.Prefix == created.Key[:apikey.PrefixLen])

	p, err := m.Authenticate(ctx, created.Key)
	if err != nil {
		panic(err)
	}
	fmt.Println(p.User().Username, p.Credential.Kind, p.Credential.Scopes)
	// Output:
	// 46 um_ true
	// jane_doe api_key [user:read]
}
