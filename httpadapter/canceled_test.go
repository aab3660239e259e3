package httpadapter_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// wildcard matches a route path's {name} or {name...}.
var wildcard = regexp.MustCompile(`\{[a-z_]+(\.\.\.)?\}`)

// TestCanceledRequestIsNotAnError: a request whose context is done before
// its answer is ready (the client went away, or its deadline passed) is
// answered 499 or with the route's own refusal, never a 5xx, and leaves no
// ERROR line, on every route of the table (as an admin, so that each gets
// past authentication to its Manager call).
func TestCanceledRequestIsNotAnError(t *testing.T) {
	e := newEnv(t, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"), httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
	admin := e.user("admin_user", "admin")
	for _, cause := range []string{"canceled", "deadline"} {
		for _, rt := range httpadapter.Routes(httpFeatures()...) {
			if rt.SwaggerUI {
				continue
			}
			path := wildcard.ReplaceAllStringFunc(rt.Path, func(w string) string {
				switch strings.Trim(w, "{}.") {
				case "uuid", "user_uuid":
					return admin.uuid
				case "provider":
					return "github"
				case "method":
					return "email"
				default:
					return "1"
				}
			})
			if !rt.Root {
				path = "/api" + path
			}
			q := request{method: rt.Method, path: path, token: admin.AccessToken}
			switch rt.Method {
			case http.MethodPost, http.MethodPut, http.MethodPatch:
				q.form = url.Values{"username": {"admin_user"}, "password": {password}, "grant_type": {"password"}, "email": {"admin_user@example.com"}}
			}
			r := q.build(t)
			ctx, cancel := context.WithCancel(r.Context())
			if cause == "deadline" {
				ctx, cancel = context.WithTimeout(r.Context(), 0)
			}
			cancel()
			res := serve(t, e.h, r.WithContext(ctx))
			if res.status >= 500 {
				t.Errorf("%s: %s %s answered %s", cause, rt.Method, path, res)
			}
		}
	}
	if logs := e.logs.String(); strings.Contains(logs, "level=ERROR") {
		t.Errorf("canceled requests logged errors:\n%s", logs)
	}
	if !strings.Contains(e.logs.String(), "request canceled by the client") {
		t.Error("no canceled request was logged at DEBUG: the test reached no Manager call")
	}
}

// TestOverloadTimedOutByClientsLogsNoError: logins that queue for the one
// hashing slot while their clients time out (the overload of issue 14,
// which logged "waiting to hash: context canceled" as an internal error)
// leave the error log empty and answer no 500.
func TestOverloadTimedOutByClientsLogsNoError(t *testing.T) {
	ctx := context.Background()
	st, err := anydb.Open(ctx, "sqlite://"+filepath.Join(t.TempDir(), "db.sqlite"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	logs := &syncBuffer{}
	logger := slog.New(slog.NewTextHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	m, err := usermgmt.New(usermgmt.Config{
		Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: baseURL,
		BcryptCost: 4, DataDir: t.TempDir(), Logger: logger,
	}, usermgmt.WithHasher(usermgmt.NewBcryptHasher(11, 1))) // one slot, ~100 ms a hash
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: password}); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(httpadapter.New(m, httpadapter.Options{Logger: logger}))
	client := &http.Client{Timeout: 30 * time.Millisecond}
	var wg sync.WaitGroup
	for range 6 {
		wg.Go(func() {
			resp, err := client.PostForm(srv.URL+"/api/auth/login", url.Values{
				"grant_type": {"password"}, "username": {"jane_doe"}, "password": {password},
			})
			if err == nil {
				resp.Body.Close()
			}
		})
	}
	wg.Wait()
	srv.Close() // waits for every handler to end
	out := logs.String()
	if strings.Contains(out, "level=ERROR") || strings.Contains(out, "status=500") {
		t.Errorf("logins timed out by their clients logged errors:\n%s", out)
	}
	if !strings.Contains(out, "request canceled by the client") {
		t.Errorf("no login was canceled while it waited (the test did not overload the hasher):\n%s", out)
	}
}
