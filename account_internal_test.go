package usermgmt

import (
	"context"
	"errors"
	"log/slog"
	"testing"
	"time"
)

func TestValidFor(t *testing.T) {
	for ttl, want := range map[time.Duration]string{
		24 * time.Hour:   "24 hours",
		time.Hour:        "1 hour",
		30 * time.Minute: "30 minutes",
		90 * time.Second: "90 seconds",
		30 * time.Second: "30 seconds",
		time.Minute:      "1 minute",
	} {
		if got := validFor(ttl); got != want {
			t.Errorf("validFor(%v) = %q, want %q", ttl, got, want)
		}
	}
}

// TestComparePasswordUnreadableHash: a stored hash the hasher cannot read
// is a wrong password (as at login), not an internal error.
func TestComparePasswordUnreadableHash(t *testing.T) {
	m := &Manager{hasher: NewBcryptHasher(4, 1), log: slog.New(slog.DiscardHandler)}
	ctx := context.Background()
	good, err := m.hasher.Hash(ctx, "Correct-Horse-9")
	if err != nil {
		t.Fatal(err)
	}
	for hash, want := range map[string]error{
		good:                 nil,
		"md5$5f4dcc3b5aa765": ErrWrongPassword,
		"":                   ErrWrongPassword,
	} {
		if err := m.comparePassword(ctx, hash, "Correct-Horse-9"); !errors.Is(err, want) && !(want == nil && err == nil) {
			t.Errorf("comparePassword(%q) = %v, want %v", hash, err, want)
		}
	}
	if err := m.comparePassword(ctx, good, "Wrong-Horse-9"); !errors.Is(err, ErrWrongPassword) {
		t.Errorf("wrong password: %v", err)
	}
}

// TestCleanTextDropsFormatCharacters: bidirectional overrides and other
// format characters go, as control characters do.
func TestCleanTextDropsFormatCharacters(t *testing.T) {
	for in, want := range map[string]string{
		"jane\u202Egnp.exe": "janegnp.exe",
		"a\u200Bb\u2066c":   "abc",
		"tab\there\x00":     "tabhere",
		"Zoë 東京":            "Zoë 東京",
	} {
		if got := cleanText(in, 64); got != want {
			t.Errorf("cleanText(%q) = %q, want %q", in, got, want)
		}
	}
}
