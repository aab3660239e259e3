package store

import (
	"context"
	"errors"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt"
)

// oneTimeTokenRow is the one_time_tokens table.
type oneTimeTokenRow struct {
	bun.BaseModel `bun:"table:one_time_tokens,alias:ott"`

	ID        string     `bun:"id,pk"`
	UserUUID  string     `bun:"user_uuid"`
	Purpose   string     `bun:"purpose"`
	TokenHash []byte     `bun:"token_hash"`
	Detail    string     `bun:"detail"`
	ExpiresAt time.Time  `bun:"expires_at"`
	UsedAt    *time.Time `bun:"used_at"`
	CreatedAt time.Time  `bun:"created_at"`
}

func (r *oneTimeTokenRow) token() *usermgmt.OneTimeToken {
	t := &usermgmt.OneTimeToken{
		ID: r.ID, UserUUID: r.UserUUID, Purpose: r.Purpose, TokenHash: append([]byte(nil), r.TokenHash...),
		Detail: r.Detail, ExpiresAt: r.ExpiresAt.UTC(), CreatedAt: r.CreatedAt.UTC(),
	}
	if r.UsedAt != nil {
		u := r.UsedAt.UTC()
		t.UsedAt = &u
	}
	return t
}

// recoveryCodeRow is the recovery_codes table.
type recoveryCodeRow struct {
	bun.BaseModel `bun:"table:recovery_codes,alias:rc"`

	ID        string     `bun:"id,pk"`
	UserUUID  string     `bun:"user_uuid"`
	CodeHash  []byte     `bun:"code_hash"`
	UsedAt    *time.Time `bun:"used_at"`
	CreatedAt time.Time  `bun:"created_at"`
}

// otpStateRow is the otp_state table.
type otpStateRow struct {
	bun.BaseModel `bun:"table:otp_state,alias:os"`

	UserUUID    string     `bun:"user_uuid,pk"`
	LastStep    int64      `bun:"last_step"`
	Failures    int        `bun:"failures"`
	LockedUntil *time.Time `bun:"locked_until"`
}

// InsertOneTimeToken implements usermgmt.SecurityStore.
func (h *handle) InsertOneTimeToken(ctx context.Context, t *usermgmt.OneTimeToken) error {
	row := &oneTimeTokenRow{
		ID: t.ID, UserUUID: t.UserUUID, Purpose: t.Purpose, TokenHash: t.TokenHash, Detail: t.Detail,
		ExpiresAt: dbTime(t.ExpiresAt), UsedAt: dbTimePtr(t.UsedAt), CreatedAt: dbTime(t.CreatedAt),
	}
	if _, err := h.idb.NewInsert().Model(row).Exec(ctx); err != nil {
		return h.fail("insert one-time token", err)
	}
	return nil
}

// OneTimeTokenByHash implements usermgmt.SecurityStore.
func (h *handle) OneTimeTokenByHash(ctx context.Context, purpose string, hash []byte) (*usermgmt.OneTimeToken, error) {
	row := new(oneTimeTokenRow)
	err := h.idb.NewSelect().Model(row).Where("purpose = ?", purpose).Where("token_hash = ?", hash).Limit(1).Scan(ctx)
	if err != nil {
		return nil, h.fail("one-time token by hash", err)
	}
	return row.token(), nil
}

// OneTimeTokensByUser implements usermgmt.SecurityStore.
func (h *handle) OneTimeTokensByUser(ctx context.Context, userUUID, purpose string) ([]*usermgmt.OneTimeToken, error) {
	var rows []*oneTimeTokenRow
	err := h.idb.NewSelect().Model(&rows).
		Where("user_uuid = ?", userUUID).Where("purpose = ?", purpose).Where("used_at IS NULL").
		OrderExpr("created_at DESC, id DESC").Scan(ctx)
	if err != nil {
		return nil, h.fail("one-time tokens by user", err)
	}
	out := make([]*usermgmt.OneTimeToken, len(rows))
	for i, r := range rows {
		out[i] = r.token()
	}
	return out, nil
}

// UseOneTimeToken implements usermgmt.SecurityStore with one conditional
// UPDATE.
func (h *handle) UseOneTimeToken(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := h.idb.NewUpdate().Model((*oneTimeTokenRow)(nil)).
		Set("used_at = ?", dbTime(at)).Where("id = ?", id).Where("used_at IS NULL").Exec(ctx)
	if err != nil {
		return false, h.fail("use one-time token", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, h.fail("use one-time token", err)
	}
	return n == 1, nil
}

// DeleteOneTimeTokens implements usermgmt.SecurityStore.
func (h *handle) DeleteOneTimeTokens(ctx context.Context, userUUID string, purposes ...string) error {
	q := h.idb.NewDelete().Model((*oneTimeTokenRow)(nil)).Where("user_uuid = ?", userUUID)
	if len(purposes) > 0 {
		q = q.Where("purpose IN (?)", bun.List(purposes))
	}
	if _, err := q.Exec(ctx); err != nil {
		return h.fail("delete one-time tokens", err)
	}
	return nil
}

// ReplaceRecoveryCodes implements usermgmt.SecurityStore; call it inside
// InTx so that the old codes and the new ones never both hold.
func (h *handle) ReplaceRecoveryCodes(ctx context.Context, userUUID string, codes []*usermgmt.RecoveryCode) error {
	if _, err := h.idb.NewDelete().Model((*recoveryCodeRow)(nil)).Where("user_uuid = ?", userUUID).Exec(ctx); err != nil {
		return h.fail("delete recovery codes", err)
	}
	if len(codes) == 0 {
		return nil
	}
	rows := make([]*recoveryCodeRow, len(codes))
	for i, c := range codes {
		rows[i] = &recoveryCodeRow{ID: c.ID, UserUUID: userUUID, CodeHash: c.CodeHash, UsedAt: dbTimePtr(c.UsedAt), CreatedAt: dbTime(c.CreatedAt)}
	}
	if _, err := h.idb.NewInsert().Model(&rows).Exec(ctx); err != nil {
		return h.fail("insert recovery codes", err)
	}
	return nil
}

// RecoveryCodes implements usermgmt.SecurityStore.
func (h *handle) RecoveryCodes(ctx context.Context, userUUID string) ([]*usermgmt.RecoveryCode, error) {
	var rows []*recoveryCodeRow
	err := h.idb.NewSelect().Model(&rows).Where("user_uuid = ?", userUUID).Where("used_at IS NULL").OrderExpr("id").Scan(ctx)
	if err != nil {
		return nil, h.fail("recovery codes", err)
	}
	out := make([]*usermgmt.RecoveryCode, len(rows))
	for i, r := range rows {
		out[i] = &usermgmt.RecoveryCode{ID: r.ID, UserUUID: r.UserUUID, CodeHash: append([]byte(nil), r.CodeHash...), CreatedAt: r.CreatedAt.UTC()}
	}
	return out, nil
}

// UseRecoveryCode implements usermgmt.SecurityStore.
func (h *handle) UseRecoveryCode(ctx context.Context, id string, at time.Time) (bool, error) {
	res, err := h.idb.NewUpdate().Model((*recoveryCodeRow)(nil)).
		Set("used_at = ?", dbTime(at)).Where("id = ?", id).Where("used_at IS NULL").Exec(ctx)
	if err != nil {
		return false, h.fail("use recovery code", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, h.fail("use recovery code", err)
	}
	return n == 1, nil
}

// OTPState implements usermgmt.SecurityStore.
func (h *handle) OTPState(ctx context.Context, userUUID string) (*usermgmt.OTPState, error) {
	row := new(otpStateRow)
	err := h.idb.NewSelect().Model(row).Where("user_uuid = ?", userUUID).Limit(1).Scan(ctx)
	if err != nil {
		err = h.fail("otp state", err)
		if errors.Is(err, usermgmt.ErrNotFound) {
			return &usermgmt.OTPState{UserUUID: userUUID}, nil
		}
		return nil, err
	}
	s := &usermgmt.OTPState{UserUUID: row.UserUUID, LastStep: row.LastStep, Failures: row.Failures}
	if row.LockedUntil != nil {
		l := row.LockedUntil.UTC()
		s.LockedUntil = &l
	}
	return s, nil
}

// SaveOTPState implements usermgmt.SecurityStore (an upsert).
func (h *handle) SaveOTPState(ctx context.Context, s *usermgmt.OTPState) error {
	row := &otpStateRow{UserUUID: s.UserUUID, LastStep: s.LastStep, Failures: s.Failures, LockedUntil: dbTimePtr(s.LockedUntil)}
	_, err := h.idb.NewInsert().Model(row).
		On("CONFLICT (user_uuid) DO UPDATE").
		Set("last_step = EXCLUDED.last_step").
		Set("failures = EXCLUDED.failures").
		Set("locked_until = EXCLUDED.locked_until").
		Exec(ctx)
	if err != nil {
		return h.fail("save otp state", err)
	}
	return nil
}
