package importref

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"
	_ "modernc.org/sqlite" // the "sqlite" database/sql driver (store/sqlite's)
)

// Dialects of a reference database.
const (
	SQLite   = "sqlite"
	Postgres = "postgres"
)

// connectTimeout bounds a PostgreSQL dial unless the URI's
// connect_timeout says otherwise.
const connectTimeout = 10 * time.Second

// ErrBadURI wraps every error about a reference DATABASE_URI. Its
// messages never quote a PostgreSQL URI, so no password leaks.
var ErrBadURI = errors.New("importref: invalid reference DATABASE_URI")

// Source is a reference database, read only.
type Source struct {
	db      *sql.DB
	dialect string
	owned   bool
}

// NewSource reads the reference tables through db, of the given dialect
// (SQLite or Postgres); db stays the caller's to close.
func NewSource(db *sql.DB, dialect string) (*Source, error) {
	if dialect != SQLite && dialect != Postgres {
		return nil, fmt.Errorf("importref: unknown dialect %q", dialect)
	}
	return &Source{db: db, dialect: dialect}, nil
}

// Open opens the reference database uri names, in the forms of the
// reference's DATABASE_URI: sqlite+aiosqlite:///PATH (SQLAlchemy's three
// slashes; a fourth makes PATH absolute), sqlite://PATH, a bare path to
// the Project.db file, or postgresql[+psycopg]://... (postgres:// too).
// A SQLite file is opened read-only and must exist; a PostgreSQL
// connection reads in a read-only transaction. Close the Source when done.
func Open(ctx context.Context, uri string) (*Source, error) {
	scheme, rest, ok := strings.Cut(uri, "://")
	if !ok {
		scheme, rest = "file", uri
	}
	var s *Source
	switch strings.ToLower(scheme) {
	case "file", "sqlite", "sqlite+aiosqlite":
		path := rest
		if strings.ToLower(scheme) == "sqlite+aiosqlite" {
			if path, ok = strings.CutPrefix(rest, "/"); !ok {
				return nil, fmt.Errorf("%w: want sqlite+aiosqlite:///PATH (three slashes)", ErrBadURI)
			}
		}
		if path == "" || strings.ContainsAny(path, "?#\x00") {
			return nil, fmt.Errorf("%w: %q names no SQLite file", ErrBadURI, uri)
		}
		// mode=ro: the reference is never written; a missing file is an
		// error instead of a new empty database.
		q := url.Values{}
		q.Set("mode", "ro")
		q.Add("_pragma", "busy_timeout(5000)")
		db, err := sql.Open("sqlite", "file:"+(&url.URL{Path: path}).EscapedPath()+"?"+q.Encode())
		if err != nil {
			return nil, fmt.Errorf("importref: open the SQLite reference: %w", err)
		}
		s = &Source{db: db, dialect: SQLite, owned: true}
	case "postgres", "postgresql", "postgresql+psycopg", "postgresql+psycopg2":
		cfg, err := pgx.ParseConfig("postgresql://" + rest)
		if err != nil {
			// pgx's message may quote the URI, password included: keep
			// only the cause.
			var pce *pgconn.ParseConfigError
			if errors.As(err, &pce) && pce.Unwrap() != nil {
				return nil, fmt.Errorf("%w: malformed PostgreSQL URI: %v", ErrBadURI, pce.Unwrap())
			}
			return nil, fmt.Errorf("%w: malformed PostgreSQL URI", ErrBadURI)
		}
		if cfg.ConnectTimeout == 0 {
			cfg.ConnectTimeout = connectTimeout
		}
		if _, ok := cfg.RuntimeParams["application_name"]; !ok {
			cfg.RuntimeParams["application_name"] = "usermgmt-importref"
		}
		s = &Source{db: stdlib.OpenDB(*cfg), dialect: Postgres, owned: true}
	default:
		return nil, fmt.Errorf("%w: unsupported scheme %q (want sqlite+aiosqlite, sqlite or postgresql)", ErrBadURI, scheme)
	}
	if err := s.db.PingContext(ctx); err != nil {
		_ = s.db.Close()
		if s.dialect == Postgres {
			// pgx's connect errors name the user, host and database, never
			// the password.
			return nil, fmt.Errorf("importref: connect to the PostgreSQL reference: %w", err)
		}
		return nil, fmt.Errorf("importref: open the SQLite reference %q: %w", uri, err)
	}
	return s, nil
}

// Dialect names the reference's database, SQLite or Postgres.
func (s *Source) Dialect() string { return s.dialect }

// Close closes the database Open opened (not one given to NewSource).
func (s *Source) Close() error {
	if !s.owned {
		return nil
	}
	return s.db.Close()
}

// refTable is one table of the reference schema (seed-api.md section 2.1)
// and the columns the import reads.
type refTable struct {
	name     string
	columns  []string
	optional bool // the import runs without it
}

// refSchema is what a database must hold to be read as the reference's.
var refSchema = []refTable{
	{name: "users", columns: []string{"uuid", "username", "display_name", "email", "email_verified", "hashed_password",
		"otp_method", "otp_secret", "roles", "description", "created_at", "updated_at", "is_external_only", "is_active",
		"user_history", "blocked_uuids", "profile_picture_id"}},
	{name: "files", columns: []string{"id", "file_name", "file_type", "file_path", "description", "created_at", "created_by_uuid"}},
	{name: "external_accounts", columns: []string{"external_account_id", "provider", "username", "display_name", "email",
		"picture_url", "user_uuid"}},
	{name: "users_files_links", columns: []string{"user_uuid", "file_id"}},
	{name: "oauth_tokens", columns: []string{"id", "provider", "user_uuid"}, optional: true},
}

// row is one reference row: column name to driver value.
type row map[string]any

// refData is the reference database as read, in one snapshot.
type refData struct {
	tables map[string][]row
}

// read checks the schema and reads every table of it in one read-only
// transaction, rows in the order of their keys.
func (s *Source) read(ctx context.Context) (*refData, error) {
	var opts *sql.TxOptions
	if s.dialect == Postgres {
		opts = &sql.TxOptions{ReadOnly: true, Isolation: sql.LevelRepeatableRead}
	}
	tx, err := s.db.BeginTx(ctx, opts)
	if err != nil {
		return nil, fmt.Errorf("importref: read the reference: %w", err)
	}
	defer func() { _ = tx.Rollback() }()
	data := &refData{tables: map[string][]row{}}
	for _, t := range refSchema {
		cols, err := s.columns(ctx, tx, t.name)
		if err != nil {
			return nil, err
		}
		if cols == nil {
			if t.optional {
				continue
			}
			return nil, ErrNotReference.WithMessage(fmt.Sprintf("The database is not the reference service's: it has no table %q.", t.name)).
				WithParam("table", t.name)
		}
		for _, c := range t.columns {
			if !slices.Contains(cols, c) {
				return nil, ErrNotReference.WithMessage(fmt.Sprintf("The database is not the reference service's: table %q has no column %q.", t.name, c)).
					WithParam("table", t.name).WithParam("column", c)
			}
		}
		rows, err := s.rows(ctx, tx, t)
		if err != nil {
			return nil, err
		}
		data.tables[t.name] = rows
	}
	return data, nil
}

// columns returns the column names of table, nil when there is no such
// table.
func (s *Source) columns(ctx context.Context, tx *sql.Tx, table string) ([]string, error) {
	var q string
	if s.dialect == Postgres {
		q = "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() AND table_name = $1"
	} else {
		q = "SELECT name FROM pragma_table_info(?)"
	}
	rs, err := tx.QueryContext(ctx, q, table)
	if err != nil {
		return nil, fmt.Errorf("importref: read the columns of %s: %w", table, err)
	}
	defer rs.Close()
	var cols []string
	for rs.Next() {
		var c string
		if err := rs.Scan(&c); err != nil {
			return nil, fmt.Errorf("importref: read the columns of %s: %w", table, err)
		}
		cols = append(cols, c)
	}
	return cols, rs.Err()
}

// rows reads the columns the import needs of every row of t.
func (s *Source) rows(ctx context.Context, tx *sql.Tx, t refTable) ([]row, error) {
	quoted := make([]string, len(t.columns))
	for i, c := range t.columns {
		quoted[i] = `"` + c + `"`
	}
	order := `"` + t.columns[0] + `"`
	if t.name == "users_files_links" {
		order = `"file_id", "user_uuid"`
	}
	rs, err := tx.QueryContext(ctx, "SELECT "+strings.Join(quoted, ", ")+` FROM "`+t.name+`" ORDER BY `+order)
	if err != nil {
		return nil, fmt.Errorf("importref: read %s: %w", t.name, err)
	}
	defer rs.Close()
	var out []row
	vals := make([]any, len(t.columns))
	ptrs := make([]any, len(t.columns))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	for rs.Next() {
		if err := rs.Scan(ptrs...); err != nil {
			return nil, fmt.Errorf("importref: read %s: %w", t.name, err)
		}
		r := make(row, len(t.columns))
		for i, c := range t.columns {
			r[c] = vals[i]
		}
		out = append(out, r)
	}
	return out, rs.Err()
}

// The readers of a driver value: SQLite gives int64, float64, string or
// []byte; pgx gives the Go type of the column (bool, int32/int64, string,
// and for JSON columns a decoded value).

// text reads a string column; NULL is "".
func text(v any) (string, error) {
	switch s := v.(type) {
	case nil:
		return "", nil
	case string:
		return s, nil
	case []byte:
		return string(s), nil
	case int64:
		return strconv.FormatInt(s, 10), nil
	}
	return "", fmt.Errorf("want text, got %T", v)
}

// boolean reads a boolean column; NULL is def.
func boolean(v any, def bool) (bool, error) {
	switch b := v.(type) {
	case nil:
		return def, nil
	case bool:
		return b, nil
	case int64:
		return b != 0, nil
	case string:
		return strconv.ParseBool(b)
	}
	return false, fmt.Errorf("want a boolean, got %T", v)
}

// integer reads an integer column; ok is false for NULL.
func integer(v any) (n int64, ok bool, err error) {
	switch x := v.(type) {
	case nil:
		return 0, false, nil
	case int64:
		return x, true, nil
	case int32:
		return int64(x), true, nil
	case float64:
		return int64(x), true, nil
	case string:
		n, err := strconv.ParseInt(strings.TrimSpace(x), 10, 64)
		return n, err == nil, err
	case []byte:
		n, err := strconv.ParseInt(strings.TrimSpace(string(x)), 10, 64)
		return n, err == nil, err
	}
	return 0, false, fmt.Errorf("want an integer, got %T", v)
}

// jsonValue decodes a JSON column into dst; NULL leaves dst as it is.
func jsonValue(v any, dst any) error {
	var raw []byte
	switch j := v.(type) {
	case nil:
		return nil
	case string:
		raw = []byte(j)
	case []byte:
		raw = j
	default: // pgx decoded it already
		b, err := json.Marshal(j)
		if err != nil {
			return err
		}
		raw = b
	}
	if strings.TrimSpace(string(raw)) == "null" {
		return nil
	}
	return json.Unmarshal(raw, dst)
}
