// Command mux mounts usermgmt on a standard library http.ServeMux beside
// the host's own routes, one of which is guarded by httpadapter.RequireAuth.
//
//	go run ./examples/mux                       # serves on 127.0.0.1:8080
//	go run ./examples/mux -addr 127.0.0.1:0 -once  # serve, try itself, exit
package main

import (
	"context"
	"crypto/rand"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/examples/internal/exampleclient"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store/anydb"
)

func main() {
	if err := run(context.Background(), os.Args[1:], os.Stdout); err != nil {
		log.Fatal(err)
	}
}

func run(ctx context.Context, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("mux", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address")
	dsn := fs.String("db", "sqlite://:memory:", "store DSN (sqlite://path or postgres://...)")
	once := fs.Bool("once", false, "serve, run a short client session against itself, and exit")
	cost := fs.Int("bcrypt-cost", usermgmt.DefaultBcryptCost, "bcrypt cost of new passwords (tests use 4)")
	if err := fs.Parse(args); err != nil {
		return err
	}

	st, err := anydb.Open(ctx, *dsn)
	if err != nil {
		return err
	}
	defer st.Close()
	secret := make([]byte, 32)
	if _, err := rand.Read(secret); err != nil {
		return err
	}
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: secret, BaseURL: "http://" + *addr, BcryptCost: *cost})
	if err != nil {
		return err
	}
	defer m.Close()

	mux := http.NewServeMux()
	// The whole usermgmt surface: the API under /api, plus /ping, /docs ...
	mux.Handle("/", httpadapter.New(m, httpadapter.Options{Prefix: "/api"}))
	// The host's own route, for logged-in users only.
	mux.Handle("GET /app/hello", httpadapter.RequireAuth(m)(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := httpadapter.CurrentUser(r.Context())
		fmt.Fprintf(w, "hello, %s\n", u.DisplayName)
	})))

	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintln(out, "listening on", ln.Addr())
	if !*once {
		return srv.Serve(ln)
	}
	go func() { _ = srv.Serve(ln) }()
	defer srv.Close()
	return exampleclient.Try(ctx, "http://"+ln.Addr().String(), out)
}
