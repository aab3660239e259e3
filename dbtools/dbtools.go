// Package dbtools is the database export, import and recovery of usermgmt:
// a portable, versioned JSON document holding every table, the same from
// SQLite and PostgreSQL, and the admin routes that serve it
// (GET /db/export, POST /db/import, POST /db/recover).
//
// It is a feature over the usermgmt core: enable it with
//
//	tools := dbtools.New(dbtools.Options{})
//	m, err := usermgmt.New(cfg, usermgmt.WithFeature(tools))
//
// and httpadapter.New(m, ...) serves its routes. The Manager's store must
// implement Store (the store package does); New fails otherwise. The
// policy decides who may use it: resource "database", actions "export",
// "import" (fill what is empty) and "recover" (overwrite), admins only by
// default.
package dbtools

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools/dump"
)

// The export document's vocabulary lives in package dump, which the store
// implementations import without linking the feature; these aliases let
// a host use the feature through this package alone.
type (
	// Store is what the feature needs of the Manager's store (dump.Store).
	Store = dump.Store
	// ImportMode says how an import treats a row on both sides (dump.Mode).
	ImportMode = dump.Mode
	// ImportResult counts what an import did, per table (dump.Result).
	ImportResult = dump.Result
	// TableImport counts one table of an import (dump.TableResult).
	TableImport = dump.TableResult
)

// The import modes (see dump.Mode).
const (
	ImportFill      = dump.Fill
	ImportOverwrite = dump.Overwrite
)

// ErrBadExport is an upload that is not an export this version can read.
var ErrBadExport = dump.ErrBadExport

// Audit actions of the database tools: an export, and an import or a
// recovery (whose detail says which).
const (
	AuditDatabaseExport = "database-export"
	AuditDatabaseImport = "database-import"
)

// DefaultMaxImportBytes bounds an uploaded export unless
// Options.MaxImportBytes says otherwise.
const DefaultMaxImportBytes = 64 << 20

// Options configures the feature.
type Options struct {
	// MaxImportBytes bounds the upload of POST /db/import and /db/recover
	// (smaller or larger than httpadapter's general body limit). Default
	// DefaultMaxImportBytes.
	MaxImportBytes int64
}

// Tools is the feature: pass it to usermgmt.WithFeature.
type Tools struct {
	opts Options
	m    *usermgmt.Manager
	st   Store
}

// New returns the feature, to enable with usermgmt.WithFeature.
func New(opts Options) *Tools {
	if opts.MaxImportBytes <= 0 {
		opts.MaxImportBytes = DefaultMaxImportBytes
	}
	return &Tools{opts: opts}
}

// FeatureName implements usermgmt.Feature.
func (t *Tools) FeatureName() string { return "dbtools" }

// InitFeature implements usermgmt.Feature: the store must implement Store.
func (t *Tools) InitFeature(m *usermgmt.Manager) error {
	st, err := usermgmt.NeedStore[Store](m.Store(), t.FeatureName())
	if err != nil {
		return err
	}
	t.m, t.st = m, st
	return nil
}

// Export writes the export of every table to w. It is the trusted call;
// ExportAs is the checked one.
func (t *Tools) Export(ctx context.Context, w io.Writer) error {
	return t.st.ExportAll(ctx, w)
}

// Import merges an export read from r into the database in one
// transaction, then drops the Manager's caches (every user may have
// changed).
//
// When the Manager's hasher is a usermgmt.HashValidator (package hashers'
// is), every non-empty password_hash of the users table must pass it:
// otherwise nothing is imported and the error, ErrInvalidPasswordHash,
// names the first bad row (1-based) in its message and its "row" param.
func (t *Tools) Import(ctx context.Context, r io.Reader, mode ImportMode) (*ImportResult, error) {
	body, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("dbtools: read import: %w", err)
	}
	if err := t.checkHashes(body); err != nil {
		return nil, err
	}
	res, err := t.st.ImportAll(ctx, bytes.NewReader(body), mode)
	t.m.ForgetCached()
	if err != nil {
		return nil, err
	}
	t.m.Config().Logger.WarnContext(ctx, "database imported", slog.Int("mode", int(mode)))
	return res, nil
}

// ExportAs writes the export as actor (policy database.export), and
// audits it.
func (t *Tools) ExportAs(ctx context.Context, actor *usermgmt.User, w io.Writer) error {
	if err := t.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "database", Action: "export"}); err != nil {
		return err
	}
	if err := t.Export(ctx, w); err != nil {
		return err
	}
	return t.m.AppendAudit(ctx, t.m.Store(), usermgmt.AuditEntry{ActorUUID: uuidOf(actor), Action: AuditDatabaseExport})
}

// ImportAs merges an export as actor (policy database.import for
// ImportFill, database.recover for ImportOverwrite), and audits it.
func (t *Tools) ImportAs(ctx context.Context, actor *usermgmt.User, r io.Reader, mode ImportMode) (*ImportResult, error) {
	action := "import"
	if mode == ImportOverwrite {
		action = "recover"
	}
	if err := t.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "database", Action: action}); err != nil {
		return nil, err
	}
	res, err := t.Import(ctx, r, mode)
	if err != nil {
		return nil, err
	}
	_ = t.m.AppendAudit(ctx, t.m.Store(), usermgmt.AuditEntry{ActorUUID: uuidOf(actor), Action: AuditDatabaseImport, Detail: action})
	return res, nil
}

// checkHashes validates the password hashes of the users rows of an
// export. A document that does not parse is left to ImportAll to refuse.
func (t *Tools) checkHashes(body []byte) error {
	v, ok := t.m.Hasher().(usermgmt.HashValidator)
	if !ok {
		return nil
	}
	var doc struct {
		Tables []struct {
			Name string `json:"name"`
			Rows []struct {
				PasswordHash *string `json:"password_hash"`
			} `json:"rows"`
		} `json:"tables"`
	}
	if json.Unmarshal(body, &doc) != nil {
		return nil
	}
	for _, tb := range doc.Tables {
		if tb.Name != "users" {
			continue
		}
		for i, row := range tb.Rows {
			if row.PasswordHash == nil || *row.PasswordHash == "" {
				continue
			}
			if err := v.ValidateHash(*row.PasswordHash); err != nil {
				return usermgmt.ErrInvalidPasswordHash.
					WithMessage(fmt.Sprintf("Row %d of table users: the password hash is refused (%v).", i+1, err)).
					WithParam("row", i+1)
			}
		}
	}
	return nil
}

func uuidOf(u *usermgmt.User) string {
	if u == nil {
		return ""
	}
	return u.UUID
}
