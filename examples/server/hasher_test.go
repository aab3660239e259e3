package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/hashers"
)

// defaultHashing is what the parser returns when no variable is set.
var defaultHashing = Hashing{
	Algorithm:       hashers.Bcrypt,
	Argon2:          hashers.Argon2Params{MemoryKiB: 19456, Time: 2, Threads: 1},
	MemoryBudgetMiB: 256,
}

func TestHashingConfigValues(t *testing.T) {
	c, err := loadConfig(env(map[string]string{
		"PASSWORD_HASHER":          "Argon2id",
		"ARGON2_MEMORY_KIB":        "8192",
		"ARGON2_TIME":              "3",
		"ARGON2_THREADS":           "2",
		"ARGON2_MEMORY_BUDGET_MIB": "64",
	}))
	if err != nil {
		t.Fatalf("loadConfig = %v", err)
	}
	want := Hashing{Algorithm: hashers.Argon2id, Argon2: hashers.Argon2Params{MemoryKiB: 8192, Time: 3, Threads: 2}, MemoryBudgetMiB: 64}
	if c.Hashing != want {
		t.Fatalf("Hashing = %+v, want %+v", c.Hashing, want)
	}
	h, err := c.hasher()
	if err != nil {
		t.Fatalf("hasher() = %v", err)
	}
	o := h.Options()
	if o.Algorithm != hashers.Argon2id || o.MemoryBudget != 64<<20 || o.Argon2.MemoryKiB != 8192 || o.Argon2.Time != 3 || o.Argon2.Threads != 2 {
		t.Fatalf("hasher options = %+v", o)
	}
	hash, err := h.Hash(context.Background(), "Correct-Horse-9")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$argon2id$v=19$m=8192,t=3,p=2$") {
		t.Fatalf("hash = %q, want argon2id with m=8192,t=3,p=2", hash)
	}
	if err := h.Compare(context.Background(), hash, "Correct-Horse-9"); err != nil {
		t.Fatalf("Compare = %v", err)
	}
}

// TestHashingDefaultIsBcrypt: unset, the server hashes with bcrypt at
// BCRYPT_COST as before, and still verifies an imported argon2id hash and
// asks for its rehash.
func TestHashingDefaultIsBcrypt(t *testing.T) {
	c, err := loadConfig(env(map[string]string{"BCRYPT_COST": "4"}))
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.hasher()
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	hash, err := h.Hash(ctx, "pw-Abcdef-1")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(hash, "$2a$04$") {
		t.Fatalf("hash = %q, want bcrypt of cost 4", hash)
	}
	a, err := hashers.New(hashers.Options{Algorithm: hashers.Argon2id, Argon2: hashers.Argon2Params{MemoryKiB: 64, Time: 1}})
	if err != nil {
		t.Fatal(err)
	}
	imported, err := a.Hash(ctx, "pw-Abcdef-1")
	if err != nil {
		t.Fatal(err)
	}
	if err := h.Compare(ctx, imported, "pw-Abcdef-1"); err != nil {
		t.Fatalf("Compare(argon2id) = %v", err)
	}
	if err := h.Compare(ctx, imported, "wrong"); !errors.Is(err, usermgmt.ErrWrongPassword) {
		t.Fatalf("Compare(argon2id, wrong) = %v", err)
	}
	if !h.NeedsRehash(imported) || h.NeedsRehash(hash) {
		t.Fatal("NeedsRehash: want true for argon2id, false for the configured bcrypt")
	}
}

// TestHashingHighBcryptCost: BCRYPT_COST accepts up to 31 as before; the
// hashers' limit on stored bcrypt costs follows it.
func TestHashingHighBcryptCost(t *testing.T) {
	c, err := loadConfig(env(map[string]string{"BCRYPT_COST": "16"}))
	if err != nil {
		t.Fatal(err)
	}
	h, err := c.hasher()
	if err != nil {
		t.Fatalf("hasher() with BCRYPT_COST=16: %v", err)
	}
	if got := h.Options().BcryptCost; got != 16 {
		t.Fatalf("BcryptCost = %d", got)
	}
}

func TestHashingConfigErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		vars map[string]string
		want string
	}{
		{"hasher", map[string]string{"PASSWORD_HASHER": "md5"}, "PASSWORD_HASHER"},
		{"memory text", map[string]string{"ARGON2_MEMORY_KIB": "19M"}, "ARGON2_MEMORY_KIB"},
		{"memory low", map[string]string{"ARGON2_MEMORY_KIB": "7"}, "ARGON2_MEMORY_KIB"},
		{"time zero", map[string]string{"ARGON2_TIME": "0"}, "ARGON2_TIME"},
		{"time high", map[string]string{"ARGON2_TIME": "11"}, "ARGON2_TIME"},
		{"threads zero", map[string]string{"ARGON2_THREADS": "0"}, "ARGON2_THREADS"},
		{"threads high", map[string]string{"ARGON2_THREADS": "256"}, "ARGON2_THREADS"},
		{"budget zero", map[string]string{"ARGON2_MEMORY_BUDGET_MIB": "0"}, "ARGON2_MEMORY_BUDGET_MIB"},
		{"budget huge", map[string]string{"ARGON2_MEMORY_BUDGET_MIB": "99999999"}, "ARGON2_MEMORY_BUDGET_MIB"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := loadConfig(env(tc.vars))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("loadConfig = %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

// TestHashingOverBudget: argon2id hashes that cannot run side by side
// within the budget stop startup with an error naming the variables.
func TestHashingOverBudget(t *testing.T) {
	c, err := loadConfig(env(map[string]string{
		"PASSWORD_HASHER": "argon2id", "ARGON2_MEMORY_KIB": "65536", "ARGON2_MEMORY_BUDGET_MIB": "32",
	}))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.hasher(); err == nil || !strings.Contains(err.Error(), "ARGON2_") || !strings.Contains(err.Error(), "budget") {
		t.Fatalf("hasher() = %v, want an over-budget error", err)
	}
	// The server refuses to start with it.
	err = run(context.Background(), env(map[string]string{"DATA_DIR": t.TempDir(), "ADDR": "127.0.0.1:0",
		"PASSWORD_HASHER": "argon2id", "ARGON2_MEMORY_KIB": "65536", "ARGON2_MEMORY_BUDGET_MIB": "32"}), io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "budget") {
		t.Fatalf("run = %v, want the over-budget error", err)
	}
}
