package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// The operator's commands of issue 19 item 5: migrate, create-user,
// set-password, export, import and healthcheck (commands.go dispatches).

// usageError is a command line a command does not understand: main
// prints it and exits 2.
type usageError struct{ text string }

func (e *usageError) Error() string { return e.text }

// isUsage reports whether err is a usage error of any command.
func isUsage(err error) bool {
	var ue *usageError
	return errors.Is(err, errUsage) || errors.As(err, &ue)
}

// splitFlags separates the arguments from the flags, which may come
// anywhere; a flag not in known is a usage error.
func splitFlags(args []string, usage string, known ...string) (rest []string, set map[string]bool, err error) {
	set = map[string]bool{}
	for _, a := range args {
		if !strings.HasPrefix(a, "-") || a == "-" {
			rest = append(rest, a)
			continue
		}
		name := strings.TrimLeft(a, "-")
		ok := false
		for _, k := range known {
			ok = ok || name == k
		}
		if !ok {
			return nil, nil, &usageError{fmt.Sprintf("unknown flag %s\n%s", a, usage)}
		}
		set[name] = true
	}
	return rest, set, nil
}

// migrateCommand applies the pending migrations and exits; with --status
// it lists each migration as applied or pending and applies none.
func migrateCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	const usage = "usage: server migrate [--status]"
	rest, set, err := splitFlags(args, usage, "status")
	if err != nil {
		return err
	}
	if len(rest) != 0 {
		return &usageError{usage}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	before, err := anydb.MigrationStatus(ctx, cfg.DatabaseDSN)
	if err != nil {
		return fmt.Errorf("migrate: the database (from %s): %w", cfg.DatabaseSource, err)
	}
	if set["status"] {
		pending := 0
		for _, m := range before {
			state := "applied"
			if !m.Applied {
				state, pending = "pending", pending+1
			}
			if _, err := fmt.Fprintf(stdout, "%-8s %s\n", state, m.Name); err != nil {
				return err
			}
		}
		_, err := fmt.Fprintf(stdout, "%d applied, %d pending\n", len(before)-pending, pending)
		return err
	}
	st, err := anydb.Open(ctx, cfg.DatabaseDSN) // applies what is pending
	if err != nil {
		return fmt.Errorf("migrate: the database (from %s): %w", cfg.DatabaseSource, err)
	}
	if err := st.Close(); err != nil {
		return err
	}
	applied := 0
	for _, m := range before {
		if !m.Applied {
			applied++
			if _, err := fmt.Fprintf(stdout, "applied %s\n", m.Name); err != nil {
				return err
			}
		}
	}
	last := ""
	if len(before) > 0 {
		last = before[len(before)-1].Name
	}
	_, err = fmt.Fprintf(stdout, "%d migrations applied; the schema is at %s\n", applied, last)
	return err
}

// maxPasswordInput bounds the password read from standard input.
const maxPasswordInput = 4 << 10

// readPassword returns the PASSWORD variable when set, else the first
// line of stdin (without its line ending). The password never comes from
// the command line, which other users of the machine can read.
func readPassword(getenv func(string) string, stdin io.Reader, env bool) (string, error) {
	if pw := getenv("PASSWORD"); env && pw != "" {
		return pw, nil
	}
	line, err := bufio.NewReader(io.LimitReader(stdin, maxPasswordInput)).ReadString('\n')
	if err != nil && !errors.Is(err, io.EOF) {
		return "", fmt.Errorf("read the password from standard input: %w", err)
	}
	line = strings.TrimRight(line, "\r\n")
	if line == "" {
		where := "standard input (one line)"
		if env {
			where = "PASSWORD or " + where
		}
		return "", fmt.Errorf("no password: give it on %s", where)
	}
	return line, nil
}

// createUserCommand creates an account with a verified email; --admin
// gives it the roles of the default admin.
func createUserCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	const usage = "usage: server create-user [--admin] USERNAME EMAIL   (password: PASSWORD or one line on standard input)"
	rest, set, err := splitFlags(args, usage, "admin")
	if err != nil {
		return err
	}
	if len(rest) != 2 {
		return &usageError{usage}
	}
	password, err := readPassword(getenv, stdin, true)
	if err != nil {
		return fmt.Errorf("create-user: %w", err)
	}
	roles := []string{usermgmt.RoleUser}
	if set["admin"] {
		roles = []string{usermgmt.RoleAdmin, usermgmt.RoleModerator, usermgmt.RoleUser}
	}
	return withManager(ctx, getenv, stdout, func(m *usermgmt.Manager) error {
		u, err := m.CreateUser(ctx, usermgmt.NewUser{Username: rest[0], Email: rest[1], Password: password,
			Roles: roles, EmailVerified: true})
		if err != nil {
			return fmt.Errorf("create-user %s: %w", rest[0], err)
		}
		_, err = fmt.Fprintf(stdout, "created %s (%s), roles %s\n", u.Username, u.UUID, strings.Join(u.Roles, ","))
		return err
	})
}

// setPasswordCommand sets the password of the account a username or
// email names, read from standard input, and ends its sessions.
func setPasswordCommand(ctx context.Context, args []string, getenv func(string) string, stdin io.Reader, stdout io.Writer) error {
	const usage = "usage: server set-password USERNAME|EMAIL   (password: one line on standard input)"
	if len(args) != 1 || strings.HasPrefix(args[0], "-") {
		return &usageError{usage}
	}
	password, err := readPassword(getenv, stdin, false)
	if err != nil {
		return fmt.Errorf("set-password: %w", err)
	}
	return withManager(ctx, getenv, stdout, func(m *usermgmt.Manager) error {
		u, err := m.UserByLogin(ctx, args[0])
		if err != nil {
			return fmt.Errorf("set-password %q: %w", args[0], err)
		}
		if _, err := m.UpdateUser(ctx, u.UUID, usermgmt.UserPatch{Password: &password}); err != nil {
			return fmt.Errorf("set-password %s: %w", u.Username, err)
		}
		_, err = fmt.Fprintf(stdout, "set the password of %s (%s); its sessions are ended\n", u.Username, u.UUID)
		return err
	})
}

// exportCommand writes the dbtools export of every table to a new file
// (mode 0600: it holds password hashes), or to stdout for "-".
func exportCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	const usage = "usage: server export FILE   (a new file, or - for standard output)"
	if len(args) != 1 || (strings.HasPrefix(args[0], "-") && args[0] != "-") {
		return &usageError{usage}
	}
	tools := dbtools.New(dbtools.Options{})
	logs := stdout
	if args[0] == "-" {
		logs = os.Stderr // a warning must not end up inside the export
	}
	return withManager(ctx, getenv, logs, func(*usermgmt.Manager) error {
		if args[0] == "-" {
			return tools.Export(ctx, stdout)
		}
		f, err := os.OpenFile(args[0], os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
		if err != nil {
			return fmt.Errorf("export: %w", err)
		}
		if err := errors.Join(tools.Export(ctx, f), f.Sync(), f.Close()); err != nil {
			_ = os.Remove(args[0]) // no partial export left behind
			return fmt.Errorf("export: %w", err)
		}
		fi, err := os.Stat(args[0])
		if err != nil {
			return err
		}
		_, err = fmt.Fprintf(stdout, "exported the database to %s (%d bytes)\n", args[0], fi.Size())
		return err
	}, tools)
}

// importCommand merges an export into the database in one transaction:
// it adds missing rows and fills empty columns, and with --overwrite
// overwrites the columns that differ (the recovery).
func importCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	const usage = "usage: server import FILE [--overwrite]"
	rest, set, err := splitFlags(args, usage, "overwrite")
	if err != nil {
		return err
	}
	if len(rest) != 1 {
		return &usageError{usage}
	}
	f, err := os.Open(rest[0])
	if err != nil {
		return fmt.Errorf("import: %w", err)
	}
	defer f.Close()
	mode := dbtools.ImportFill
	if set["overwrite"] {
		mode = dbtools.ImportOverwrite
	}
	tools := dbtools.New(dbtools.Options{})
	return withManager(ctx, getenv, stdout, func(*usermgmt.Manager) error {
		res, err := tools.Import(ctx, f, mode)
		if err != nil {
			return fmt.Errorf("import %s: %w", rest[0], err)
		}
		for _, t := range res.Tables {
			if _, err := fmt.Fprintf(stdout, "%-24s %d inserted, %d updated, %d unchanged\n", t.Table, t.Inserted, t.Updated, t.Unchanged); err != nil {
				return err
			}
		}
		return nil
	}, tools)
}

// healthcheckTimeout bounds the whole healthcheck: the readiness checks
// take at most usermgmt.DefaultReadyTimeout.
const healthcheckTimeout = 5 * time.Second

// healthcheckCommand asks GET /ready of the server listening on ADDR (on
// the loopback interface when ADDR names every interface) and fails
// unless it answers 200: the container's HEALTHCHECK, in an image without
// curl.
func healthcheckCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) != 0 {
		return &usageError{"usage: server healthcheck"}
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	url, err := readyURL(cfg.Addr)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, healthcheckTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		return err
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		return fmt.Errorf("healthcheck: %w", err)
	}
	defer res.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(res.Body, 4<<10))
	if res.StatusCode != http.StatusOK {
		return fmt.Errorf("healthcheck: GET %s: %s %s", url, res.Status, strings.TrimSpace(string(body)))
	}
	_, err = fmt.Fprintf(stdout, "ready: %s\n", strings.TrimSpace(string(body)))
	return err
}

// readyURL is the URL of GET /ready of a server listening on addr.
func readyURL(addr string) (string, error) {
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		return "", fmt.Errorf("ADDR %q: %w", addr, err)
	}
	switch host {
	case "", "0.0.0.0":
		host = "127.0.0.1"
	case "::", "[::]":
		host = "::1"
	}
	return "http://" + net.JoinHostPort(host, port) + "/ready", nil
}
