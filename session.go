package usermgmt

import "time"

// Session is one login: a row that outlives the short access token and
// carries the refresh token (stored only as hashes).
type Session struct {
	// ID identifies the session (a UUID); access tokens carry it as "sid".
	ID string
	// UserUUID is the user who logged in.
	UserUUID string
	// Generation counts refresh rotations.
	Generation int64
	// RefreshHash is the SHA-256 of the current refresh token,
	// PrevRefreshHash that of the one it replaced.
	RefreshHash     []byte `json:"-"`
	PrevRefreshHash []byte `json:"-"`
	// SealedSuccessor is the current refresh token encrypted under the
	// server's key, so that a parallel request presenting the previous token
	// within the grace window receives the same successor.
	SealedSuccessor []byte `json:"-"`
	// CreatedAt is the login; RotatedAt the last refresh (or the login).
	CreatedAt time.Time
	RotatedAt time.Time
	// ExpiresAt ends the session unless a refresh moves it; RevokedAt is
	// set when it was ended early (logout, ban, reuse...).
	ExpiresAt time.Time
	RevokedAt *time.Time
	// IP and UserAgent describe the client that logged in.
	IP        string
	UserAgent string
}

// Active reports whether the session can still be used at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}
