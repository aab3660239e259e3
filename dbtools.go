package usermgmt

import (
	"context"
	"io"
)

// Database export, import and recovery: a portable, versioned JSON document
// holding every table, the same from SQLite and PostgreSQL (the store
// package defines the format and its table list).

// ImportMode says how an import treats a row that exists on both sides
// (rows missing from the database are always added).
type ImportMode int

const (
	// ImportFill fills only the columns that are empty in the database
	// (NULL, '', '[]' or '{}') with the upload's non-empty value: the
	// reference's import.
	ImportFill ImportMode = iota
	// ImportOverwrite overwrites every column whose uploaded value is not
	// NULL and differs: the reference's (unreachable) recover.
	ImportOverwrite
)

// ImportResult counts what an import did, per table.
type ImportResult struct {
	Tables []TableImport `json:"tables"`
}

// TableImport counts the rows of one table an import inserted, updated
// and left as they were.
type TableImport struct {
	Table     string `json:"table"`
	Inserted  int    `json:"inserted"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
}

// ErrBadExport is an upload that is not an export this version can read.
var ErrBadExport = newError(400, "invalid_export", "The file is not a usermgmt export this version can read.")

// ExportDatabase writes the export of every table to w. It is the trusted
// call; Actor.ExportDatabase is the checked one.
func (m *Manager) ExportDatabase(ctx context.Context, w io.Writer) error {
	return m.store.ExportAll(ctx, w)
}

// ImportDatabase merges an export read from r into the database in one
// transaction, then drops the caches (every user may have changed).
func (m *Manager) ImportDatabase(ctx context.Context, r io.Reader, mode ImportMode) (*ImportResult, error) {
	res, err := m.store.ImportAll(ctx, r, mode)
	m.cache.purge()
	if err != nil {
		return nil, err
	}
	m.log.WarnContext(ctx, "database imported", "mode", mode)
	return res, nil
}

// ExportDatabase writes the export (policy database.export).
func (a *Actor) ExportDatabase(ctx context.Context, w io.Writer) error {
	if err := a.authorize(ctx, AccessRequest{Resource: "database", Action: "export"}); err != nil {
		return err
	}
	if err := a.m.ExportDatabase(ctx, w); err != nil {
		return err
	}
	return a.m.audit(ctx, a.m.store, a.uuid(), "", AuditDatabaseExport, "")
}

// ImportDatabase merges an export (policy database.import for ImportFill,
// database.recover for ImportOverwrite).
func (a *Actor) ImportDatabase(ctx context.Context, r io.Reader, mode ImportMode) (*ImportResult, error) {
	action := "import"
	if mode == ImportOverwrite {
		action = "recover"
	}
	if err := a.authorize(ctx, AccessRequest{Resource: "database", Action: action}); err != nil {
		return nil, err
	}
	res, err := a.m.ImportDatabase(ctx, r, mode)
	if err != nil {
		return nil, err
	}
	_ = a.m.audit(ctx, a.m.store, a.uuid(), "", AuditDatabaseImport, action)
	return res, nil
}

// Audit actions of the database tools: an export, and an import or a
// recovery (whose detail says which).
const (
	AuditDatabaseExport = "database-export"
	AuditDatabaseImport = "database-import"
)
