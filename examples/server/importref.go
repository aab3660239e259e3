package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/dbtools/importref"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// importReferenceCommand copies the reference service's database (uri, in
// the reference's DATABASE_URI forms) into the configured database, which
// must hold no account yet: run it before the first start, which would
// create the default admin. With dataDir (the reference's data/ folder)
// the files' contents are copied into DATA_DIR too.
//
// Unlike the other commands, its Manager uses the server's JWT secret
// (JWT_SECRET_KEY, or DATA_DIR/jwt_secret, created when missing): the
// imported TOTP secrets are sealed under a key derived from it, so the
// server must start with the same secret.
func importReferenceCommand(ctx context.Context, getenv func(string) string, uri, dataDir string, stdout io.Writer) (err error) {
	cfg, err := loadConfig(getenv)
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stdout, &slog.HandlerOptions{Level: slog.LevelWarn}))
	secret, err := jwtSecret(cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		return err
	}
	src, err := importref.Open(ctx, uri)
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, src.Close()) }()
	st, err := anydb.Open(ctx, cfg.DatabaseDSN)
	if err != nil {
		return fmt.Errorf("open the database (from %s): %w", cfg.DatabaseSource, err)
	}
	defer func() { err = errors.Join(err, st.Close()) }()
	tools := dbtools.New(dbtools.Options{})
	m, err := usermgmt.New(usermgmt.Config{
		Store:      st,
		JWTSecret:  []byte(secret),
		BcryptCost: cfg.BcryptCost,
		DataDir:    cfg.DataDir,
		Logger:     log,
	}, usermgmt.WithFeature(tools))
	if err != nil {
		return err
	}
	defer func() { err = errors.Join(err, m.Close()) }()
	rep, err := importref.Import(ctx, m, tools, src, importref.Options{FilesDir: dataDir})
	if err != nil {
		return fmt.Errorf("import-reference: %w", err)
	}
	return writeImportReport(stdout, rep, cfg.DataDir)
}

// writeImportReport tells the operator what was carried, what was left
// behind, and where file contents belong when they were not copied.
func writeImportReport(w io.Writer, rep *importref.Report, dataDir string) error {
	var err error
	say := func(format string, args ...any) {
		if err == nil {
			_, err = fmt.Fprintf(w, format+"\n", args...)
		}
	}
	say("imported from the reference (%s): %d users, %d files, %d external accounts, %d history entries (as audit entries)",
		rep.Dialect, rep.Users, rep.Files, rep.ExternalAccounts, rep.History)
	for _, n := range rep.Notes {
		say("note: %s", n)
	}
	if !rep.ContentsCopied && len(rep.FileKeys) > 0 {
		say("file contents were not copied (no REFERENCE_DATA_DIR); copy each file to DATA_DIR (%s):", dataDir)
		for _, k := range rep.FileKeys {
			say("  %s -> %s", k.From, k.StorageKey)
		}
	}
	return err
}
