package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt/emaillogin/secretstore"
)

// The emaillogin feature's capability (secretstore.Store): the
// signin_secrets table of migration 0009.

var (
	_ secretstore.Store = (*DB)(nil)
	_ secretstore.Store = (*txStore)(nil)
)

// signinSecretRow is the signin_secrets table.
type signinSecretRow struct {
	bun.BaseModel `bun:"table:signin_secrets,alias:ss"`

	ID          string    `bun:"id,pk"`
	Kind        string    `bun:"kind"`
	Email       string    `bun:"email"`
	UserUUID    string    `bun:"user_uuid,nullzero"`
	SecretHash  []byte    `bun:"secret_hash"`
	RedirectURI string    `bun:"redirect_uri"`
	Attempts    int       `bun:"attempts"`
	CreatedAt   time.Time `bun:"created_at"`
	ExpiresAt   time.Time `bun:"expires_at"`
}

const signinSecretColumns = "id, kind, email, user_uuid, secret_hash, redirect_uri, attempts, created_at, expires_at"

func (r *signinSecretRow) secret() *secretstore.Secret {
	return &secretstore.Secret{ID: r.ID, Kind: r.Kind, Email: r.Email, UserUUID: r.UserUUID, Hash: r.SecretHash,
		RedirectURI: r.RedirectURI, Attempts: r.Attempts, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC()}
}

// PutSecret implements secretstore.Store with one upsert on the (kind,
// email) key, so that two secrets stored at once leave only one.
func (h *handle) PutSecret(ctx context.Context, s *secretstore.Secret) error {
	row := &signinSecretRow{ID: s.ID, Kind: s.Kind, Email: s.Email, UserUUID: s.UserUUID, SecretHash: s.Hash,
		RedirectURI: s.RedirectURI, Attempts: s.Attempts, CreatedAt: dbTime(s.CreatedAt), ExpiresAt: dbTime(s.ExpiresAt)}
	_, err := h.idb.NewInsert().Model(row).
		On("CONFLICT (kind, email) DO UPDATE").
		Set("id = EXCLUDED.id").
		Set("user_uuid = EXCLUDED.user_uuid").
		Set("secret_hash = EXCLUDED.secret_hash").
		Set("redirect_uri = EXCLUDED.redirect_uri").
		Set("attempts = EXCLUDED.attempts").
		Set("created_at = EXCLUDED.created_at").
		Set("expires_at = EXCLUDED.expires_at").
		Exec(ctx)
	if err != nil {
		return h.fail("put sign-in secret", err)
	}
	return nil
}

// TakeSecretByHash implements secretstore.Store with one DELETE ...
// RETURNING, so that two instances cannot both take a secret.
func (h *handle) TakeSecretByHash(ctx context.Context, kind string, hash []byte, now time.Time) (*secretstore.Secret, error) {
	var rows []*signinSecretRow
	_, err := h.idb.NewDelete().Model((*signinSecretRow)(nil)).
		Where("secret_hash = ?", hash).Where("kind = ?", kind).
		Returning(signinSecretColumns).
		Exec(ctx, &rows)
	if err != nil {
		return nil, h.fail("take sign-in secret", err)
	}
	if len(rows) == 0 || !rows[0].ExpiresAt.After(now) {
		return nil, notFound("take sign-in secret")
	}
	return rows[0].secret(), nil
}

// SecretByEmail implements secretstore.Store.
func (h *handle) SecretByEmail(ctx context.Context, kind, email string, now time.Time) (*secretstore.Secret, error) {
	row := new(signinSecretRow)
	err := h.idb.NewSelect().Model(row).Where("kind = ?", kind).Where("email = ?", email).
		Where("expires_at > ?", dbTime(now)).Limit(1).Scan(ctx)
	if err != nil {
		return nil, h.fail("sign-in secret by email", err)
	}
	return row.secret(), nil
}

// CountSecretAttempt implements secretstore.Store with one conditional
// UPDATE ... RETURNING.
func (h *handle) CountSecretAttempt(ctx context.Context, id string, limit int, now time.Time) (int, error) {
	var attempts []int
	_, err := h.idb.NewUpdate().Model((*signinSecretRow)(nil)).
		Set("attempts = attempts + 1").
		Where("id = ?", id).Where("attempts < ?", limit).Where("expires_at > ?", dbTime(now)).
		Returning("attempts").
		Exec(ctx, &attempts)
	if err != nil {
		return 0, h.fail("count sign-in secret attempt", err)
	}
	if len(attempts) == 0 {
		return 0, notFound("count sign-in secret attempt")
	}
	return attempts[0], nil
}

// DeleteSecret implements secretstore.Store.
func (h *handle) DeleteSecret(ctx context.Context, id string) (bool, error) {
	res, err := h.idb.NewDelete().Model((*signinSecretRow)(nil)).Where("id = ?", id).Exec(ctx)
	if err != nil {
		return false, h.fail("delete sign-in secret", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, h.fail("delete sign-in secret", err)
	}
	return n == 1, nil
}

// DeleteExpiredSecrets implements secretstore.Store.
func (h *handle) DeleteExpiredSecrets(ctx context.Context, now time.Time) (int64, error) {
	res, err := h.idb.NewDelete().Model((*signinSecretRow)(nil)).Where("expires_at <= ?", dbTime(now)).Exec(ctx)
	if err != nil {
		return 0, h.fail("delete expired sign-in secrets", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, h.fail("delete expired sign-in secrets", err)
	}
	return n, nil
}
