package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt/passkey/credstore"
)

// The passkey feature's capability (credstore.Store): the passkeys and
// passkey_ceremonies tables of migration 0007.

var (
	_ credstore.Store = (*DB)(nil)
	_ credstore.Store = (*txStore)(nil)
)

// passkeyRow is the passkeys table.
type passkeyRow struct {
	bun.BaseModel `bun:"table:passkeys,alias:pk"`

	ID                string     `bun:"id,pk"`
	UserUUID          string     `bun:"user_uuid"`
	CredentialID      []byte     `bun:"credential_id"`
	Name              string     `bun:"name"`
	PublicKey         []byte     `bun:"public_key"`
	SignCount         int64      `bun:"sign_count"`
	AAGUID            []byte     `bun:"aaguid"`
	Transports        stringList `bun:"transports"`
	AttestationFormat string     `bun:"attestation_format"`
	UserVerified      bool       `bun:"user_verified"`
	BackupEligible    bool       `bun:"backup_eligible"`
	BackedUp          bool       `bun:"backed_up"`
	CreatedAt         time.Time  `bun:"created_at"`
	LastUsedAt        *time.Time `bun:"last_used_at"`
}

func newPasskeyRow(p *credstore.Passkey) *passkeyRow {
	tr := p.Transports
	if tr == nil {
		tr = []string{}
	}
	return &passkeyRow{
		ID: p.ID, UserUUID: p.UserUUID, CredentialID: p.CredentialID, Name: p.Name, PublicKey: p.PublicKey,
		SignCount: int64(p.SignCount), AAGUID: p.AAGUID, Transports: stringList(tr), AttestationFormat: p.AttestationFormat,
		UserVerified: p.UserVerified, BackupEligible: p.BackupEligible, BackedUp: p.BackedUp,
		CreatedAt: dbTime(p.CreatedAt), LastUsedAt: dbTimePtr(p.LastUsedAt),
	}
}

func (r *passkeyRow) passkey() *credstore.Passkey {
	p := &credstore.Passkey{
		ID: r.ID, UserUUID: r.UserUUID, CredentialID: r.CredentialID, Name: r.Name, PublicKey: r.PublicKey,
		SignCount: uint32(r.SignCount), AAGUID: r.AAGUID, Transports: r.Transports.strings(), AttestationFormat: r.AttestationFormat,
		UserVerified: r.UserVerified, BackupEligible: r.BackupEligible, BackedUp: r.BackedUp,
		CreatedAt: r.CreatedAt.UTC(),
	}
	if r.LastUsedAt != nil {
		t := r.LastUsedAt.UTC()
		p.LastUsedAt = &t
	}
	return p
}

// ceremonyRow is the passkey_ceremonies table.
type ceremonyRow struct {
	bun.BaseModel `bun:"table:passkey_ceremonies,alias:pc"`

	IDHash    []byte    `bun:"id_hash,pk"`
	Kind      string    `bun:"kind"`
	UserUUID  string    `bun:"user_uuid"`
	Session   []byte    `bun:"session"`
	CreatedAt time.Time `bun:"created_at"`
	ExpiresAt time.Time `bun:"expires_at"`
}

// InsertPasskey implements credstore.Store.
func (h *handle) InsertPasskey(ctx context.Context, p *credstore.Passkey) error {
	if _, err := h.idb.NewInsert().Model(newPasskeyRow(p)).Exec(ctx); err != nil {
		return h.fail("insert passkey", err)
	}
	return nil
}

// PasskeysByUser implements credstore.Store.
func (h *handle) PasskeysByUser(ctx context.Context, userUUID string) ([]*credstore.Passkey, error) {
	var rows []*passkeyRow
	if err := h.idb.NewSelect().Model(&rows).Where("user_uuid = ?", userUUID).OrderExpr("created_at, id").Scan(ctx); err != nil {
		return nil, h.fail("passkeys by user", err)
	}
	out := make([]*credstore.Passkey, len(rows))
	for i, r := range rows {
		out[i] = r.passkey()
	}
	return out, nil
}

// PasskeyByCredentialID implements credstore.Store.
func (h *handle) PasskeyByCredentialID(ctx context.Context, credentialID []byte) (*credstore.Passkey, error) {
	row := new(passkeyRow)
	if err := h.idb.NewSelect().Model(row).Where("credential_id = ?", credentialID).Limit(1).Scan(ctx); err != nil {
		return nil, h.fail("passkey by credential id", err)
	}
	return row.passkey(), nil
}

// RenamePasskey implements credstore.Store.
func (h *handle) RenamePasskey(ctx context.Context, userUUID, id, name string) error {
	res, err := h.idb.NewUpdate().Model((*passkeyRow)(nil)).Set("name = ?", name).
		Where("id = ?", id).Where("user_uuid = ?", userUUID).Exec(ctx)
	if err != nil {
		return h.fail("rename passkey", err)
	}
	return h.expectRow(res, "rename passkey")
}

// RecordPasskeyUse implements credstore.Store: one conditional UPDATE, so
// that of two assertions with the same counter only one is recorded.
func (h *handle) RecordPasskeyUse(ctx context.Context, use credstore.PasskeyUse) (bool, error) {
	n := int64(use.SignCount)
	res, err := h.idb.NewUpdate().Model((*passkeyRow)(nil)).
		Set("sign_count = ?", n).
		Set("backed_up = ?", use.BackedUp).
		Set("user_verified = (user_verified OR ?)", use.UserVerified).
		Set("last_used_at = ?", dbTime(use.UsedAt)).
		Where("id = ?", use.ID).
		Where("(sign_count < ? OR (sign_count = 0 AND ? = 0))", n, n).
		Exec(ctx)
	if err != nil {
		return false, h.fail("record passkey use", err)
	}
	affected, err := res.RowsAffected()
	if err != nil {
		return false, h.fail("record passkey use", err)
	}
	if affected == 1 {
		return true, nil
	}
	exists, err := h.idb.NewSelect().Model((*passkeyRow)(nil)).Where("id = ?", use.ID).Exists(ctx)
	if err != nil {
		return false, h.fail("record passkey use", err)
	}
	if !exists {
		return false, notFound("record passkey use")
	}
	return false, nil
}

// DeletePasskey implements credstore.Store.
func (h *handle) DeletePasskey(ctx context.Context, userUUID, id string) error {
	res, err := h.idb.NewDelete().Model((*passkeyRow)(nil)).Where("id = ?", id).Where("user_uuid = ?", userUUID).Exec(ctx)
	if err != nil {
		return h.fail("delete passkey", err)
	}
	return h.expectRow(res, "delete passkey")
}

// InsertCeremony implements credstore.Store.
func (h *handle) InsertCeremony(ctx context.Context, c *credstore.Ceremony) error {
	row := &ceremonyRow{IDHash: c.IDHash, Kind: c.Kind, UserUUID: c.UserUUID, Session: c.Session,
		CreatedAt: dbTime(c.CreatedAt), ExpiresAt: dbTime(c.ExpiresAt)}
	if _, err := h.idb.NewInsert().Model(row).Exec(ctx); err != nil {
		return h.fail("insert passkey ceremony", err)
	}
	return nil
}

// TakeCeremony implements credstore.Store with one DELETE ... RETURNING,
// so that two instances finishing the same ceremony cannot both take it.
func (h *handle) TakeCeremony(ctx context.Context, idHash []byte, now time.Time) (*credstore.Ceremony, error) {
	var rows []*ceremonyRow
	_, err := h.idb.NewDelete().Model((*ceremonyRow)(nil)).
		Where("id_hash = ?", idHash).
		Returning("id_hash, kind, user_uuid, session, created_at, expires_at").
		Exec(ctx, &rows)
	if err != nil {
		return nil, h.fail("take passkey ceremony", err)
	}
	if len(rows) == 0 || !rows[0].ExpiresAt.After(now) {
		return nil, notFound("take passkey ceremony")
	}
	r := rows[0]
	return &credstore.Ceremony{IDHash: r.IDHash, Kind: r.Kind, UserUUID: r.UserUUID, Session: r.Session,
		CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}, nil
}

// DeleteExpiredCeremonies implements credstore.Store.
func (h *handle) DeleteExpiredCeremonies(ctx context.Context, now time.Time) (int64, error) {
	res, err := h.idb.NewDelete().Model((*ceremonyRow)(nil)).Where("expires_at <= ?", dbTime(now)).Exec(ctx)
	if err != nil {
		return 0, h.fail("delete expired passkey ceremonies", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, h.fail("delete expired passkey ceremonies", err)
	}
	return n, nil
}
