package main

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// Issue 15 item 1: five wrong passwords locked the admin out and no
// command lifted the lock. `server unlock admin` does.
func TestUnlockCommand(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	getenv := env(map[string]string{"DATA_DIR": dir})
	// withServer runs f with a Manager over the server's database.
	withServer := func(f func(m *usermgmt.Manager)) {
		t.Helper()
		withTestManager(t, getenv, f)
	}
	withServer(func(m *usermgmt.Manager) {
		if err := ensureAdmin(ctx, m, Config{DataDir: dir, AdminPassword: "Admin-Pass-123"}, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
		for range usermgmt.DefaultLockout.Threshold {
			_, _ = m.Login(ctx, "admin", "wrong")
		}
		if _, err := m.Login(ctx, "admin", "Admin-Pass-123"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
			t.Fatalf("admin not locked: %v", err)
		}
	})

	var out bytes.Buffer
	if err := runCommand(ctx, []string{"unlock", "nobody_here"}, getenv, &out); !errors.Is(err, usermgmt.ErrUserNotFound) {
		t.Errorf("unlock of an unknown user: %v", err)
	}
	for _, args := range [][]string{{"unlock"}, {"unlock", "a", "b"}, {"frobnicate"}} {
		if err := runCommand(ctx, args, getenv, &out); !errors.Is(err, errUsage) {
			t.Errorf("%q: %v, want the usage", args, err)
		}
	}
	out.Reset()
	if err := runCommand(ctx, []string{"unlock", "admin@example.com"}, getenv, &out); err != nil {
		t.Fatalf("unlock: %v", err)
	}
	if !strings.HasPrefix(out.String(), "unlocked admin (") {
		t.Errorf("output %q", out.String())
	}
	withServer(func(m *usermgmt.Manager) {
		if _, err := m.Login(ctx, "admin", "Admin-Pass-123"); err != nil {
			t.Fatalf("admin still locked: %v", err)
		}
	})
}
