package httpadapter

import (
	"encoding/base64"
	"strconv"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
)

// Cursors are opaque to clients: base64url of a versioned position. They
// carry no secret; a forged cursor only moves the page.

const (
	userCursorTag  = "u1"
	auditCursorTag = "a1"
	maxCursorLen   = 128
)

var errBadCursor = invalid("cursor: not a cursor of this list")

// formatUserCursor encodes a position in the users' order.
func formatUserCursor(c usermgmt.UserCursor) string {
	s := userCursorTag + "." + strconv.FormatInt(c.CreatedAt.UnixMicro(), 10) + "." + c.UUID
	return base64.RawURLEncoding.EncodeToString([]byte(s))
}

// parseUserCursor decodes what formatUserCursor made.
func parseUserCursor(s string) (*usermgmt.UserCursor, error) {
	parts, err := cursorParts(s, userCursorTag, 3)
	if err != nil {
		return nil, err
	}
	us, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || usermgmt.ValidateUUID(parts[2]) != nil {
		return nil, errBadCursor
	}
	return &usermgmt.UserCursor{CreatedAt: time.UnixMicro(us).UTC(), UUID: strings.ToLower(parts[2])}, nil
}

// formatAuditCursor encodes the last audit entry ID of a page.
func formatAuditCursor(id int64) string {
	return base64.RawURLEncoding.EncodeToString([]byte(auditCursorTag + "." + strconv.FormatInt(id, 10)))
}

// parseAuditCursor decodes what formatAuditCursor made.
func parseAuditCursor(s string) (int64, error) {
	parts, err := cursorParts(s, auditCursorTag, 2)
	if err != nil {
		return 0, err
	}
	id, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || id <= 0 {
		return 0, errBadCursor
	}
	return id, nil
}

func cursorParts(s, tag string, n int) ([]string, error) {
	if len(s) > maxCursorLen {
		return nil, errBadCursor
	}
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return nil, errBadCursor
	}
	parts := strings.Split(string(b), ".")
	if len(parts) != n || parts[0] != tag {
		return nil, errBadCursor
	}
	return parts, nil
}
