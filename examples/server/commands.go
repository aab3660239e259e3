package main

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// The operator's commands: `server COMMAND ARGS...` runs one against the
// database the service would use (the same environment and .env file),
// then exits. Without arguments the server serves.
const commandUsage = `usage: server [COMMAND ARGS...]

Without a command, serve the API. Commands:
  unlock USERNAME|EMAIL   lift the lockouts of an account (failed logins and
                          failed second-step codes)
  keys generate [EdDSA|ES256|RS256] FILE
                          write a new access-token signing key to FILE
                          (PEM, mode 0600) and print its kid and public key
                          (for JWT_SIGNING_KEY_FILE, JWT_VERIFY_KEY_FILES)
  import-reference REFERENCE_URI [REFERENCE_DATA_DIR]
                          copy the Python service's database (its
                          DATABASE_URI: sqlite+aiosqlite:///.../Project.db
                          or postgresql+psycopg://...) into this server's
                          empty database; with REFERENCE_DATA_DIR (its
                          data/ folder) the users' files too`

// errUsage is a command line the server does not understand.
var errUsage = errors.New(commandUsage)

// runCommand runs the command args names, configured from getenv, and
// writes what it did to stdout.
func runCommand(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	switch {
	case len(args) == 2 && args[0] == "unlock":
		return withManager(ctx, getenv, stdout, func(m *usermgmt.Manager) error {
			return unlockCommand(ctx, m, args[1], stdout)
		})
	case (len(args) == 2 || len(args) == 3) && args[0] == "import-reference":
		dataDir := ""
		if len(args) == 3 {
			dataDir = args[2]
		}
		return importReferenceCommand(ctx, getenv, args[1], dataDir, stdout)
	case len(args) > 0 && args[0] == "keys":
		return keysCommand(args[1:], getenv, stdout)
	case len(args) == 1 && (args[0] == "help" || args[0] == "-h" || args[0] == "--help"):
		_, err := fmt.Fprintln(stdout, commandUsage)
		return err
	}
	return errUsage
}

// withManager opens the configured database and runs f with a Manager over
// it. The Manager signs nothing, so it gets a random JWT secret and no
// mailer: a command neither needs JWT_SECRET_KEY nor creates its file.
func withManager(ctx context.Context, getenv func(string) string, stdout io.Writer, f func(*usermgmt.Manager) error) (err error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
	st, err := anydb.Open(ctx, cfg.DatabaseDSN)
	if err != nil {
		return fmt.Errorf("open the database (from %s): %w", cfg.DatabaseSource, err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	m, err := usermgmt.New(usermgmt.Config{
		Store:     st,
		JWTSecret: []byte(rand.Text()),
		DataDir:   cfg.DataDir,
		Logger:    log,
		Lockout:   cfg.Lockout,
	})
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, m.Close()) }()
	return f(m)
}

// unlockCommand lifts the lockouts of the account login names (its
// username or email), with an audit entry.
func unlockCommand(ctx context.Context, m *usermgmt.Manager, login string, stdout io.Writer) error {
	u, err := m.UserByLogin(ctx, login)
	if err != nil {
		return fmt.Errorf("unlock %q: %w", login, err)
	}
	if err := m.UnlockAccount(ctx, u.UUID); err != nil {
		return fmt.Errorf("unlock %s: %w", u.Username, err)
	}
	_, err = fmt.Fprintf(stdout, "unlocked %s (%s)\n", u.Username, u.UUID)
	return err
}
