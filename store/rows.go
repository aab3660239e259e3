package store

import (
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt"
)

// userRow is the users table.
type userRow struct {
	bun.BaseModel `bun:"table:users,alias:u"`

	UUID             string     `bun:"uuid,pk"`
	Username         string     `bun:"username"`
	DisplayName      string     `bun:"display_name"`
	Email            string     `bun:"email"`
	EmailVerified    bool       `bun:"email_verified"`
	PasswordHash     string     `bun:"password_hash"`
	OTPMethod        string     `bun:"otp_method"`
	OTPSecret        string     `bun:"otp_secret"`
	Roles            stringList `bun:"roles"`
	Description      string     `bun:"description"`
	IsExternalOnly   bool       `bun:"is_external_only"`
	IsActive         bool       `bun:"is_active"`
	BlockedUUIDs     stringList `bun:"blocked_uuids"`
	ProfilePictureID *int64     `bun:"profile_picture_id"`
	CreatedAt        time.Time  `bun:"created_at"`
	UpdatedAt        time.Time  `bun:"updated_at"`
}

func newUserRow(u *usermgmt.User) *userRow {
	otp := u.OTPMethod
	if otp == "" {
		otp = usermgmt.OTPNone
	}
	return &userRow{
		UUID:             u.UUID,
		Username:         u.Username,
		DisplayName:      u.DisplayName,
		Email:            u.Email,
		EmailVerified:    u.EmailVerified,
		PasswordHash:     u.PasswordHash,
		OTPMethod:        otp,
		OTPSecret:        u.OTPSecret,
		Roles:            stringList(u.Roles),
		Description:      u.Description,
		IsExternalOnly:   u.IsExternalOnly,
		IsActive:         u.IsActive,
		BlockedUUIDs:     stringList(u.BlockedUUIDs),
		ProfilePictureID: copyInt64(u.ProfilePictureID),
		CreatedAt:        dbTime(u.CreatedAt),
		UpdatedAt:        dbTime(u.UpdatedAt),
	}
}

func (r *userRow) user() *usermgmt.User {
	return &usermgmt.User{
		UUID:             r.UUID,
		Username:         r.Username,
		DisplayName:      r.DisplayName,
		Email:            r.Email,
		EmailVerified:    r.EmailVerified,
		PasswordHash:     r.PasswordHash,
		OTPMethod:        r.OTPMethod,
		OTPSecret:        r.OTPSecret,
		Roles:            r.Roles.strings(),
		Description:      r.Description,
		IsExternalOnly:   r.IsExternalOnly,
		IsActive:         r.IsActive,
		BlockedUUIDs:     r.BlockedUUIDs.strings(),
		ProfilePictureID: copyInt64(r.ProfilePictureID),
		CreatedAt:        r.CreatedAt.UTC(),
		UpdatedAt:        r.UpdatedAt.UTC(),
	}
}

// sessionRow is the sessions table.
type sessionRow struct {
	bun.BaseModel `bun:"table:sessions,alias:s"`

	ID              string     `bun:"id,pk"`
	UserUUID        string     `bun:"user_uuid"`
	Generation      int64      `bun:"generation"`
	RefreshHash     []byte     `bun:"refresh_hash"`
	PrevRefreshHash []byte     `bun:"prev_refresh_hash"`
	SealedSuccessor []byte     `bun:"sealed_successor"`
	CreatedAt       time.Time  `bun:"created_at"`
	RotatedAt       time.Time  `bun:"rotated_at"`
	ExpiresAt       time.Time  `bun:"expires_at"`
	RevokedAt       *time.Time `bun:"revoked_at"`
	IP              string     `bun:"ip"`
	UserAgent       string     `bun:"user_agent"`
}

func newSessionRow(s *usermgmt.Session) *sessionRow {
	return &sessionRow{
		ID:              s.ID,
		UserUUID:        s.UserUUID,
		Generation:      s.Generation,
		RefreshHash:     s.RefreshHash,
		PrevRefreshHash: s.PrevRefreshHash,
		SealedSuccessor: s.SealedSuccessor,
		CreatedAt:       dbTime(s.CreatedAt),
		RotatedAt:       dbTime(s.RotatedAt),
		ExpiresAt:       dbTime(s.ExpiresAt),
		RevokedAt:       dbTimePtr(s.RevokedAt),
		IP:              s.IP,
		UserAgent:       s.UserAgent,
	}
}

func (r *sessionRow) session() *usermgmt.Session {
	s := &usermgmt.Session{
		ID:              r.ID,
		UserUUID:        r.UserUUID,
		Generation:      r.Generation,
		RefreshHash:     r.RefreshHash,
		PrevRefreshHash: r.PrevRefreshHash,
		SealedSuccessor: r.SealedSuccessor,
		CreatedAt:       r.CreatedAt.UTC(),
		RotatedAt:       r.RotatedAt.UTC(),
		ExpiresAt:       r.ExpiresAt.UTC(),
		IP:              r.IP,
		UserAgent:       r.UserAgent,
	}
	if r.RevokedAt != nil {
		t := r.RevokedAt.UTC()
		s.RevokedAt = &t
	}
	return s
}

// auditRow is the audit_log table.
type auditRow struct {
	bun.BaseModel `bun:"table:audit_log,alias:a"`

	ID          int64     `bun:"id,pk,autoincrement"`
	Time        time.Time `bun:"time"`
	ActorUUID   string    `bun:"actor_uuid"`
	SubjectUUID string    `bun:"subject_uuid"`
	Action      string    `bun:"action"`
	Detail      string    `bun:"detail"`
	IP          string    `bun:"ip"`
}

func newAuditRow(e *usermgmt.AuditEntry) *auditRow {
	return &auditRow{
		Time:        dbTime(e.Time),
		ActorUUID:   e.ActorUUID,
		SubjectUUID: e.SubjectUUID,
		Action:      e.Action,
		Detail:      auditDetail(e.Detail, e.ImpersonatorUUID),
		IP:          e.IP,
	}
}

// The impersonator of an audit entry lives in its detail column, before
// the detail, between two record separators (U+001E, a control character
// no cleaned text holds): "\x1eimpersonator=<uuid>\x1e<detail>". The
// schema stays as it is; a detail of its own that begins with the
// separator is stored without it, so that it cannot pass for one.
const auditMark = "\x1e"

const auditImpersonator = auditMark + "impersonator="

func auditDetail(detail, impersonator string) string {
	detail = strings.TrimLeft(detail, auditMark)
	if impersonator == "" {
		return detail
	}
	return auditImpersonator + impersonator + auditMark + detail
}

// splitAuditDetail is the inverse of auditDetail.
func splitAuditDetail(stored string) (detail, impersonator string) {
	rest, ok := strings.CutPrefix(stored, auditImpersonator)
	if !ok {
		return stored, ""
	}
	id, detail, ok := strings.Cut(rest, auditMark)
	if !ok {
		return stored, ""
	}
	return detail, id
}

func (r *auditRow) entry() *usermgmt.AuditEntry {
	detail, impersonator := splitAuditDetail(r.Detail)
	return &usermgmt.AuditEntry{
		ID:               r.ID,
		Time:             r.Time.UTC(),
		ActorUUID:        r.ActorUUID,
		SubjectUUID:      r.SubjectUUID,
		Action:           r.Action,
		Detail:           detail,
		IP:               r.IP,
		ImpersonatorUUID: impersonator,
	}
}

// stringList is a list of strings stored as a JSON array (TEXT on SQLite,
// jsonb on PostgreSQL). A nil list is stored as [] and read back empty.
type stringList []string

// Value implements driver.Valuer.
func (l stringList) Value() (driver.Value, error) {
	if l == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(l))
	if err != nil {
		return nil, err
	}
	return string(b), nil
}

// Scan implements sql.Scanner.
func (l *stringList) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case nil:
		*l = stringList{}
		return nil
	case string:
		b = []byte(v)
	case []byte:
		b = v
	default:
		return fmt.Errorf("store: cannot read a JSON list from %T", src)
	}
	var out []string
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("store: read JSON list: %w", err)
	}
	if out == nil {
		out = []string{}
	}
	*l = out
	return nil
}

// strings returns a fresh, non-nil copy of l.
func (l stringList) strings() []string {
	return append(make([]string, 0, len(l)), l...)
}

// dbTime returns t as stored: UTC, truncated to the microsecond both
// databases keep.
func dbTime(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

func dbTimePtr(t *time.Time) *time.Time {
	if t == nil {
		return nil
	}
	v := dbTime(*t)
	return &v
}

func copyInt64(p *int64) *int64 {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// clampLimit turns a requested page size into the one served: def when
// none (zero or negative) was asked for, and never more than most.
func clampLimit(limit, def, most int) int {
	switch {
	case limit <= 0:
		return def
	case limit > most:
		return most
	}
	return limit
}
