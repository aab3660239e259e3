package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/internal/testredis"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// opsEnv is the environment of a command over a fresh database: SQLite in
// a throwaway DATA_DIR, or PostgreSQL.
func opsEnv(t *testing.T, postgres bool, extra map[string]string) func(string) string {
	t.Helper()
	vars := map[string]string{"DATA_DIR": t.TempDir(), "BCRYPT_COST": "4"}
	if postgres {
		vars["DATABASE_URI"] = testpg.DSN(t)
	}
	for k, v := range extra {
		vars[k] = v
	}
	return env(vars)
}

// withTestManager runs f with a Manager over the database of getenv.
func withTestManager(t *testing.T, getenv func(string) string, f func(m *usermgmt.Manager)) {
	t.Helper()
	ctx := context.Background()
	cfg, err := loadConfig(getenv)
	if err != nil {
		t.Fatal(err)
	}
	st, err := anydb.Open(ctx, cfg.DatabaseDSN)
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-0123456789abcdef0123"), BcryptCost: 4,
		Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	f(m)
}

// command runs args with stdin and returns what it printed.
func command(t *testing.T, getenv func(string) string, stdin string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	err := runCommandIO(context.Background(), args, getenv, strings.NewReader(stdin), &out)
	return out.String(), err
}

// wantUsage checks that each command line is a usage error, which main
// answers with the usage and exit status 2.
func wantUsage(t *testing.T, getenv func(string) string, lines ...[]string) {
	t.Helper()
	for _, args := range lines {
		_, err := command(t, getenv, "", args...)
		var stderr bytes.Buffer
		if code := exitCode(err, &stderr); code != 2 || !strings.Contains(stderr.String(), "usage: server") {
			t.Errorf("%q: exit %d, stderr %q (err %v), want 2 and the usage", args, code, stderr.String(), err)
		}
	}
}

// TestMigrateCommand: `migrate --status` lists every migration pending on
// a fresh database and applies none; `migrate` applies them and exits;
// then all are applied. On SQLite and PostgreSQL.
func TestMigrateCommand(t *testing.T) {
	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "sqlite", true: "postgres"}[pg], func(t *testing.T) {
			getenv := opsEnv(t, pg, nil)
			for range 2 {
				out, err := command(t, getenv, "", "migrate", "--status")
				if err != nil {
					t.Fatal(err)
				}
				if !strings.HasPrefix(out, "pending  0001_init\n") || strings.Contains(out, "\napplied ") || !strings.Contains(out, "\n0 applied, ") {
					t.Fatalf("status of a fresh database:\n%s", out)
				}
			}
			out, err := command(t, getenv, "", "migrate")
			if err != nil {
				t.Fatal(err)
			}
			if !strings.HasPrefix(out, "applied 0001_init\n") || !strings.Contains(out, " migrations applied; the schema is at ") {
				t.Fatalf("migrate:\n%s", out)
			}
			out, err = command(t, getenv, "", "migrate", "--status")
			if err != nil || strings.Contains(out, "pending ") || !strings.HasSuffix(out, " 0 pending\n") {
				t.Fatalf("status after migrate (%v):\n%s", err, out)
			}
			out, err = command(t, getenv, "", "migrate")
			if err != nil || !strings.HasPrefix(out, "0 migrations applied") {
				t.Fatalf("migrate again (%v):\n%s", err, out)
			}
		})
	}
	getenv := opsEnv(t, false, nil)
	wantUsage(t, getenv, []string{"migrate", "now"}, []string{"migrate", "--force"}, []string{"migrate", "--status", "x"})
	// A database that cannot be reached: a clear error, exit 1.
	_, err := command(t, env(map[string]string{"DATA_DIR": t.TempDir(), "DATABASE_URI": "postgres://nobody@127.0.0.1:1/x?sslmode=disable&connect_timeout=2"}), "", "migrate")
	var stderr bytes.Buffer
	if code := exitCode(err, &stderr); code != 1 || !strings.Contains(stderr.String(), "server: migrate: the database (from DATABASE_URI)") {
		t.Errorf("unreachable database: exit %d, %q", code, stderr.String())
	}
}

// TestCreateUserCommand: create-user takes the password from PASSWORD or
// standard input, never from the arguments; --admin gives the admin roles;
// the account signs in; what the Manager refuses is an error (exit 1).
func TestCreateUserCommand(t *testing.T) {
	ctx := context.Background()
	getenv := opsEnv(t, false, map[string]string{"PASSWORD": "Env-Pass-123x"})
	out, err := command(t, getenv, "", "create-user", "--admin", "root_user", "root@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "created root_user (") || !strings.Contains(out, "roles admin,moderator,user") {
		t.Errorf("output %q", out)
	}
	// Without PASSWORD: the first line of standard input; no --admin.
	stdinEnv := opsEnv(t, false, nil)
	if _, err := command(t, stdinEnv, "Stdin-Pass-456y\nignored\n", "create-user", "jane_doe", "jane@example.com"); err != nil {
		t.Fatal(err)
	}
	withTestManager(t, getenv, func(m *usermgmt.Manager) {
		if _, err := m.Login(ctx, "root_user", "Env-Pass-123x"); err != nil {
			t.Errorf("login with the PASSWORD password: %v", err)
		}
		u, err := m.UserByLogin(ctx, "root_user")
		if err != nil || !slices.Contains(u.Roles, usermgmt.RoleAdmin) || !u.EmailVerified {
			t.Errorf("root_user = %+v, %v", u, err)
		}
	})
	withTestManager(t, stdinEnv, func(m *usermgmt.Manager) {
		if _, err := m.Login(ctx, "jane_doe", "Stdin-Pass-456y"); err != nil {
			t.Errorf("login with the standard input password: %v", err)
		}
		if u, err := m.UserByLogin(ctx, "jane_doe"); err != nil || slices.Contains(u.Roles, usermgmt.RoleAdmin) {
			t.Errorf("jane_doe = %+v, %v", u, err)
		}
	})

	if _, err := command(t, getenv, "", "create-user", "root_user", "other@example.com"); !errors.Is(err, usermgmt.ErrUsernameTaken) {
		t.Errorf("a taken username: %v", err)
	}
	if _, err := command(t, opsEnv(t, false, nil), "", "create-user", "bob_smith", "bob@example.com"); err == nil || !strings.Contains(err.Error(), "no password") {
		t.Errorf("no password: %v", err)
	}
	_, err = command(t, opsEnv(t, false, nil), "short\n", "create-user", "bob_smith", "bob@example.com")
	var stderr bytes.Buffer
	if code := exitCode(err, &stderr); code != 1 || !strings.HasPrefix(stderr.String(), "server: create-user bob_smith: ") {
		t.Errorf("a password the policy refuses: exit %d, %q", code, stderr.String())
	}
	wantUsage(t, getenv, []string{"create-user"}, []string{"create-user", "a_user"},
		[]string{"create-user", "a_user", "a@example.com", "Pass-in-argv-1"}, []string{"create-user", "--root", "a_user", "a@example.com"})
}

// TestSetPasswordCommand: set-password reads the new password from
// standard input; the old one stops working and the sessions end.
func TestSetPasswordCommand(t *testing.T) {
	ctx := context.Background()
	getenv := opsEnv(t, false, nil)
	if _, err := command(t, getenv, "Old-Pass-123x\n", "create-user", "jane_doe", "jane@example.com"); err != nil {
		t.Fatal(err)
	}
	var refresh string
	withTestManager(t, getenv, func(m *usermgmt.Manager) {
		tk, err := m.Login(ctx, "jane_doe", "Old-Pass-123x")
		if err != nil {
			t.Fatal(err)
		}
		refresh = tk.RefreshToken
	})
	out, err := command(t, getenv, "New-Pass-456y\r\n", "set-password", "jane@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "set the password of jane_doe (") {
		t.Errorf("output %q", out)
	}
	withTestManager(t, getenv, func(m *usermgmt.Manager) {
		if _, err := m.Login(ctx, "jane_doe", "Old-Pass-123x"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
			t.Errorf("old password: %v", err)
		}
		if _, err := m.Login(ctx, "jane_doe", "New-Pass-456y"); err != nil {
			t.Errorf("new password: %v", err)
		}
		if _, err := m.Refresh(ctx, refresh); err == nil {
			t.Error("a session from before the change still refreshes")
		}
	})
	if _, err := command(t, getenv, "New-Pass-456y\n", "set-password", "nobody_here"); !errors.Is(err, usermgmt.ErrUserNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	// PASSWORD is create-user's; set-password reads standard input only.
	if _, err := command(t, opsEnv(t, false, map[string]string{"PASSWORD": "Env-Pass-789z"}), "", "set-password", "jane_doe"); err == nil ||
		!strings.Contains(err.Error(), "no password") {
		t.Errorf("no password on standard input: %v", err)
	}
	wantUsage(t, getenv, []string{"set-password"}, []string{"set-password", "jane_doe", "New-Pass-456y"}, []string{"set-password", "--all"})
}

// TestExportImportCommands: export writes a new 0600 file that import
// reads into another database; a second import changes nothing; a file
// that is not an export imports nothing.
func TestExportImportCommands(t *testing.T) {
	ctx := context.Background()
	src := opsEnv(t, false, nil)
	if _, err := command(t, src, "Jane-Pass-123x\n", "create-user", "jane_doe", "jane@example.com"); err != nil {
		t.Fatal(err)
	}
	file := filepath.Join(t.TempDir(), "export.json")
	out, err := command(t, src, "", "export", file)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(out, "exported the database to "+file+" (") {
		t.Errorf("output %q", out)
	}
	fi, err := os.Stat(file)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("export file: %v %v", fi, err)
	}
	if _, err := command(t, src, "", "export", file); !errors.Is(err, os.ErrExist) {
		t.Errorf("export over an existing file: %v", err)
	}
	stdout, err := command(t, src, "", "export", "-")
	if err != nil || !strings.Contains(stdout, "jane_doe") {
		t.Errorf("export to stdout (%v): %.200s", err, stdout)
	}

	for _, pg := range []bool{false, true} {
		t.Run(map[bool]string{false: "into sqlite", true: "into postgres"}[pg], func(t *testing.T) {
			dst := opsEnv(t, pg, nil)
			out, err := command(t, dst, "", "import", file)
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(out, "users") || !strings.Contains(out, "1 inserted") {
				t.Errorf("import:\n%s", out)
			}
			withTestManager(t, dst, func(m *usermgmt.Manager) {
				if _, err := m.Login(ctx, "jane_doe", "Jane-Pass-123x"); err != nil {
					t.Errorf("login after the import: %v", err)
				}
			})
			out, err = command(t, dst, "", "import", "--overwrite", file)
			if err != nil || strings.Contains(out, "1 inserted") || strings.Contains(out, "1 updated") {
				t.Errorf("import --overwrite of the same export (%v):\n%s", err, out)
			}
		})
	}

	bad := filepath.Join(t.TempDir(), "bad.json")
	if err := os.WriteFile(bad, []byte(`{"format":"something else"}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := command(t, opsEnv(t, false, nil), "", "import", bad); !errors.Is(err, dbtools.ErrBadExport) {
		t.Errorf("import of a file that is no export: %v", err)
	}
	if _, err := command(t, src, "", "import", filepath.Join(t.TempDir(), "missing.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("import of a missing file: %v", err)
	}
	wantUsage(t, src, []string{"export"}, []string{"export", "a", "b"}, []string{"export", "--all"},
		[]string{"import"}, []string{"import", file, "--force"}, []string{"import", file, file})
}

// TestHealthcheckCommand: healthcheck asks /ready of the server on ADDR
// and succeeds while it serves; with nothing listening it fails (exit 1).
func TestHealthcheckCommand(t *testing.T) {
	srv := startServer(t, nil)
	addr := strings.TrimPrefix(srv.base, "http://")
	out, err := command(t, env(map[string]string{"ADDR": addr}), "", "healthcheck")
	if err != nil {
		t.Fatalf("healthcheck of a running server: %v\n%s", err, srv.logs)
	}
	if out != "ready: {\"status\":\"ready\"}\n" {
		t.Errorf("output %q", out)
	}
	if err := srv.stop(); err != nil {
		t.Fatal(err)
	}
	_, err = command(t, env(map[string]string{"ADDR": addr}), "", "healthcheck")
	var stderr bytes.Buffer
	if code := exitCode(err, &stderr); code != 1 || !strings.HasPrefix(stderr.String(), "server: healthcheck: ") {
		t.Errorf("healthcheck with no server: exit %d, %q", code, stderr.String())
	}
	wantUsage(t, env(nil), []string{"healthcheck", "now"})

	for addr, want := range map[string]string{
		":8000":          "http://127.0.0.1:8000/ready",
		"0.0.0.0:80":     "http://127.0.0.1:80/ready",
		"[::]:8000":      "http://[::1]:8000/ready",
		"10.0.0.5:9000":  "http://10.0.0.5:9000/ready",
		"localhost:8000": "http://localhost:8000/ready",
	} {
		if got, err := readyURL(addr); err != nil || got != want {
			t.Errorf("readyURL(%q) = %q, %v, want %q", addr, got, err, want)
		}
	}
}

// TestCommandUsage: the usage lists every command, `serve` (the default)
// included; what no command understands exits 2 with it.
func TestCommandUsage(t *testing.T) {
	out, err := command(t, env(nil), "", "help")
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []string{"serve", "migrate [--status]", "create-user [--admin] USERNAME EMAIL", "set-password USERNAME|EMAIL",
		"export FILE", "import FILE [--overwrite]", "healthcheck", "unlock", "keys generate", "import-reference"} {
		if !strings.Contains(out, "\n  "+c) {
			t.Errorf("usage lacks %q:\n%s", c, out)
		}
	}
	var stderr bytes.Buffer
	if code := exitCode(nil, &stderr); code != 0 || stderr.Len() != 0 {
		t.Errorf("no error: exit %d, %q", code, stderr.String())
	}
	wantUsage(t, env(nil), []string{"frobnicate"}, []string{"keys"}, []string{"keys", "generate", "XS256", "f.pem"},
		[]string{"serve", "now"})

	// `serve` serves until its context ends.
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	var logs bytes.Buffer
	err = runCommandIO(ctx, []string{"serve"}, env(map[string]string{"ADDR": "127.0.0.1:0", "DATA_DIR": t.TempDir(), "BCRYPT_COST": "4"}),
		strings.NewReader(""), &logs)
	if err != nil || !strings.Contains(logs.String(), "msg=listening") || !strings.Contains(logs.String(), "msg=stopped") {
		t.Errorf("serve: %v\n%s", err, logs.String())
	}
}

// TestHealthcheckRedisDown: with REDIS_URL, the healthcheck fails while
// Redis is stopped (the server keeps serving, limiting in memory) and
// passes once it is back.
func TestHealthcheckRedisDown(t *testing.T) {
	rd := testredis.StartServer(t)
	srv := startServer(t, map[string]string{"REDIS_URL": rd.URL(), "REDIS_FAILURE_MODE": "memory", "RATE_LIMITER_ENABLED": "true"})
	check := env(map[string]string{"ADDR": strings.TrimPrefix(srv.base, "http://")})
	if _, err := command(t, check, "", "healthcheck"); err != nil {
		t.Fatalf("Redis up: %v", err)
	}
	rd.Stop()
	_, err := command(t, check, "", "healthcheck")
	if err == nil || !strings.Contains(err.Error(), "503") || !strings.Contains(err.Error(), `"failed":["rate_limiter"]`) {
		t.Fatalf("Redis down: %v", err)
	}
	rd.Start()
	if _, err := command(t, check, "", "healthcheck"); err != nil {
		t.Fatalf("Redis back: %v", err)
	}
}
