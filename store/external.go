package store

import (
	"context"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt"
)

// externalRow is the external_identities table.
type externalRow struct {
	bun.BaseModel `bun:"table:external_identities,alias:x"`

	Provider    string    `bun:"provider,pk"`
	Subject     string    `bun:"subject,pk"`
	UserUUID    string    `bun:"user_uuid"`
	Username    string    `bun:"username"`
	DisplayName string    `bun:"display_name"`
	Email       string    `bun:"email"`
	PictureURL  string    `bun:"picture_url"`
	Tokens      []byte    `bun:"tokens"`
	CreatedAt   time.Time `bun:"created_at"`
	UpdatedAt   time.Time `bun:"updated_at"`
}

func newExternalRow(x *usermgmt.ExternalIdentity) *externalRow {
	return &externalRow{
		Provider: x.Provider, Subject: x.Subject, UserUUID: x.UserUUID,
		Username: x.Username, DisplayName: x.DisplayName, Email: x.Email, PictureURL: x.PictureURL,
		Tokens: x.Tokens, CreatedAt: dbTime(x.CreatedAt), UpdatedAt: dbTime(x.UpdatedAt),
	}
}

func (r *externalRow) identity() *usermgmt.ExternalIdentity {
	return &usermgmt.ExternalIdentity{
		Provider: r.Provider, Subject: r.Subject, UserUUID: r.UserUUID,
		Username: r.Username, DisplayName: r.DisplayName, Email: r.Email, PictureURL: r.PictureURL,
		Tokens: r.Tokens, CreatedAt: r.CreatedAt.UTC(), UpdatedAt: r.UpdatedAt.UTC(),
	}
}

// oauthStateRow is the oauth_states table.
type oauthStateRow struct {
	bun.BaseModel `bun:"table:oauth_states,alias:o"`

	StateHash   []byte    `bun:"state_hash,pk"`
	CookieHash  []byte    `bun:"cookie_hash"`
	Provider    string    `bun:"provider"`
	UserUUID    string    `bun:"user_uuid"`
	RedirectURI string    `bun:"redirect_uri"`
	CreatedAt   time.Time `bun:"created_at"`
	ExpiresAt   time.Time `bun:"expires_at"`
}

// InsertExternalIdentity implements usermgmt.ExternalStore.
func (h *handle) InsertExternalIdentity(ctx context.Context, x *usermgmt.ExternalIdentity) error {
	if _, err := h.idb.NewInsert().Model(newExternalRow(x)).Exec(ctx); err != nil {
		return h.fail("insert external identity", err)
	}
	return nil
}

// ExternalIdentity implements usermgmt.ExternalStore.
func (h *handle) ExternalIdentity(ctx context.Context, provider, subject string) (*usermgmt.ExternalIdentity, error) {
	row := new(externalRow)
	err := h.idb.NewSelect().Model(row).Where("provider = ?", provider).Where("subject = ?", subject).Limit(1).Scan(ctx)
	if err != nil {
		return nil, h.fail("external identity", err)
	}
	return row.identity(), nil
}

// ExternalIdentitiesByUser implements usermgmt.ExternalStore.
func (h *handle) ExternalIdentitiesByUser(ctx context.Context, userUUID string) ([]*usermgmt.ExternalIdentity, error) {
	var rows []*externalRow
	if err := h.idb.NewSelect().Model(&rows).Where("user_uuid = ?", userUUID).OrderExpr("provider").Scan(ctx); err != nil {
		return nil, h.fail("external identities by user", err)
	}
	out := make([]*usermgmt.ExternalIdentity, len(rows))
	for i, r := range rows {
		out[i] = r.identity()
	}
	return out, nil
}

// UpdateExternalIdentity implements usermgmt.ExternalStore.
func (h *handle) UpdateExternalIdentity(ctx context.Context, x *usermgmt.ExternalIdentity) error {
	res, err := h.idb.NewUpdate().Model((*externalRow)(nil)).
		Set("username = ?", x.Username).
		Set("display_name = ?", x.DisplayName).
		Set("email = ?", x.Email).
		Set("picture_url = ?", x.PictureURL).
		Set("tokens = ?", x.Tokens).
		Set("updated_at = ?", dbTime(x.UpdatedAt)).
		Where("provider = ?", x.Provider).
		Where("subject = ?", x.Subject).
		Exec(ctx)
	if err != nil {
		return h.fail("update external identity", err)
	}
	return h.expectRow(res, "update external identity")
}

// DeleteExternalIdentity implements usermgmt.ExternalStore.
func (h *handle) DeleteExternalIdentity(ctx context.Context, userUUID, provider string) error {
	res, err := h.idb.NewDelete().Model((*externalRow)(nil)).
		Where("user_uuid = ?", userUUID).Where("provider = ?", provider).Exec(ctx)
	if err != nil {
		return h.fail("delete external identity", err)
	}
	return h.expectRow(res, "delete external identity")
}

// InsertOAuthState implements usermgmt.ExternalStore.
func (h *handle) InsertOAuthState(ctx context.Context, s *usermgmt.OAuthState) error {
	row := &oauthStateRow{
		StateHash: s.StateHash, CookieHash: s.CookieHash, Provider: s.Provider, UserUUID: s.UserUUID,
		RedirectURI: s.RedirectURI, CreatedAt: dbTime(s.CreatedAt), ExpiresAt: dbTime(s.ExpiresAt),
	}
	if _, err := h.idb.NewInsert().Model(row).Exec(ctx); err != nil {
		return h.fail("insert oauth state", err)
	}
	return nil
}

// TakeOAuthState implements usermgmt.ExternalStore with one DELETE ...
// RETURNING, so that two requests presenting the same state cannot both
// take it.
func (h *handle) TakeOAuthState(ctx context.Context, stateHash []byte) (*usermgmt.OAuthState, error) {
	var rows []*oauthStateRow
	_, err := h.idb.NewDelete().Model((*oauthStateRow)(nil)).
		Where("state_hash = ?", stateHash).
		Returning("state_hash, cookie_hash, provider, user_uuid, redirect_uri, created_at, expires_at").
		Exec(ctx, &rows)
	if err != nil {
		return nil, h.fail("take oauth state", err)
	}
	if len(rows) == 0 {
		return nil, notFound("take oauth state")
	}
	r := rows[0]
	return &usermgmt.OAuthState{
		StateHash: r.StateHash, CookieHash: r.CookieHash, Provider: r.Provider, UserUUID: r.UserUUID,
		RedirectURI: r.RedirectURI, CreatedAt: r.CreatedAt.UTC(), ExpiresAt: r.ExpiresAt.UTC(),
	}, nil
}

// DeleteExpiredOAuthStates implements usermgmt.ExternalStore.
func (h *handle) DeleteExpiredOAuthStates(ctx context.Context, now time.Time) (int, error) {
	res, err := h.idb.NewDelete().Model((*oauthStateRow)(nil)).Where("expires_at <= ?", dbTime(now)).Exec(ctx)
	if err != nil {
		return 0, h.fail("delete expired oauth states", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return 0, h.fail("delete expired oauth states", err)
	}
	return int(n), nil
}
