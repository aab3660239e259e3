// Package dump is the vocabulary of usermgmt's export document: the store
// interface that writes and reads it, the import modes and the import's
// result. Store implementations import it to implement Store; hosts use
// it through the dbtools feature, which aliases these names.
package dump

import (
	"context"
	"io"
	"net/http"

	"github.com/usermgmt/usermgmt"
)

// Store is what the dbtools feature needs of the Manager's store.
type Store interface {
	// ExportAll writes the export document of every table to w, from one
	// consistent snapshot.
	ExportAll(ctx context.Context, w io.Writer) error
	// ImportAll merges an export document read from r, in one transaction;
	// a malformed document is ErrBadExport.
	ImportAll(ctx context.Context, r io.Reader, mode Mode) (*Result, error)
}

// Mode says how an import treats a row that exists on both sides
// (rows missing from the database are always added).
type Mode int

const (
	// Fill fills only the columns that are empty in the database
	// (NULL, '', '[]' or '{}') with the upload's non-empty value: the
	// reference's import.
	Fill Mode = iota
	// Overwrite overwrites every column whose uploaded value is not
	// NULL and differs: the reference's (unreachable) recover.
	Overwrite
)

// Result counts what an import did, per table.
type Result struct {
	Tables []TableResult `json:"tables"`
}

// TableResult counts the rows of one table an import inserted, updated
// and left as they were.
type TableResult struct {
	Table     string `json:"table"`
	Inserted  int    `json:"inserted"`
	Updated   int    `json:"updated"`
	Unchanged int    `json:"unchanged"`
}

// ErrBadExport is an upload that is not an export this version can read.
var ErrBadExport = usermgmt.NewError(http.StatusBadRequest, "invalid_export", "The file is not a usermgmt export this version can read.")
