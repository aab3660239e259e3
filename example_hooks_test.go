package usermgmt_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"net/http"
	"strings"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// Config.Hooks let the host decide who may register and sign in: here
// only addresses of one domain may register, a suspended account may not
// sign in, and each session opened is reported.
func ExampleHooks() {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	suspended := map[string]bool{"john_doe": true}
	m, err := usermgmt.New(usermgmt.Config{
		Store:      st,
		JWTSecret:  []byte("a secret of at least 16 bytes, better 32"),
		BcryptCost: 4, // for the example only: keep the default (12) in production
		Hooks: usermgmt.Hooks{
			BeforeRegister: func(ctx context.Context, nu usermgmt.NewUser) error {
				if !strings.HasSuffix(nu.Email, "@example.com") { // normalised: lower case
					return usermgmt.NewError(http.StatusForbidden, "domain_not_allowed", "Register with your example.com address.")
				}
				return nil
			},
			BeforeLogin: func(ctx context.Context, u *usermgmt.User, method string) error {
				if suspended[u.Username] {
					return errors.New("suspended in the billing system") // logged; the client gets login_refused
				}
				return nil
			},
			AfterLogin: func(ctx context.Context, u *usermgmt.User, s *usermgmt.Session, method string) {
				fmt.Println("signed in:", u.Username, "by", method)
			},
		},
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	_, err = m.Register(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@other.org", Password: "Correct-Horse-9"})
	fmt.Println(usermgmt.AsError(err).Code)

	for _, name := range []string{"jane_doe", "john_doe"} {
		if _, err := m.Register(ctx, usermgmt.NewUser{Username: name, Email: name + "@Example.com", Password: "Correct-Horse-9"}); err != nil {
			log.Fatal(err)
		}
	}
	if _, err := m.Login(ctx, "jane_doe", "Correct-Horse-9"); err != nil {
		log.Fatal(err)
	}
	_, err = m.Login(ctx, "john_doe", "Correct-Horse-9")
	fmt.Println(errors.Is(err, usermgmt.ErrLoginRefused), usermgmt.AsError(err).Status)
	// Output:
	// domain_not_allowed
	// signed in: jane_doe by password
	// true 403
}
