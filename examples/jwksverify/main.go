// Command jwksverify is a second service of the stack: it trusts the
// access tokens of a usermgmt service through its published public keys
// (the JWKS), with no shared secret, using go-jose.
//
//	go run ./examples/jwksverify -issuer https://users.example.com -audience api
//
// then GET /hello with "Authorization: Bearer <access token>".
package main

import (
	"context"
	"flag"
	"fmt"
	"log"
	"net/http"
	"os"
	"strings"
	"time"
)

func main() {
	if err := run(context.Background(), os.Args[1:]); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string) error {
	fs := flag.NewFlagSet("jwksverify", flag.ContinueOnError)
	issuer := fs.String("issuer", "", "the usermgmt service's issuer URL (its BASE_URL)")
	audience := fs.String("audience", "", "the audience the tokens must carry (JWT_AUDIENCE), if any")
	addr := fs.String("addr", "127.0.0.1:8081", "where to listen")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *issuer == "" {
		return fmt.Errorf("-issuer is required")
	}
	v, err := NewVerifier(ctx, &http.Client{Timeout: 10 * time.Second}, *issuer, *audience)
	if err != nil {
		return err
	}
	mux := http.NewServeMux()
	mux.Handle("GET /hello", requireToken(v, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "hello, %s\n", r.Context().Value(subjectKey{}))
	})))
	srv := &http.Server{Addr: *addr, Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	log.Printf("listening on %s, trusting %s", *addr, *issuer)
	return srv.ListenAndServe()
}

type subjectKey struct{}

// requireToken answers 401 unless the request carries a bearer token the
// Verifier accepts; the handler finds the user's UUID in the context.
func requireToken(v *Verifier, next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", "Bearer")
			http.Error(w, "missing bearer token", http.StatusUnauthorized)
			return
		}
		c, err := v.Verify(r.Context(), tok)
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			http.Error(w, "invalid token", http.StatusUnauthorized)
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), subjectKey{}, c.Subject)))
	})
}
