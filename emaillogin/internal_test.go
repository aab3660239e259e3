package emaillogin

import (
	"bytes"
	"context"
	"crypto/rand"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store/anydb"
)

func TestUsernameOf(t *testing.T) {
	for addr, want := range map[string]string{
		"jane.doe@example.com": "jane_doe",
		"Jane+Tag@example.com": "jane_tag",
		"ab@example.com":       "ab_user",
		"..@example.com":       "user_user",
		"émile@example.com":    "mile_user",
		"x__y--z@example.com":  "x_y_z",
		"a.very.long.local.part.that.goes.on@example.com": "a_very_long_local_part_that_goes",
	} {
		got := usernameOf(addr)
		if got != want || usermgmt.ValidateUsername(got) != nil {
			t.Errorf("usernameOf(%q) = %q, want %q (valid)", addr, got, want)
		}
	}
}

// TestNewCode: codes are six digits, zeros kept, drawn from the
// Manager's randomness with rejection of the biased top range.
func TestNewCode(t *testing.T) {
	// 0xFFFFFFFF is rejected (above the largest multiple of 10^6), then
	// 0x00000007 gives "000007".
	f := &EmailLogin{m: newManagerWithRand(t, bytes.NewReader([]byte{0xff, 0xff, 0xff, 0xff, 0, 0, 0, 7}))}
	code, err := f.newCode()
	if err != nil || code != "000007" {
		t.Fatalf("newCode = %q, %v; want 000007", code, err)
	}
	for _, c := range []string{"000007", "999999"} {
		if !ValidCode(c) {
			t.Errorf("ValidCode(%q) = false", c)
		}
	}
	for _, c := range []string{"", "12345", "1234567", "12a456", "١٢٣٤٥٦", " 12345"} {
		if ValidCode(c) {
			t.Errorf("ValidCode(%q) = true", c)
		}
	}
}

func TestValidFor(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Minute: "10 minutes", time.Minute: "1 minute", 90 * time.Second: "90 seconds", time.Second: "1 second",
	} {
		if got := validFor(d); got != want {
			t.Errorf("validFor(%v) = %q, want %q", d, got, want)
		}
	}
}

// newManagerWithRand is a Manager over an in-memory store whose
// randomness is r, for the feature's own draws. New itself draws from
// Config.Rand, so r is read through a switch set after New.
func newManagerWithRand(t *testing.T, r io.Reader) *usermgmt.Manager {
	t.Helper()
	st, err := anydb.Open(context.Background(), "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	src := &switchReader{r: rand.Reader}
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BcryptCost: 4,
		DataDir: t.TempDir(), Rand: src, Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = m.Close() })
	src.r = r
	return m
}

type switchReader struct{ r io.Reader }

func (s *switchReader) Read(p []byte) (int, error) { return s.r.Read(p) }
