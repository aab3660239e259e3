package httpadapter_test

import (
	"context"
	"fmt"
	"log"
	"log/slog"
	"net/http"
	"net/http/httptest"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// Mount the library and guard one of the host's own routes with it.
func ExampleNew() {
	ctx := context.Background()
	st, err := sqlite.Open(ctx, ":memory:")
	if err != nil {
		log.Fatal(err)
	}
	defer st.Close()
	m, err := usermgmt.New(usermgmt.Config{
		Store:     st,
		JWTSecret: []byte("an example secret of 32+ bytes!!"),
		BaseURL:   "https://example.com",
		Logger:    slog.New(slog.DiscardHandler),
	})
	if err != nil {
		log.Fatal(err)
	}
	defer m.Close()

	dashboard := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		u, _ := httpadapter.CurrentUser(r.Context())
		fmt.Fprintf(w, "hello %s", u.Username)
	})
	mux := http.NewServeMux()
	mux.Handle("/", httpadapter.New(m, httpadapter.Options{Prefix: "/api"}))
	mux.Handle("GET /app/dashboard", httpadapter.RequireAuth(m)(dashboard))

	srv := httptest.NewServer(mux)
	defer srv.Close()
	for _, path := range []string{"/ping", "/app/dashboard"} {
		resp, err := http.Get(srv.URL + path)
		if err != nil {
			log.Fatal(err)
		}
		resp.Body.Close()
		fmt.Println(path, resp.Status, resp.Header.Get("Content-Type"))
	}
	// Output:
	// /ping 200 OK application/json
	// /app/dashboard 401 Unauthorized application/json
}
