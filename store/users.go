package store

import (
	"context"
	"database/sql"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt"
)

// Page sizes of ListUsers.
const (
	defaultUserLimit = 100
	maxUserLimit     = 1000
)

// handle implements the Store's queries over a bun.IDB: the pool for DB, one
// transaction for the Store InTx hands out.
type handle struct {
	idb     bun.IDB
	dialect string
	drv     Driver  // classifies the database's errors
	health  *health // logs outages once
}

// InsertUser implements usermgmt.UserStore.
func (h *handle) InsertUser(ctx context.Context, u *usermgmt.User) error {
	if u.UUID == "" {
		return h.fail("insert user", usermgmt.ErrInvalidUUID.WithMessage("a user needs a UUID"))
	}
	if _, err := h.idb.NewInsert().Model(newUserRow(u)).Exec(ctx); err != nil {
		return h.fail("insert user", err)
	}
	return nil
}

// UserByUUID implements usermgmt.UserStore.
func (h *handle) UserByUUID(ctx context.Context, uuid string) (*usermgmt.User, error) {
	return h.userWhere(ctx, "user by uuid", "uuid = ?", uuid)
}

// UserByUsername implements usermgmt.UserStore.
func (h *handle) UserByUsername(ctx context.Context, username string) (*usermgmt.User, error) {
	return h.userWhere(ctx, "user by username", "username = ?", username)
}

// UserByEmail implements usermgmt.UserStore. It compares lower-cased emails,
// which the unique index users_email_lower_key serves. (SQLite's lower()
// folds ASCII letters only; PostgreSQL's follows the database's locale.)
func (h *handle) UserByEmail(ctx context.Context, email string) (*usermgmt.User, error) {
	return h.userWhere(ctx, "user by email", "lower(email) = lower(?)", email)
}

// LockUser implements usermgmt.UserStore. On PostgreSQL the row is locked
// FOR UPDATE; SQLite has no row locks, but InTx's transactions are IMMEDIATE
// and so already exclude every other writer.
func (h *handle) LockUser(ctx context.Context, uuid string) (*usermgmt.User, error) {
	q := h.idb.NewSelect().Model(new(userRow)).Where("uuid = ?", uuid)
	if h.dialect == DialectPostgres {
		q = q.For("UPDATE")
	}
	return h.scanUser(ctx, q, "lock user")
}

// userWhere loads the one user matching where.
func (h *handle) userWhere(ctx context.Context, op, where string, arg any) (*usermgmt.User, error) {
	return h.scanUser(ctx, h.idb.NewSelect().Model(new(userRow)).Where(where, arg), op)
}

// scanUser runs a query of one user row.
func (h *handle) scanUser(ctx context.Context, q *bun.SelectQuery, op string) (*usermgmt.User, error) {
	row := q.GetModel().Value().(*userRow)
	if err := q.Limit(1).Scan(ctx); err != nil {
		return nil, h.fail(op, err)
	}
	return row.user(), nil
}

// UpdateUser implements usermgmt.UserStore.
func (h *handle) UpdateUser(ctx context.Context, u *usermgmt.User) error {
	res, err := h.idb.NewUpdate().Model(newUserRow(u)).WherePK().Exec(ctx)
	if err != nil {
		return h.fail("update user", err)
	}
	return h.expectRow(res, "update user")
}

// DeleteUser implements usermgmt.UserStore. The sessions table's foreign key
// deletes the user's sessions with it.
func (h *handle) DeleteUser(ctx context.Context, uuid string) error {
	res, err := h.idb.NewDelete().Model((*userRow)(nil)).Where("uuid = ?", uuid).Exec(ctx)
	if err != nil {
		return h.fail("delete user", err)
	}
	return h.expectRow(res, "delete user")
}

// ListUsers implements usermgmt.UserStore. A zero limit means 100, larger
// than 1000 means 1000, and a negative offset means 0. After is a keyset
// condition on the index (created_at, uuid); Search is two byte-wise
// ranges, on username and on lower(email), each served by an index of its
// own (migration 0006), so a page costs the same at any depth.
func (h *handle) ListUsers(ctx context.Context, q usermgmt.UserQuery) ([]*usermgmt.User, error) {
	limit := clampLimit(q.Limit, defaultUserLimit, maxUserLimit)
	var rows []*userRow
	sel := h.idb.NewSelect().Model(&rows)
	if q.After != nil {
		sel = sel.Where("(created_at, uuid) > (?, ?)", dbTime(q.After.CreatedAt), q.After.UUID)
	}
	if q.Search != "" {
		lo, hi := q.Search, q.Search+prefixEnd
		c := ""
		if h.dialect == DialectPostgres {
			c = ` COLLATE "C"`
		}
		sel = sel.WhereGroup(" AND ", func(s *bun.SelectQuery) *bun.SelectQuery {
			return s.Where("username"+c+" >= ? AND username"+c+" < ?", lo, hi).
				WhereOr("lower(email)"+c+" >= ? AND lower(email)"+c+" < ?", lo, hi)
		})
	}
	err := sel.OrderExpr("created_at ASC, uuid ASC").
		Limit(int64(limit)).Offset(int64(max(q.Offset, 0))).
		Scan(ctx)
	if err != nil {
		return nil, h.fail("list users", err)
	}
	return users(rows), nil
}

// prefixEnd follows every string that starts with a given prefix in byte
// order (the highest code point: only strings continuing with it are
// missed, and it is a noncharacter).
const prefixEnd = "\U0010FFFF"

// UsersByUUIDs implements usermgmt.UserStore.
func (h *handle) UsersByUUIDs(ctx context.Context, uuids []string) ([]*usermgmt.User, error) {
	if len(uuids) == 0 {
		return []*usermgmt.User{}, nil
	}
	var rows []*userRow
	if err := h.idb.NewSelect().Model(&rows).Where("uuid IN (?)", bun.List(uuids)).Scan(ctx); err != nil {
		return nil, h.fail("users by uuids", err)
	}
	return users(rows), nil
}

// CountUsers implements usermgmt.UserStore.
func (h *handle) CountUsers(ctx context.Context) (int, error) {
	n, err := h.idb.NewSelect().Model((*userRow)(nil)).Count(ctx)
	if err != nil {
		return 0, h.fail("count users", err)
	}
	return int(n), nil
}

func users(rows []*userRow) []*usermgmt.User {
	out := make([]*usermgmt.User, len(rows))
	for i, r := range rows {
		out[i] = r.user()
	}
	return out
}

// expectRow turns an UPDATE or DELETE that matched no row into ErrNotFound.
func (h *handle) expectRow(res sql.Result, op string) error {
	n, err := res.RowsAffected()
	if err != nil {
		return h.fail(op, err)
	}
	if n == 0 {
		return notFound(op)
	}
	return nil
}
