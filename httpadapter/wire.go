package httpadapter

import (
	"strconv"
	"time"

	"github.com/usermgmt/usermgmt"
)

// The JSON shapes of the API (seed-api.md 2.3), kept apart from the domain
// types so that nothing private (password hash, OTP secret) can leak by
// accident. Lists are always [], never null.

// tokenResponse is the reference's Token schema plus the refresh token and
// the access token's lifetime.
type tokenResponse struct {
	AccessToken  string `json:"access_token"`
	TokenType    string `json:"token_type"`
	RefreshToken string `json:"refresh_token"`
	ExpiresIn    int    `json:"expires_in"`
}

func newTokenResponse(t *usermgmt.Tokens) tokenResponse {
	return tokenResponse{AccessToken: t.AccessToken, TokenType: "bearer", RefreshToken: t.RefreshToken, ExpiresIn: t.ExpiresIn}
}

// userRead is the reference's UserRead. UserHistory is a pointer so that a
// list of users can leave it out while a single user always carries it.
type userRead struct {
	UUID             string            `json:"uuid"`
	Username         string            `json:"username"`
	DisplayName      string            `json:"display_name"`
	Email            string            `json:"email"`
	EmailVerified    bool              `json:"email_verified"`
	OTPMethod        string            `json:"otp_method"`
	Roles            []string          `json:"roles"`
	Description      *string           `json:"description"`
	IsExternalOnly   bool              `json:"is_external_only"`
	IsActive         bool              `json:"is_active"`
	BlockedUUIDs     []string          `json:"blocked_uuids"`
	ProfilePicture   *fileRead         `json:"profile_picture"`
	CreatedAt        int64             `json:"created_at"`
	UpdatedAt        int64             `json:"updated_at"`
	UserHistory      *[]historyEntry   `json:"user_history,omitempty"`
	ExternalAccounts []externalAccount `json:"external_accounts"`
	Files            []fileRead        `json:"files"`
	PictureURL       string            `json:"picture_url"`
	// ImpersonatedBy is the admin impersonating the caller, on GET
	// /user/me only; absent otherwise.
	ImpersonatedBy string `json:"impersonated_by,omitempty"`
}

// userDetails is what GET /user/{uuid}/details shows of another user:
// UserRead without email, otp_method, blocked_uuids, user_history,
// external_accounts, email_verified and is_external_only.
type userDetails struct {
	UUID           string     `json:"uuid"`
	Username       string     `json:"username"`
	DisplayName    string     `json:"display_name"`
	Roles          []string   `json:"roles"`
	Description    *string    `json:"description"`
	IsActive       bool       `json:"is_active"`
	ProfilePicture *fileRead  `json:"profile_picture"`
	CreatedAt      int64      `json:"created_at"`
	UpdatedAt      int64      `json:"updated_at"`
	Files          []fileRead `json:"files"`
	PictureURL     string     `json:"picture_url"`
}

// historyEntry is one line of a user's history.
type historyEntry struct {
	Time        string `json:"time"`
	Action      string `json:"action"`
	Description string `json:"description"`
	By          string `json:"by"`
}

// historyTimeLayout is the reference's history time format.
const historyTimeLayout = "2006-01-02 15:04:05 UTC"

// fileRead is the reference's FileRead (FileReadDB plus file_url, which
// here points at the route that serves the content) with the content's
// size, sniffed type and SHA-256. created_by_uuid is null once the uploader
// is deleted.
type fileRead struct {
	ID            int64   `json:"id"`
	FileName      string  `json:"file_name"`
	FileType      string  `json:"file_type"`
	Description   *string `json:"description"`
	CreatedAt     int64   `json:"created_at"`
	CreatedByUUID *string `json:"created_by_uuid"`
	OwnerUUID     string  `json:"owner_uuid"`
	ContentType   string  `json:"content_type"`
	Size          int64   `json:"size"`
	SHA256        string  `json:"sha256"`
	FileURL       string  `json:"file_url"`
}

// externalAccount is a linked OAuth account (a later issue fills them).
type externalAccount struct {
	ExternalAccountID string `json:"external_account_id"`
	Provider          string `json:"provider"`
	UserUUID          string `json:"user_uuid"`
	Username          string `json:"username"`
	DisplayName       string `json:"display_name"`
	Email             string `json:"email"`
	PictureURL        string `json:"picture_url"`
}

// sessionRead is one of the caller's sessions.
type sessionRead struct {
	ID         string `json:"id"`
	CreatedAt  int64  `json:"created_at"`
	LastUsedAt int64  `json:"last_used_at"`
	ExpiresAt  int64  `json:"expires_at"`
	IP         string `json:"ip"`
	UserAgent  string `json:"user_agent"`
	Current    bool   `json:"current"`
}

// banResponse is the reference's answer to a ban or an unban; both carry
// Reason (an unban's is "" when none was given).
type banResponse struct {
	Admin  string `json:"Admin"`
	Action string `json:"Action"`
	User   string `json:"User"`
	Reason string `json:"Reason"`
}

// versionResponse is GET /version.
type versionResponse struct {
	ProjectVersion string `json:"Project_Version"`
	GoVersion      string `json:"Go_Version"`
}

// wire converts domain values to their JSON shapes.
type wire struct {
	// pictureBase is BaseURL + prefix + "/user/"; a user's picture is at
	// pictureBase + uuid + "/image".
	pictureBase string
	// fileBase is BaseURL + prefix + "/file/"; a file's content is at
	// fileBase + id + "/file".
	fileBase string
}

// file returns f as FileRead; nil for nil.
func (w wire) file(f *usermgmt.File) *fileRead {
	if f == nil {
		return nil
	}
	return &fileRead{
		ID: f.ID, FileName: f.FileName, FileType: f.FileType, Description: nullIfEmpty(f.Description),
		CreatedAt: unix(f.CreatedAt), CreatedByUUID: nullIfEmpty(f.CreatedByUUID), OwnerUUID: f.OwnerUUID,
		ContentType: f.ContentType, Size: f.Size, SHA256: f.SHA256,
		FileURL: w.fileBase + strconv.FormatInt(f.ID, 10) + "/file",
	}
}

// files returns fs as a list of FileRead.
func (w wire) files(fs []*usermgmt.File) []*fileRead {
	out := make([]*fileRead, len(fs))
	for i, f := range fs {
		out[i] = w.file(f)
	}
	return out
}

// profile returns a user's profile as UserRead with history and picture.
func (w wire) profile(p *usermgmt.Profile) userRead {
	r := w.userWithHistory(p.User, p.History)
	r.ProfilePicture = w.file(p.Picture)
	r.Files = make([]fileRead, len(p.Files))
	for i, f := range p.Files {
		r.Files[i] = *w.file(f)
	}
	r.ExternalAccounts = make([]externalAccount, len(p.Identities))
	for i, x := range p.Identities {
		r.ExternalAccounts[i] = externalAccount{
			ExternalAccountID: x.Subject, Provider: x.Provider, UserUUID: x.UserUUID,
			Username: x.Username, DisplayName: x.DisplayName, Email: x.Email, PictureURL: x.PictureURL,
		}
	}
	return r
}

func orEmpty(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

func nullIfEmpty(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

func unix(t time.Time) int64 { return t.Unix() }

func (w wire) pictureURL(uuid string) string { return w.pictureBase + uuid + "/image" }

// user returns u as UserRead without its history.
func (w wire) user(u *usermgmt.User) userRead {
	return userRead{
		UUID: u.UUID, Username: u.Username, DisplayName: u.DisplayName,
		Email: u.Email, EmailVerified: u.EmailVerified, OTPMethod: u.OTPMethod,
		Roles: orEmpty(u.Roles), Description: nullIfEmpty(u.Description),
		IsExternalOnly: u.IsExternalOnly, IsActive: u.IsActive,
		BlockedUUIDs: orEmpty(u.BlockedUUIDs),
		CreatedAt:    unix(u.CreatedAt), UpdatedAt: unix(u.UpdatedAt),
		ExternalAccounts: []externalAccount{}, Files: []fileRead{},
		PictureURL: w.pictureURL(u.UUID),
	}
}

// userWithHistory returns u as UserRead with the given history (which may
// be empty, never absent). history comes newest first (usermgmt.Profile);
// the wire has it oldest first, as the reference appended to it: its
// clients read user_history[-1] as the latest entry.
func (w wire) userWithHistory(u *usermgmt.User, history []*usermgmt.AuditEntry) userRead {
	r := w.user(u)
	h := make([]historyEntry, len(history))
	for i, e := range history {
		h[len(history)-1-i] = historyEntry{
			Time: e.Time.UTC().Format(historyTimeLayout), Action: e.Action,
			Description: e.Detail, By: e.ActorUUID,
		}
	}
	r.UserHistory = &h
	return r
}

// users returns us as a list of UserRead without history.
func (w wire) users(us []*usermgmt.User) []userRead {
	out := make([]userRead, len(us))
	for i, u := range us {
		out[i] = w.user(u)
	}
	return out
}

// details returns what anyone allowed to read u sees.
func (w wire) details(u *usermgmt.User) userDetails {
	return userDetails{
		UUID: u.UUID, Username: u.Username, DisplayName: u.DisplayName,
		Roles: orEmpty(u.Roles), Description: nullIfEmpty(u.Description),
		IsActive: u.IsActive, CreatedAt: unix(u.CreatedAt), UpdatedAt: unix(u.UpdatedAt),
		Files: []fileRead{}, PictureURL: w.pictureURL(u.UUID),
	}
}

// sessions returns ss, marking the one the caller's token belongs to.
func (w wire) sessions(ss []*usermgmt.Session, current string) []sessionRead {
	out := make([]sessionRead, len(ss))
	for i, s := range ss {
		out[i] = sessionRead{
			ID: s.ID, CreatedAt: unix(s.CreatedAt), LastUsedAt: unix(s.RotatedAt),
			ExpiresAt: unix(s.ExpiresAt), IP: s.IP, UserAgent: s.UserAgent,
			Current: s.ID == current,
		}
	}
	return out
}
