package httpadapter

import (
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

func TestCursorRoundTrip(t *testing.T) {
	c := usermgmt.UserCursor{CreatedAt: time.Date(2025, 3, 14, 15, 9, 26, 535897000, time.UTC), UUID: "0f0e0d0c-0b0a-4908-8706-050403020100"}
	got, err := parseUserCursor(formatUserCursor(c))
	if err != nil || !got.CreatedAt.Equal(c.CreatedAt) || got.UUID != c.UUID {
		t.Fatalf("user cursor round trip: %+v, %v", got, err)
	}
	id, err := parseAuditCursor(formatAuditCursor(42))
	if err != nil || id != 42 {
		t.Fatalf("audit cursor round trip: %d, %v", id, err)
	}
	// A cursor of one list is refused by the other.
	if _, err := parseUserCursor(formatAuditCursor(42)); err == nil {
		t.Fatal("audit cursor accepted as a user cursor")
	}
	if _, err := parseAuditCursor(formatUserCursor(c)); err == nil {
		t.Fatal("user cursor accepted as an audit cursor")
	}
}

// FuzzParseCursor: a client's cursor parses into a valid position or is a
// 422, and a parsed one formats back to an equivalent cursor.
func FuzzParseCursor(f *testing.F) {
	f.Add(formatAuditCursor(7))
	f.Add(formatUserCursor(usermgmt.UserCursor{CreatedAt: time.Unix(1, 0), UUID: "0f0e0d0c-0b0a-4908-8706-050403020100"}))
	f.Add("")
	f.Fuzz(func(t *testing.T, s string) {
		if c, err := parseUserCursor(s); err == nil {
			if usermgmt.ValidateUUID(c.UUID) != nil {
				t.Fatalf("parsed a bad UUID %q", c.UUID)
			}
			again, err := parseUserCursor(formatUserCursor(*c))
			if err != nil || !again.CreatedAt.Equal(c.CreatedAt) || again.UUID != c.UUID {
				t.Fatalf("re-parse of %q: %+v %v", s, again, err)
			}
		}
		if id, err := parseAuditCursor(s); err == nil && id <= 0 {
			t.Fatalf("parsed id %d", id)
		}
	})
}
