package captcha_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/captcha"
)

// A host's own route can verify a token too: Verify says nil for a good
// one, ErrFailed (400 captcha_failed) for a bad one. The siteverify here
// is a local fake; in production Provider.VerifyURL keeps its default.
func ExampleCaptcha_Verify() {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		if r.PostForm.Get("response") == "good" {
			_, _ = io.WriteString(w, `{"success":true,"hostname":"app.example.com"}`)
			return
		}
		_, _ = io.WriteString(w, `{"success":false,"error-codes":["invalid-input-response"]}`)
	}))
	defer fake.Close()

	p := captcha.HCaptcha("secret", "site-key")
	p.VerifyURL = fake.URL
	c, err := captcha.New(captcha.Config{Provider: p})
	if err != nil {
		fmt.Println(err)
		return
	}
	ctx := context.Background()
	fmt.Println(c.Verify(ctx, "good", "203.0.113.9", ""))
	err = c.Verify(ctx, "forged", "203.0.113.9", "")
	fmt.Println(usermgmt.AsError(err).Status, usermgmt.AsError(err).Code)
	// Output:
	// <nil>
	// 400 captcha_failed
}
