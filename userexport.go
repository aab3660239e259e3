package usermgmt

import (
	"context"
	"time"
)

// UserExport is everything the library stores about one user, for the
// user's own copy (GET /user/me/export). Secrets (password hash, OTP
// secret, recovery codes, refresh token hashes, providers' tokens) are
// left out.
type UserExport struct {
	ExportedAt time.Time      `json:"exported_at"`
	User       *User          `json:"user"`
	Sessions   []*SessionInfo `json:"sessions"`
	// Audit holds the audit entries about the user, newest first.
	Audit []*AuditEntry `json:"audit"`
	// TwoFactor is the user's second factor: its method only, never the
	// secret or the recovery codes.
	TwoFactor TwoFactorInfo `json:"two_factor"`
	// Files are the metadata of the files the user owns, oldest first (the
	// contents are downloaded one by one).
	Files []*FileInfo `json:"files"`
	// ExternalAccounts are the third-party accounts linked to the user,
	// without the provider's tokens.
	ExternalAccounts []*ExternalAccountInfo `json:"external_accounts"`
}

// TwoFactorInfo is what a user export says of the second factor.
type TwoFactorInfo struct {
	Method string `json:"method"`
}

// FileInfo is a file's metadata in a user export (without its storage
// key, an internal detail).
type FileInfo struct {
	ID            int64     `json:"id"`
	FileName      string    `json:"file_name"`
	FileType      string    `json:"file_type"`
	ContentType   string    `json:"content_type"`
	Size          int64     `json:"size"`
	SHA256        string    `json:"sha256"`
	Description   string    `json:"description"`
	CreatedByUUID string    `json:"created_by_uuid"`
	CreatedAt     time.Time `json:"created_at"`
}

// ExternalAccountInfo is a linked third-party account in a user export.
type ExternalAccountInfo struct {
	Provider    string    `json:"provider"`
	Subject     string    `json:"subject"`
	Username    string    `json:"username"`
	DisplayName string    `json:"display_name"`
	Email       string    `json:"email"`
	PictureURL  string    `json:"picture_url"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`
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
		for _, e := range page {
			// Another actor's address (an admin's, say) is theirs, not
			// the user's: /user/me shows who acted, never from where.
			if e.ActorUUID != u.UUID {
				e.IP = ""
			}
		}
		ex.Audit = append(ex.Audit, page...)
		if len(page) < q.Limit {
			break
		}
		q.BeforeID = page[len(page)-1].ID
	}
	ex.TwoFactor.Method = u.OTPMethod
	if ex.Files, err = m.exportFiles(ctx, u.UUID); err != nil {
		return nil, err
	}
	xs, err := m.store.ExternalIdentitiesByUser(ctx, u.UUID)
	if err != nil {
		return nil, err
	}
	ex.ExternalAccounts = make([]*ExternalAccountInfo, len(xs))
	for i, x := range xs {
		ex.ExternalAccounts[i] = &ExternalAccountInfo{Provider: x.Provider, Subject: x.Subject, Username: x.Username,
			DisplayName: x.DisplayName, Email: x.Email, PictureURL: x.PictureURL, CreatedAt: x.CreatedAt, UpdatedAt: x.UpdatedAt}
	}
	return ex, nil
}

// exportFiles returns the metadata of every file userUUID owns.
func (m *Manager) exportFiles(ctx context.Context, userUUID string) ([]*FileInfo, error) {
	out := []*FileInfo{}
	q := FileQuery{OwnerUUID: userUUID, Limit: 1000}
	for {
		page, err := m.store.ListFiles(ctx, q)
		if err != nil {
			return nil, err
		}
		for _, f := range page {
			out = append(out, &FileInfo{ID: f.ID, FileName: f.FileName, FileType: f.FileType, ContentType: f.ContentType,
				Size: f.Size, SHA256: f.SHA256, Description: f.Description, CreatedByUUID: f.CreatedByUUID, CreatedAt: f.CreatedAt})
		}
		if len(page) < q.Limit {
			return out, nil
		}
		q.Offset += len(page)
	}
}
