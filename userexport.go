package usermgmt

import (
	"context"
	"time"
)

// UserExport is everything the library stores about one user, for the
// user's own copy (GET /user/me/export). Secrets (password hash, OTP
// secret, refresh token hashes) are left out.
type UserExport struct {
	ExportedAt time.Time      `json:"exported_at"`
	User       *User          `json:"user"`
	Sessions   []*SessionInfo `json:"sessions"`
	// Audit holds the audit entries about the user, newest first.
	Audit []*AuditEntry `json:"audit"`
}

// SessionInfo is a session without its secrets.
type SessionInfo struct {
	ID        string    `json:"id"`
	CreatedAt time.Time `json:"created_at"`
	RotatedAt time.Time `json:"rotated_at"`
	ExpiresAt time.Time `json:"expires_at"`
	IP        string    `json:"ip"`
	UserAgent string    `json:"user_agent"`
}

// maxExportedAudit bounds the audit entries of a user export.
const maxExportedAudit = 10_000

// ExportUser returns everything stored about the user with the given UUID.
// The HTTP route serves it to the user themself only.
func (m *Manager) ExportUser(ctx context.Context, uuid string) (*UserExport, error) {
	u, err := m.User(ctx, uuid)
	if err != nil {
		return nil, err
	}
	ss, err := m.store.SessionsByUser(ctx, u.UUID, m.now())
	if err != nil {
		return nil, err
	}
	ex := &UserExport{ExportedAt: m.now(), User: u, Sessions: make([]*SessionInfo, len(ss)), Audit: []*AuditEntry{}}
	for i, s := range ss {
		ex.Sessions[i] = &SessionInfo{ID: s.ID, CreatedAt: s.CreatedAt, RotatedAt: s.RotatedAt, ExpiresAt: s.ExpiresAt, IP: s.IP, UserAgent: s.UserAgent}
	}
	q := AuditQuery{SubjectUUID: u.UUID, Limit: 1000}
	for len(ex.Audit) < maxExportedAudit {
		page, err := m.store.Audit(ctx, q)
		if err != nil {
			return nil, err
		}
		ex.Audit = append(ex.Audit, page...)
		if len(page) < q.Limit {
			break
		}
		q.BeforeID = page[len(page)-1].ID
	}
	return ex, nil
}
