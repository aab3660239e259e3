package store

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools/dump"
)

// The export format: one JSON document, the same from SQLite and
// PostgreSQL.
//
//	{"format": "usermgmt-export", "version": 1, "dialect": "sqlite",
//	 "exported_at": "2025-03-14T15:09:26Z",
//	 "tables": [{"name": "users", "key": ["uuid"], "rows": [{"uuid": "...", ...}, ...]}, ...]}
//
// Rows are objects keyed by column name (the columns read from the
// database, so a column added by a migration is exported without a code
// change), sorted by the table's key. Values are normalised: times are
// RFC 3339 strings in UTC, booleans are JSON booleans, integers numbers,
// bytes base64 strings, JSON columns their compact JSON text, NULL null.

// ExportFormat and ExportVersion identify the export document.
const (
	ExportFormat  = "usermgmt-export"
	ExportVersion = 1
)

// exportTable is one table of the export.
type exportTable struct {
	name string
	key  []string // the primary key columns
	// afterChange, when set, is run by an import that inserted or updated
	// rows of the table.
	afterChange string
	// appendOnly tables are a record, not state: an import adds the rows
	// it lacks and never changes one that exists.
	appendOnly bool
	// check, when set, refuses a row the application could not read back.
	check func(row map[string]any) error
}

// exportTables lists every table an export carries, parents before the
// tables that reference them (imports insert in this order). A migration
// that adds a table adds one line here; its columns are read from the
// database.
//
// What an export is: the lasting state of the accounts, portable to
// another instance. Left out, on purpose:
//   - one_time_tokens (verification and reset links, emailed codes, login
//     challenges) and oauth_states (pending provider logins): short-lived
//     secrets (minutes to a day) bound to a flow in progress; carrying them
//     would only widen where a live token's hash can be read, and a user
//     whose link dies with the move asks for a new one;
//   - passkey_ceremonies (passkey registrations and sign-ins begun):
//     five-minute challenges bound to a flow in progress, like oauth_states;
//   - otp_state and login_failures: the two-factor and password lockout
//     counters, transient by nature (a lockout ends by itself);
//   - feature_flags_version: the change counter the instances of one
//     database poll; an import that changes feature_flags bumps it;
//   - webhook_deliveries (the webhook outbox): sends to this instance's
//     endpoints, signed with its secrets; let the outbox drain (no
//     pending rows in GET /admin/webhooks/deliveries?status=pending)
//     before a move;
//   - file_deletions: pending removals from this instance's file storage,
//     which the export does not carry (files rows are the metadata: the
//     contents are copied with the storage, under the same storage_key).
//
// Carried secrets stay as stored: recovery_codes and api_keys hold hashes
// only (an API key works on the other instance as it did here), and
// external_identities.tokens are sealed by the Manager's key (unreadable
// on an instance with another key, until the user logs in with the
// provider again).
var exportTables = []exportTable{
	{name: "users", key: []string{"uuid"}},
	{name: "sessions", key: []string{"id"}},
	{name: "audit_log", key: []string{"id"}, appendOnly: true},
	{name: "recovery_codes", key: []string{"id"}},
	{name: "feature_flags", key: []string{"name"}, check: checkFlagRow,
		afterChange: "UPDATE feature_flags_version SET version = version + 1 WHERE id = 1"},
	{name: "files", key: []string{"id"}},
	{name: "external_identities", key: []string{"provider", "subject"}},
	{name: "passkeys", key: []string{"id"}},
	{name: "api_keys", key: []string{"id"}},
}

// checkFlagRow refuses a flag that the flag set could not load (a bad name
// or value would otherwise fail every later read of the flags).
func checkFlagRow(row map[string]any) error {
	name, _ := row["name"].(string)
	value, _ := row["value"].(string)
	nameJSON, err := json.Marshal(name)
	if err != nil {
		return err
	}
	_, err = usermgmt.ParseFlags([]byte("{" + string(nameJSON) + ":" + value + "}"))
	return err
}

// ExportTables returns the names of the tables an export carries, in
// order.
func ExportTables() []string {
	out := make([]string, len(exportTables))
	for i, t := range exportTables {
		out[i] = t.name
	}
	return out
}

// columnKind is how a column's values are normalised.
type columnKind uint8

const (
	kindText columnKind = iota
	kindBool
	kindInt
	kindTime
	kindBytes
	kindJSON
)

// kindOf maps a database type name (PostgreSQL's or SQLite's declared
// type) to its kind.
func kindOf(dbType string) columnKind {
	t := strings.ToUpper(dbType)
	switch {
	case strings.HasPrefix(t, "BOOL"):
		return kindBool
	case strings.Contains(t, "INT") || t == "SERIAL" || t == "BIGSERIAL":
		return kindInt
	case strings.HasPrefix(t, "TIMESTAMP") || t == "DATE" || t == "DATETIME":
		return kindTime
	case t == "BYTEA" || t == "BLOB":
		return kindBytes
	case t == "JSON" || t == "JSONB":
		return kindJSON
	}
	return kindText
}

type column struct {
	name string
	kind columnKind
}

// quoteIdent quotes an identifier (both dialects use double quotes).
func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

// ExportAll implements usermgmt.DumpStore: one read transaction, so the
// tables agree with each other; rows are streamed to w.
func (h *handle) ExportAll(ctx context.Context, w io.Writer) error {
	opts := &sql.TxOptions{ReadOnly: true}
	if h.dialect == DialectPostgres {
		opts.Isolation = sql.LevelRepeatableRead
	} else {
		opts = nil
	}
	return h.idb.RunInTx(ctx, opts, func(ctx context.Context, tx bun.Tx) error {
		head, _ := json.Marshal(map[string]any{
			"format": ExportFormat, "version": ExportVersion, "dialect": h.dialect,
			"exported_at": time.Now().UTC().Format(time.RFC3339),
		})
		// Reopen the object to append the tables.
		if _, err := w.Write(append(head[:len(head)-1], []byte(`,"tables":[`)...)); err != nil {
			return err
		}
		for i, t := range exportTables {
			if i > 0 {
				if _, err := io.WriteString(w, ","); err != nil {
					return err
				}
			}
			if err := h.exportTable1(ctx, tx, t, w); err != nil {
				return err
			}
		}
		_, err := io.WriteString(w, "]}\n")
		return err
	})
}

// readColumns returns a table's columns, in the database's order.
func (h *handle) readColumns(ctx context.Context, db bun.IDB, table string) ([]column, error) {
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table)+" WHERE 1 = 0")
	if err != nil {
		return nil, h.fail("read columns of "+table, err)
	}
	defer rows.Close()
	types, err := rows.ColumnTypes()
	if err != nil {
		return nil, h.fail("read columns of "+table, err)
	}
	cols := make([]column, len(types))
	for i, ct := range types {
		cols[i] = column{name: ct.Name(), kind: kindOf(ct.DatabaseTypeName())}
	}
	return cols, rows.Err()
}

func (h *handle) exportTable1(ctx context.Context, db bun.IDB, t exportTable, w io.Writer) error {
	cols, err := h.readColumns(ctx, db, t.name)
	if err != nil {
		return err
	}
	keys := make([]string, len(t.key))
	for i, k := range t.key {
		keys[i] = quoteIdent(k)
	}
	head, _ := json.Marshal(map[string]any{"name": t.name, "key": t.key})
	if _, err := w.Write(append(head[:len(head)-1], []byte(`,"rows":[`)...)); err != nil {
		return err
	}
	rows, err := db.QueryContext(ctx, "SELECT * FROM "+quoteIdent(t.name)+" ORDER BY "+strings.Join(keys, ", "))
	if err != nil {
		return h.fail("export "+t.name, err)
	}
	defer rows.Close()
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	first := true
	for rows.Next() {
		if err := rows.Scan(ptrs...); err != nil {
			return h.fail("export "+t.name, err)
		}
		obj := make(map[string]any, len(cols))
		for i, c := range cols {
			v, err := normalise(c.kind, vals[i])
			if err != nil {
				return fmt.Errorf("store: export %s.%s: %w", t.name, c.name, err)
			}
			obj[c.name] = v
		}
		b, err := json.Marshal(obj)
		if err != nil {
			return fmt.Errorf("store: export %s: %w", t.name, err)
		}
		if !first {
			b = append([]byte(","), b...)
		}
		first = false
		if _, err := w.Write(b); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return h.fail("export "+t.name, err)
	}
	_, err = io.WriteString(w, "]}")
	return err
}

// sqliteTimeLayouts are the forms a time takes in SQLite text.
var sqliteTimeLayouts = []string{"2006-01-02 15:04:05.999999999-07:00", "2006-01-02 15:04:05.999999999Z07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"}

// normalise turns a driver value into its export form.
func normalise(kind columnKind, v any) (any, error) {
	if v == nil {
		return nil, nil
	}
	switch kind {
	case kindBool:
		switch b := v.(type) {
		case bool:
			return b, nil
		case int64:
			return b != 0, nil
		}
	case kindInt:
		switch n := v.(type) {
		case int64:
			return n, nil
		case int32:
			return int64(n), nil
		case float64:
			return int64(n), nil
		}
	case kindTime:
		switch t := v.(type) {
		case time.Time:
			return t.UTC().Format(time.RFC3339Nano), nil
		case string:
			for _, l := range sqliteTimeLayouts {
				if p, err := time.Parse(l, t); err == nil {
					return p.UTC().Format(time.RFC3339Nano), nil
				}
			}
			return nil, fmt.Errorf("unreadable time %q", t)
		}
	case kindBytes:
		switch b := v.(type) {
		case []byte:
			return base64.StdEncoding.EncodeToString(b), nil
		case string:
			return base64.StdEncoding.EncodeToString([]byte(b)), nil
		}
	case kindJSON:
		var raw []byte
		switch j := v.(type) {
		case []byte:
			raw = j
		case string:
			raw = []byte(j)
		default:
			b, err := json.Marshal(j)
			if err != nil {
				return nil, err
			}
			raw = b
		}
		var buf bytes.Buffer
		if err := json.Compact(&buf, raw); err != nil {
			return nil, err
		}
		return buf.String(), nil
	default:
		switch s := v.(type) {
		case string:
			return s, nil
		case []byte:
			return string(s), nil
		case time.Time: // a driver that parsed text it recognised
			return s.UTC().Format(time.RFC3339Nano), nil
		}
		return fmt.Sprint(v), nil
	}
	return nil, fmt.Errorf("unexpected %T", v)
}

// exportDoc is an export as read back.
type exportDoc struct {
	Format  string `json:"format"`
	Version int    `json:"version"`
	Tables  []struct {
		Name string                       `json:"name"`
		Rows []map[string]json.RawMessage `json:"rows"`
	} `json:"tables"`
}

// badExport returns ErrBadExport with a reason.
func badExport(format string, args ...any) error {
	return dump.ErrBadExport.WithMessage("Not a usermgmt export: " + fmt.Sprintf(format, args...) + ".")
}

// parseExport decodes and checks an export document.
func parseExport(r io.Reader) (*exportDoc, error) {
	dec := json.NewDecoder(r)
	dec.UseNumber()
	var doc exportDoc
	if err := dec.Decode(&doc); err != nil {
		return nil, badExport("malformed JSON")
	}
	if doc.Format != ExportFormat {
		return nil, badExport("format is %q", doc.Format)
	}
	if doc.Version != ExportVersion {
		return nil, badExport("version %d is not %d", doc.Version, ExportVersion)
	}
	seen := map[string]bool{}
	for _, t := range doc.Tables {
		if seen[t.Name] {
			return nil, badExport("table %q appears twice", t.Name)
		}
		seen[t.Name] = true
	}
	return &doc, nil
}

// ImportAll implements usermgmt.DumpStore. Tables the export lacks are left
// alone and tables the database lacks are skipped; columns likewise. Rows
// are matched on the table's whole key.
func (h *handle) ImportAll(ctx context.Context, r io.Reader, mode dump.Mode) (*dump.Result, error) {
	doc, err := parseExport(r)
	if err != nil {
		return nil, err
	}
	res := &dump.Result{Tables: []dump.TableResult{}}
	err = h.idb.RunInTx(ctx, nil, func(ctx context.Context, tx bun.Tx) error {
		for _, t := range exportTables {
			for _, dt := range doc.Tables {
				if dt.Name != t.name {
					continue
				}
				ti, err := h.importTable(ctx, tx, t, dt.Rows, mode)
				if err != nil {
					return err
				}
				res.Tables = append(res.Tables, ti)
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	return res, nil
}

func (h *handle) importTable(ctx context.Context, tx bun.Tx, t exportTable, rows []map[string]json.RawMessage, mode dump.Mode) (dump.TableResult, error) {
	ti := dump.TableResult{Table: t.name}
	cols, err := h.readColumns(ctx, tx, t.name)
	if err != nil {
		return ti, err
	}
	for n, raw := range rows {
		in := map[string]any{}
		for _, c := range cols {
			rv, ok := raw[c.name]
			if !ok {
				continue
			}
			v, err := h.denormalise(c.kind, rv)
			if err != nil {
				return ti, badExport("%s row %d column %s: %v", t.name, n+1, c.name, err)
			}
			in[c.name] = v
		}
		if t.check != nil {
			if err := t.check(in); err != nil {
				return ti, badExport("%s row %d: %v", t.name, n+1, err)
			}
		}
		where, args := []string{}, []any{}
		for _, k := range t.key {
			v, ok := in[k]
			if !ok || v == nil {
				return ti, badExport("%s row %d lacks its key %s", t.name, n+1, k)
			}
			where = append(where, quoteIdent(k)+" = ?")
			args = append(args, v)
		}
		live, found, err := h.selectRow(ctx, tx, t.name, cols, strings.Join(where, " AND "), args)
		if err != nil {
			return ti, err
		}
		if !found {
			if _, err := tx.NewInsert().Model(&in).TableExpr(quoteIdent(t.name)).Exec(ctx); err != nil {
				return ti, h.importFail(t.name, n, err)
			}
			ti.Inserted++
			continue
		}
		if t.appendOnly {
			ti.Unchanged++
			continue
		}
		set := map[string]any{}
		for _, c := range cols {
			v, ok := in[c.name]
			if !ok || v == nil || isKey(t, c.name) {
				continue
			}
			lv, _ := normalise(c.kind, live[c.name])
			nv, _ := json.Marshal(v)
			if mode == dump.Fill && isEmpty(lv) && !isEmpty(rawValue(raw[c.name])) ||
				mode == dump.Overwrite && !sameValue(lv, raw[c.name], nv) {
				set[c.name] = v
			}
		}
		if len(set) == 0 {
			ti.Unchanged++
			continue
		}
		q := tx.NewUpdate().Model(&set).TableExpr(quoteIdent(t.name))
		for i, w := range where {
			q = q.Where(w, args[i])
		}
		if _, err := q.Exec(ctx); err != nil {
			return ti, h.importFail(t.name, n, err)
		}
		ti.Updated++
	}
	if err := h.resetSequence(ctx, tx, t); err != nil {
		return ti, err
	}
	if t.afterChange != "" && ti.Inserted+ti.Updated > 0 {
		if _, err := tx.ExecContext(ctx, t.afterChange); err != nil {
			return ti, h.fail("import "+t.name, err)
		}
	}
	return ti, nil
}

// importFail reports a row the database refused: a conflict is a 409
// naming the table and row, anything else an internal error.
func (h *handle) importFail(table string, n int, err error) error {
	if h.classify(err).constraintViolation() && !errors.Is(h.fail("", err), usermgmt.ErrConflict) {
		// A NULL in a required column, a check, a row whose parent is
		// missing: the upload is wrong, not the server.
		return badExport("row %d of %s breaks a constraint of the database (%v)", n+1, table, err)
	}
	err = h.fail("import "+table, err)
	if errors.Is(err, usermgmt.ErrConflict) {
		return usermgmt.ErrConflict.WithMessage(fmt.Sprintf("Row %d of %s conflicts with a different row of the database.", n+1, table)).Wrap(err)
	}
	return err
}

// resetSequence moves a PostgreSQL identity past the imported IDs (SQLite's
// AUTOINCREMENT follows explicit IDs by itself).
func (h *handle) resetSequence(ctx context.Context, tx bun.Tx, t exportTable) error {
	if h.dialect != DialectPostgres || len(t.key) != 1 {
		return nil
	}
	var seq sql.NullString
	err := tx.QueryRowContext(ctx, "SELECT pg_get_serial_sequence(?, ?)", quoteIdent(t.name), t.key[0]).Scan(&seq)
	if err != nil {
		return h.fail("find the sequence of "+t.name, err)
	}
	if !seq.Valid {
		return nil
	}
	q := fmt.Sprintf("SELECT setval(?, (SELECT COALESCE(MAX(%s), 0) + 1 FROM %s), false)", quoteIdent(t.key[0]), quoteIdent(t.name))
	if _, err := tx.ExecContext(ctx, q, seq.String); err != nil {
		return h.fail("reset sequence of "+t.name, err)
	}
	return nil
}

func isKey(t exportTable, col string) bool {
	for _, k := range t.key {
		if k == col {
			return true
		}
	}
	return false
}

// selectRow reads one row as driver values by column name.
func (h *handle) selectRow(ctx context.Context, tx bun.Tx, table string, cols []column, where string, args []any) (map[string]any, bool, error) {
	rows, err := tx.QueryContext(ctx, "SELECT * FROM "+quoteIdent(table)+" WHERE "+where, args...)
	if err != nil {
		return nil, false, h.fail("import "+table, err)
	}
	defer rows.Close()
	if !rows.Next() {
		return nil, false, rows.Err()
	}
	vals := make([]any, len(cols))
	ptrs := make([]any, len(cols))
	for i := range vals {
		ptrs[i] = &vals[i]
	}
	if err := rows.Scan(ptrs...); err != nil {
		return nil, false, h.fail("import "+table, err)
	}
	out := make(map[string]any, len(cols))
	for i, c := range cols {
		out[c.name] = vals[i]
	}
	return out, true, rows.Err()
}

// denormalise turns an exported value into a query argument for a column
// of the given kind.
func (h *handle) denormalise(kind columnKind, raw json.RawMessage) (any, error) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	switch kind {
	case kindBool:
		var b bool
		if err := json.Unmarshal(raw, &b); err != nil {
			return nil, errors.New("want a boolean")
		}
		return b, nil
	case kindInt:
		n, err := strconv.ParseInt(string(raw), 10, 64)
		if err != nil {
			return nil, errors.New("want an integer")
		}
		return n, nil
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return nil, errors.New("want a string")
	}
	switch kind {
	case kindTime:
		t, err := time.Parse(time.RFC3339Nano, s)
		if err != nil {
			return nil, errors.New("want an RFC 3339 time")
		}
		return dbTime(t), nil
	case kindBytes:
		b, err := base64.StdEncoding.DecodeString(s)
		if err != nil {
			return nil, errors.New("want base64")
		}
		return b, nil
	case kindJSON:
		if !json.Valid([]byte(s)) {
			return nil, errors.New("want JSON text")
		}
	}
	return s, nil
}

// rawValue decodes an exported value for comparison.
func rawValue(raw json.RawMessage) any {
	var v any
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if dec.Decode(&v) != nil {
		return nil
	}
	return v
}

// isEmpty reports whether a normalised value counts as empty for
// ImportFill: NULL, ” and an empty JSON list or object.
func isEmpty(v any) bool {
	switch s := v.(type) {
	case nil:
		return true
	case string:
		return s == "" || s == "[]" || s == "{}"
	}
	return false
}

// sameValue compares a normalised live value with an uploaded one.
func sameValue(live any, raw json.RawMessage, _ []byte) bool {
	lb, err := json.Marshal(live)
	if err != nil {
		return false
	}
	a, b := rawValue(lb), rawValue(raw)
	if ta, ok := a.(string); ok {
		if tb, ok := b.(string); ok {
			// Times compare as instants, whatever their spelling.
			t1, e1 := time.Parse(time.RFC3339Nano, ta)
			t2, e2 := time.Parse(time.RFC3339Nano, tb)
			if e1 == nil && e2 == nil {
				return t1.Equal(t2)
			}
			return ta == tb
		}
	}
	return fmt.Sprint(a) == fmt.Sprint(b)
}
