// Package importref brings the database of the Python service usermgmt
// replaces (UserManagementAPI: its SQLite Project.db or its PostgreSQL
// schema) into a usermgmt database, so that its users keep their accounts:
// their passwords (bcrypt hashes, carried as they are), second factors
// (TOTP secrets and methods), linked provider accounts, files metadata
// (and, with Options.FilesDir, the files themselves) and history.
//
//	src, err := importref.Open(ctx, "sqlite+aiosqlite:///old/data/Project.db")
//	defer src.Close()
//	rep, err := importref.Import(ctx, m, tools, src, importref.Options{})
//
// where m is a Manager with the dbtools feature (tools) enabled. The
// reference is read in one read-only snapshot; every row is checked and
// converted first, and then written through the database import of
// dbtools (Tools.Import) in one transaction, so a refused row leaves the
// target as it was. Errors name the reference table, its row (1-based, in
// key order) and key.
//
// The target must be empty of accounts: an import into a database that
// holds users, files or linked accounts is refused (ErrTargetNotEmpty),
// so a second run is refused rather than merged. What maps where, and
// what is not carried: docs/migrating-from-the-python-service.md.
package importref

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
)

// The errors of an import. Each carries params naming what it refers to
// ("table", "row", "key" for a row).
var (
	// ErrNotReference: the source lacks a table or column of the
	// reference's schema.
	ErrNotReference = usermgmt.NewError(http.StatusBadRequest, "not_reference_schema",
		"The database is not the reference service's.")
	// ErrInvalidRow: a reference row that cannot be carried as it is (a
	// malformed hash or email, a username our rules refuse ...). Nothing
	// is written.
	ErrInvalidRow = usermgmt.NewError(http.StatusUnprocessableEntity, "invalid_reference_row",
		"A row of the reference database cannot be imported.")
	// ErrTargetNotEmpty: the target already holds users, files or linked
	// accounts.
	ErrTargetNotEmpty = usermgmt.NewError(http.StatusConflict, "target_not_empty",
		"The target database already holds accounts: import the reference into an empty one.")
)

// PasswordMarkerExternal is the reference's hashed_password of an account
// created by a provider login, which has no password.
const PasswordMarkerExternal = "ThirdPartyOnlyAcc"

// HistoryActionPrefix starts the audit action of an entry carried from
// the reference's user_history: "reference:" + its action.
const HistoryActionPrefix = "reference:"

// Options configures an import.
type Options struct {
	// FilesDir, when set, is the reference's data directory (its
	// <APP_ROOT>/data, holding users/<uuid>/<file_name>): every file's
	// content is copied into the Manager's files.Storage, with its size,
	// hash and sniffed type, before the rows are written (and removed again
	// if the import fails). Without it only the metadata is carried, and
	// the operator copies the contents to the storage keys the Report
	// lists.
	FilesDir string
}

// Report says what an import did.
type Report struct {
	// Dialect is the reference's database, SQLite or Postgres.
	Dialect string `json:"dialect"`
	// Users, Files, ExternalAccounts and History count what was carried
	// (History counts the user_history entries, now audit entries).
	Users            int `json:"users"`
	Files            int `json:"files"`
	ExternalAccounts int `json:"external_accounts"`
	History          int `json:"history"`
	// FileKeys maps the reference's file_path of each carried file to its
	// storage key here (where its content belongs).
	FileKeys []FileKey `json:"file_keys"`
	// ContentsCopied tells whether the contents were copied (FilesDir).
	ContentsCopied bool `json:"contents_copied"`
	// Notes list what was left behind, and why.
	Notes []string `json:"notes"`
	// Result is the database import's own count, per table.
	Result *dbtools.ImportResult `json:"result"`
}

// FileKey is where a reference file's content goes.
type FileKey struct {
	ID         int64  `json:"id"`
	From       string `json:"from"`
	StorageKey string `json:"storage_key"`
}

// Import reads the reference database src and writes it into the database
// of m, through tools (the dbtools feature enabled on m), in one
// transaction; see the package doc. The audit log gets one
// dbtools.AuditDatabaseImport entry for the import.
func Import(ctx context.Context, m *usermgmt.Manager, tools *dbtools.Tools, src *Source, opts Options) (*Report, error) {
	if m == nil || tools == nil || src == nil {
		return nil, errors.New("importref: Import needs a Manager, its dbtools feature and a Source")
	}
	if !slices.Contains(m.Features(), usermgmt.Feature(tools)) {
		return nil, errors.New("importref: tools is not a feature of m (enable it with usermgmt.WithFeature)")
	}
	nextAudit, err := checkTarget(ctx, tools)
	if err != nil {
		return nil, err
	}
	data, err := src.read(ctx)
	if err != nil {
		return nil, err
	}
	c := &converter{m: m, now: m.Config().Clock().UTC(), nextAudit: nextAudit,
		rep: &Report{Dialect: src.dialect, FileKeys: []FileKey{}, Notes: []string{}}}
	doc, err := c.convert(data)
	if err != nil {
		return nil, err
	}
	var copied []string
	if opts.FilesDir != "" {
		if copied, err = c.copyContents(ctx, opts.FilesDir); err != nil {
			return nil, err
		}
		c.rep.ContentsCopied = true
	}
	body, err := json.Marshal(doc)
	if err != nil {
		return nil, fmt.Errorf("importref: encode the import: %w", err)
	}
	res, err := tools.Import(ctx, bytes.NewReader(body), dbtools.ImportFill)
	if err != nil {
		c.removeContents(ctx, copied)
		return nil, c.explain(err)
	}
	c.rep.Result = res
	return c.rep, nil
}

// checkTarget refuses a target that holds accounts, and returns the first
// free audit_log id.
func checkTarget(ctx context.Context, tools *dbtools.Tools) (int64, error) {
	var buf bytes.Buffer
	if err := tools.Export(ctx, &buf); err != nil {
		return 0, fmt.Errorf("importref: read the target: %w", err)
	}
	var doc struct {
		Tables []struct {
			Name string `json:"name"`
			Rows []struct {
				ID json.Number `json:"id"`
			} `json:"rows"`
		} `json:"tables"`
	}
	dec := json.NewDecoder(&buf)
	dec.UseNumber()
	if err := dec.Decode(&doc); err != nil {
		return 0, fmt.Errorf("importref: read the target: %w", err)
	}
	next := int64(1)
	for _, t := range doc.Tables {
		switch t.Name {
		case "users", "files", "external_identities":
			if len(t.Rows) > 0 {
				return 0, ErrTargetNotEmpty.WithMessage(fmt.Sprintf(
					"The target database already holds %d %s row(s): import the reference into an empty database.", len(t.Rows), t.Name)).
					WithParam("table", t.Name)
			}
		case "audit_log":
			for _, r := range t.Rows {
				if n, err := r.ID.Int64(); err == nil && n >= next {
					next = n + 1
				}
			}
		}
	}
	return next, nil
}

// explain turns an error of the database import, which names rows of the
// export this package built, into one naming the reference's rows.
func (c *converter) explain(err error) error {
	var ue *usermgmt.Error
	if !errors.As(err, &ue) {
		return err
	}
	if n, ok := ue.Params["row"].(int); ok && n >= 1 && n <= len(c.userRows) {
		ref := c.userRows[n-1]
		return ErrInvalidRow.WithMessage(fmt.Sprintf("Table users, row %d (uuid %s): %s", ref.n, ref.key, ue.Message)).
			WithParam("table", "users").WithParam("row", ref.n).WithParam("key", ref.key).Wrap(err)
	}
	return err
}

// rowError is ErrInvalidRow for row n (1-based) of table, whose key is key.
func rowError(table string, n int, key any, format string, args ...any) error {
	return ErrInvalidRow.WithMessage(fmt.Sprintf("Table %s, row %d (%s): %s.", table, n, keyText(table, key), fmt.Sprintf(format, args...))).
		WithParam("table", table).WithParam("row", n).WithParam("key", fmt.Sprint(key))
}

func keyText(table string, key any) string {
	switch table {
	case "users":
		return fmt.Sprintf("uuid %v", key)
	case "external_accounts":
		return fmt.Sprintf("external_account_id %v", key)
	}
	return fmt.Sprintf("id %v", key)
}

// clip cuts s to at most n runes, as valid UTF-8.
func clip(s string, n int) string {
	s = strings.ToValidUTF8(s, "")
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}

// unixTime reads a reference time (int unix seconds); NULL is def.
func unixTime(v any, def time.Time) (string, error) {
	n, ok, err := integer(v)
	if err != nil {
		return "", err
	}
	if !ok {
		return def.Format(time.RFC3339Nano), nil
	}
	return time.Unix(n, 0).UTC().Format(time.RFC3339Nano), nil
}
