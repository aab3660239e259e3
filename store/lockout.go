package store

import (
	"context"
	"time"

	"github.com/usermgmt/usermgmt"
)

// countAttemptSQL counts one login attempt in a single atomic upsert: the
// SET expressions read the row as it was, so parallel attempts each see and
// write their own count. A locked account is left as it is; a count begun
// before the window restarts at one.
const countAttemptSQL = `INSERT INTO login_failures (user_uuid, failures, window_start, locked_until)
VALUES (?, 1, ?, NULL)
ON CONFLICT (user_uuid) DO UPDATE SET
    failures = CASE
        WHEN login_failures.locked_until IS NOT NULL AND login_failures.locked_until > ? THEN login_failures.failures
        WHEN login_failures.window_start < ? THEN 1
        ELSE login_failures.failures + 1 END,
    window_start = CASE
        WHEN login_failures.locked_until IS NOT NULL AND login_failures.locked_until > ? THEN login_failures.window_start
        WHEN login_failures.window_start < ? THEN ?
        ELSE login_failures.window_start END
RETURNING failures, window_start, locked_until`

// CountLoginAttempt implements usermgmt.LockoutStore.
func (h *handle) CountLoginAttempt(ctx context.Context, userUUID string, now, windowStart time.Time) (usermgmt.LoginAttempts, error) {
	now, windowStart = dbTime(now), dbTime(windowStart)
	var row struct {
		Failures    int        `bun:"failures"`
		WindowStart time.Time  `bun:"window_start"`
		LockedUntil *time.Time `bun:"locked_until"`
	}
	err := h.idb.NewRaw(countAttemptSQL, userUUID, now, now, windowStart, now, windowStart, now).Scan(ctx, &row)
	if err != nil {
		return usermgmt.LoginAttempts{}, h.fail("count login attempt", err)
	}
	a := usermgmt.LoginAttempts{Failures: row.Failures, WindowStart: row.WindowStart.UTC()}
	if row.LockedUntil != nil {
		a.LockedUntil = row.LockedUntil.UTC()
	}
	return a, nil
}

// LockAccount implements usermgmt.LockoutStore: the count restarts when the
// lock ends.
func (h *handle) LockAccount(ctx context.Context, userUUID string, until time.Time) error {
	until = dbTime(until)
	_, err := h.idb.NewRaw(`UPDATE login_failures SET locked_until = ?, failures = 0, window_start = ? WHERE user_uuid = ?`,
		until, until, userUUID).Exec(ctx)
	if err != nil {
		return h.fail("lock account", err)
	}
	return nil
}

// ClearLoginFailures implements usermgmt.LockoutStore.
func (h *handle) ClearLoginFailures(ctx context.Context, userUUID string) error {
	if _, err := h.idb.NewRaw("DELETE FROM login_failures WHERE user_uuid = ?", userUUID).Exec(ctx); err != nil {
		return h.fail("clear login failures", err)
	}
	return nil
}
