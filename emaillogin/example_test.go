package emaillogin_test

import (
	"context"
	"fmt"
	"regexp"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// A sign-in code, mailed and typed back, through the Manager-level calls
// (the HTTP routes call the same).
func Example() {
	ctx := context.Background()
	st, err := anydb.Open(ctx, "sqlite://:memory:")
	if err != nil {
		panic(err)
	}
	defer st.Close()
	outbox := &mail.Memory{}
	el := emaillogin.New(emaillogin.Config{})
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("an example secret of 32 bytes!!!"), BaseURL: "https://id.example.com", BcryptCost: 4, Logger: quiet},
		usermgmt.WithMailer(outbox), usermgmt.WithFeature(el))
	if err != nil {
		panic(err)
	}
	defer m.Close()
	if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Secret-pass-123", EmailVerified: true}); err != nil {
		panic(err)
	}

	if err := el.RequestCode(ctx, "jane@example.com"); err != nil { // answers at once, account or not
		panic(err)
	}
	el.Wait()
	msg, err := outbox.Next(ctx)
	if err != nil {
		panic(err)
	}
	code := regexp.MustCompile(`[0-9]{6}`).FindString(msg.Text)

	tok, err := el.VerifyCode(ctx, "jane@example.com", code)
	if err != nil {
		panic(err)
	}
	fmt.Println(msg.Subject)
	fmt.Println("signed in:", tok.User.Username)
	_, err = el.VerifyCode(ctx, "jane@example.com", code)
	fmt.Println("again:", err)
	// Output:
	// usermgmt - Your sign-in code
	// signed in: jane_doe
	// again: email_code_invalid: This code is wrong, used or expired; ask for a new one.
}
