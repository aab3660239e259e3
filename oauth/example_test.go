package oauth_test

import (
	"context"
	"fmt"
	"net/url"

	"github.com/usermgmt/usermgmt/oauth"
)

// A flow begins with the provider's authorization URL, which carries the
// state, the PKCE challenge of the verifier and the provider's parameters.
func ExampleAuthCodeURL() {
	gh := oauth.GitHub(oauth.Config{ClientID: "my-client-id", ClientSecret: "my-secret"})
	verifier := "a-fresh-verifier-from-oauth2.GenerateVerifier-0123456789"
	u, err := oauth.AuthCodeURL(context.Background(), gh, "https://users.example.com/api/oauth/github/callback",
		"random-state", verifier, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	parsed, _ := url.Parse(u)
	q := parsed.Query()
	fmt.Println(parsed.Host + parsed.Path)
	fmt.Println(q.Get("client_id"), q.Get("scope"), q.Get("state"), q.Get("code_challenge_method"))
	// Output:
	// github.com/login/oauth/authorize
	// my-client-id read:user user:email random-state S256
}
