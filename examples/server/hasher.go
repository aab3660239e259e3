package main

import (
	"fmt"

	"github.com/usermgmt/usermgmt/hashers"
)

// Hashing is the password hasher's configuration: PASSWORD_HASHER,
// ARGON2_MEMORY_KIB, ARGON2_TIME, ARGON2_THREADS and
// ARGON2_MEMORY_BUDGET_MIB.
type Hashing struct {
	// Algorithm is PASSWORD_HASHER: hashers.Bcrypt (the default, with
	// BCRYPT_COST) or hashers.Argon2id. Either way every format of the
	// hashers package verifies, so imported users log in and are rehashed.
	Algorithm string
	// Argon2 are ARGON2_MEMORY_KIB (m, default 19456), ARGON2_TIME (t,
	// default 2) and ARGON2_THREADS (p, default 1).
	Argon2 hashers.Argon2Params
	// MemoryBudgetMiB is ARGON2_MEMORY_BUDGET_MIB (default 256): the memory
	// that concurrent argon2 and scrypt computations use together.
	MemoryBudgetMiB int
}

// maxMemoryBudgetMiB bounds ARGON2_MEMORY_BUDGET_MIB (64 GiB).
const maxMemoryBudgetMiB = 64 << 10

// hashing reads PASSWORD_HASHER and ARGON2_*.
func (p *parser) hashing() Hashing {
	d := hashers.DefaultArgon2Params
	return Hashing{
		Algorithm: p.oneOf("PASSWORD_HASHER", hashers.Bcrypt, hashers.Bcrypt, hashers.Argon2id),
		Argon2: hashers.Argon2Params{
			MemoryKiB: uint32(p.intRange("ARGON2_MEMORY_KIB", int(d.MemoryKiB), 8, 4<<20)),
			Time:      uint32(p.intRange("ARGON2_TIME", int(d.Time), 1, 10)),
			Threads:   uint8(p.intRange("ARGON2_THREADS", int(d.Threads), 1, 8)),
		},
		MemoryBudgetMiB: p.intRange("ARGON2_MEMORY_BUDGET_MIB", 256, 1, maxMemoryBudgetMiB),
	}
}

// hasher builds the password hasher: hashers.New checks what the parser
// cannot alone (m × the concurrent hashes within the budget, m ≥ 8·p).
// MaxConcurrent is the core's default, so the bound is the one the
// library applies to bcrypt.
func (c Config) hasher() (*hashers.Hasher, error) {
	h := c.Hashing
	if h.Algorithm == "" {
		h.Algorithm = hashers.Bcrypt
	}
	budget := uint64(h.MemoryBudgetMiB) << 20
	limits := hashers.DefaultLimits
	// A cost the operator chose is a cost the server's own hashes carry.
	limits.MaxBcryptCost = max(limits.MaxBcryptCost, c.BcryptCost)
	limits.MaxMemory = max(limits.MaxMemory, uint64(h.Argon2.MemoryKiB)<<10)
	hs, err := hashers.New(hashers.Options{
		Algorithm:    h.Algorithm,
		BcryptCost:   c.BcryptCost,
		Argon2:       h.Argon2,
		MemoryBudget: budget,
		Limits:       limits,
	})
	if err != nil {
		return nil, fmt.Errorf("PASSWORD_HASHER, ARGON2_*: %w", err)
	}
	return hs, nil
}
