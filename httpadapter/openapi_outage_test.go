package httpadapter_test

import (
	"context"
	"io"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/files"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// TestOpenAPIDeclaresOutages: every operation declares the outage answer
// 503 (with a required Retry-After) as its own, and every operation that
// writes declares 507, so that a client reads them from the document
// rather than from "default", which describes bugs.
func TestOpenAPIDeclaresOutages(t *testing.T) {
	b, err := httpadapter.OpenAPI("/api", "1", httpFeatures()...)
	if err != nil {
		t.Fatal(err)
	}
	doc := parseOpenAPI(t, b)
	n := 0
	for _, rt := range httpadapter.Routes(httpFeatures()...) {
		if rt.Tag == "docs" || rt.Page {
			continue
		}
		full := rt.Path
		if !rt.Root {
			full = "/api" + rt.Path
		}
		op := obj(obj(obj(doc["paths"])[full])[strings.ToLower(rt.Method)])
		responses := obj(op["responses"])
		unavailable := obj(responses["503"])
		if unavailable == nil {
			t.Errorf("%s %s declares no 503", rt.Method, full)
		} else if ra := obj(obj(unavailable["headers"])["Retry-After"]); ra["required"] != true {
			t.Errorf("%s %s: 503 without a required Retry-After: %v", rt.Method, full, ra)
		}
		writes := rt.Method != http.MethodGet || rt.Writes
		if got := responses["507"] != nil; got != writes {
			t.Errorf("%s %s: 507 declared %v, writes %v", rt.Method, full, got, writes)
		}
		n++
	}
	if n < 60 {
		t.Fatalf("only %d operations checked", n)
	}
	// GET routes that write are marked, and declare 507.
	for _, name := range []string{"verify_email", "forgot_password_request_get", "oauth_callback", "otp_setup"} {
		if !routeNamed(t, name).Writes {
			t.Errorf("%s: Writes is false", name)
		}
	}
}

func routeNamed(t *testing.T, name string) httpadapter.Route {
	t.Helper()
	for _, rt := range httpadapter.Routes(httpFeatures()...) {
		if rt.Name == name {
			return rt
		}
	}
	t.Fatalf("no route %s", name)
	return httpadapter.Route{}
}

// failingStore is a store whose user look-ups and transactions fail with
// err once it is set, as an outage or a full disk makes the real one do.
type failingStore struct {
	*store.DB
	err atomic.Pointer[error]
}

func (s *failingStore) failure() error {
	if p := s.err.Load(); p != nil {
		return *p
	}
	return nil
}

func (s *failingStore) UserByUsername(ctx context.Context, username string) (*usermgmt.User, error) {
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.DB.UserByUsername(ctx, username)
}

func (s *failingStore) UserByEmail(ctx context.Context, email string) (*usermgmt.User, error) {
	if err := s.failure(); err != nil {
		return nil, err
	}
	return s.DB.UserByEmail(ctx, email)
}

func (s *failingStore) InTx(ctx context.Context, fn func(ctx context.Context, tx usermgmt.Store) error) error {
	if err := s.failure(); err != nil {
		return err
	}
	return s.DB.InTx(ctx, fn)
}

// noSpaceDisk is a files.Storage whose writes fail as a full file system's
// do, after part of the content.
type noSpaceDisk struct{ *files.Disk }

func (d noSpaceDisk) Put(ctx context.Context, key string, r io.Reader) (int64, error) {
	return d.Disk.Put(ctx, key, io.MultiReader(io.LimitReader(r, 512), errReader{&fs.PathError{Op: "write", Path: key, Err: syscall.ENOSPC}}))
}

type errReader struct{ err error }

func (r errReader) Read([]byte) (int, error) { return 0, r.err }

// TestOutageAnswersConform: real 503 and 507 answers, each checked by the
// conformance hook of serve against its operation's own response (which
// fails for an answer only "default" describes).
func TestOutageAnswersConform(t *testing.T) {
	ctx := context.Background()
	real, err := anydb.Open(ctx, backends[0].dsn(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = real.Close() })
	disk, err := files.NewDisk(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	st := &failingStore{DB: real}
	m, err := usermgmt.New(usermgmt.Config{
		Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: baseURL, BcryptCost: 4,
		Logger: slog.New(slog.DiscardHandler),
	}, usermgmt.WithStorage(noSpaceDisk{disk}))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	e := &env{t: t, m: m, h: httpadapter.New(m, httpadapter.Options{Logger: slog.New(slog.DiscardHandler)}), clock: newFakeClock(), logs: &syncBuffer{}}
	a := e.register("outage_user")

	// A full disk: an upload (file storage) and a sign-up (database).
	e.upload("POST", "/api/file/", a.AccessToken, "notes.txt", []byte(strings.Repeat("x", 4096))).wantError(t, http.StatusInsufficientStorage, "insufficient_storage")
	full := error(usermgmt.ErrInsufficientStorage)
	st.err.Store(&full)
	e.do(request{method: "POST", path: "/api/auth/register", json: map[string]string{
		"username": "second_user", "email": "second_user@example.com", "password": password, "confirm_password": password,
	}}).wantError(t, http.StatusInsufficientStorage, "insufficient_storage")

	// The database down: reads and writes, GET and POST.
	down := error(usermgmt.ErrUnavailable)
	st.err.Store(&down)
	for _, q := range []request{
		{method: "POST", path: "/api/auth/login", form: url.Values{"grant_type": {"password"}, "username": {"outage_user"}, "password": {password}}},
		{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{"username": "outage_user"}},
		{method: "GET", path: "/api/auth/forgot-password/request?username=outage_user"},
		{method: "POST", path: "/api/auth/register", json: map[string]string{
			"username": "second_user", "email": "second_user@example.com", "password": password, "confirm_password": password,
		}},
	} {
		r := e.do(q)
		r.wantError(t, http.StatusServiceUnavailable, "service_unavailable")
		if r.header.Get("Retry-After") == "" {
			t.Errorf("%s %s: 503 without Retry-After", q.method, q.path)
		}
	}
}
