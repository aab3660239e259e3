package store

import (
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5/pgconn"
	"modernc.org/sqlite"

	"github.com/usermgmt/usermgmt"
)

// SQLite extended result codes and PostgreSQL SQLSTATEs the store maps.
const (
	sqliteBusy                 = 5    // SQLITE_BUSY (primary code)
	sqliteConstraint           = 19   // SQLITE_CONSTRAINT (primary code)
	sqliteConstraintForeignKey = 787  // SQLITE_CONSTRAINT_FOREIGNKEY
	sqliteConstraintPrimaryKey = 1555 // SQLITE_CONSTRAINT_PRIMARYKEY
	sqliteConstraintUnique     = 2067 // SQLITE_CONSTRAINT_UNIQUE

	pgUniqueViolation     = "23505"
	pgForeignKeyViolation = "23503"
)

// conflictFields names the field each unique constraint protects. Keys are
// PostgreSQL constraint or index names; SQLite reports the same index names
// for expression indexes and "table.column" for column constraints.
var conflictFields = map[string]string{
	"users_pkey":            "uuid",
	"users.uuid":            "uuid",
	"users_username_key":    "username",
	"users.username":        "username",
	"users_email_lower_key": "email",
	"sessions_pkey":         "id",
	"sessions.id":           "id",
	"files_owner_name_key":  "file_name",
	"files.owner_uuid":      "file_name",

	"external_identities_pkey":              "external_identity",
	"external_identities.provider":          "external_identity",
	"external_identities_user_provider_key": "external_provider",
	"external_identities.user_uuid":         "external_provider",
	"oauth_states_pkey":                     "state",
	"oauth_states.state_hash":               "state",
}

// fail wraps a database error for op ("insert user", ...): unique violations
// become usermgmt.ConflictOn, a foreign key naming a missing row and
// sql.ErrNoRows become usermgmt.ErrNotFound, and everything else is wrapped
// as an internal error with its context.
func fail(op string, err error) error {
	if errors.Is(err, sql.ErrNoRows) {
		return fmt.Errorf("store: %s: %w", op, usermgmt.ErrNotFound)
	}
	var se *sqlite.Error
	if errors.As(err, &se) {
		switch se.Code() {
		case sqliteConstraintUnique, sqliteConstraintPrimaryKey:
			return fmt.Errorf("store: %s: %w", op, usermgmt.ConflictOn(sqliteConflictField(se.Error()), err))
		case sqliteConstraintForeignKey:
			return fmt.Errorf("store: %s: %w: %w", op, usermgmt.ErrNotFound, err)
		}
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		switch pe.Code {
		case pgUniqueViolation:
			field, ok := conflictFields[pe.ConstraintName]
			if !ok {
				field = pe.ConstraintName
			}
			return fmt.Errorf("store: %s: %w", op, usermgmt.ConflictOn(field, err))
		case pgForeignKeyViolation:
			return fmt.Errorf("store: %s: %w: %w", op, usermgmt.ErrNotFound, err)
		}
	}
	return fmt.Errorf("store: %s: %w", op, err)
}

// sqliteConflictField finds the field in a SQLite message such as
// "UNIQUE constraint failed: users.username (2067)" or
// "UNIQUE constraint failed: index 'users_email_lower_key' (2067)". An
// unknown constraint is named as SQLite names it.
func sqliteConflictField(msg string) string {
	const marker = "constraint failed: "
	i := strings.LastIndex(msg, marker)
	if i < 0 {
		return ""
	}
	name := msg[i+len(marker):]
	name, _, _ = strings.Cut(name, " (") // the result code
	name, _, _ = strings.Cut(name, ", ") // the first of several columns
	name = strings.TrimPrefix(name, "index ")
	name = strings.Trim(name, "'")
	if field, ok := conflictFields[name]; ok {
		return field
	}
	return name
}

// notFound reports a missing row for op.
func notFound(op string) error {
	return fmt.Errorf("store: %s: %w", op, usermgmt.ErrNotFound)
}

// isBusy reports whether err is SQLite's SQLITE_BUSY, with or without an
// extended code.
func isBusy(err error) bool {
	var se *sqlite.Error
	return errors.As(err, &se) && se.Code()&0xff == sqliteBusy
}

// isConstraintViolation reports whether err is a constraint violation of
// SQLite or PostgreSQL (class 23: not null, foreign key, unique, check).
func isConstraintViolation(err error) bool {
	var se *sqlite.Error
	if errors.As(err, &se) {
		return se.Code()&0xff == sqliteConstraint
	}
	var pe *pgconn.PgError
	return errors.As(err, &pe) && strings.HasPrefix(pe.Code, "23")
}
