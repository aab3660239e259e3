package usermgmt

import "time"

// Session is one login: a row that outlives the short access token and
// carries the refresh token (stored only as hashes).
type Session struct {
	ID       string
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
	CreatedAt       time.Time
	RotatedAt       time.Time
	ExpiresAt       time.Time
	RevokedAt       *time.Time
	IP              string
	UserAgent       string
}

// Active reports whether the session can still be used at now.
func (s *Session) Active(now time.Time) bool {
	return s.RevokedAt == nil && now.Before(s.ExpiresAt)
}
