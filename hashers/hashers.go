// Package hashers holds the password hashers of usermgmt beyond the core's
// bcrypt: argon2id to hash new passwords with, and verifiers for the
// hashes other systems leave behind (bcrypt $2a$/$2b$/$2y$, argon2id and
// argon2i PHC strings, scrypt PHC strings, Firebase's scrypt variant and
// Django's PBKDF2-SHA256), so that users imported from them log in with
// their old passwords and are rehashed on the way.
//
// It implements the core's Hasher seam:
//
//	h, err := hashers.New(hashers.Options{Algorithm: hashers.Argon2id})
//	m, err := usermgmt.New(cfg, usermgmt.WithHasher(h))
//
// One semaphore bounds the hashing of every algorithm to
// Options.MaxConcurrent, and a second, weighted in bytes, keeps the memory
// of the memory-hard ones (argon2, scrypt) in flight under
// Options.MemoryBudget: each takes exactly what it allocates. Every parameter read from a stored hash is
// checked against Limits before any work, so an absurd imported hash
// (argon2 m = 4 GiB, bcrypt cost 31) is refused by ValidateHash at import
// and fails quickly at login instead of hanging it.
package hashers

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"math"
	"runtime"
	"sync/atomic"
	"time"

	"golang.org/x/sync/semaphore"

	"github.com/usermgmt/usermgmt"
)

// The algorithms new passwords can be hashed with.
const (
	Bcrypt   = "bcrypt"
	Argon2id = "argon2id"
)

// The scheme names Scheme reports for the formats this package reads.
const (
	SchemeBcrypt         = "bcrypt"
	SchemeArgon2id       = "argon2id"
	SchemeArgon2i        = "argon2i"
	SchemeScrypt         = "scrypt"
	SchemeFirebaseScrypt = "firebase-scrypt"
	SchemePBKDF2SHA256   = "pbkdf2_sha256"
)

var (
	// ErrUnknownFormat is a stored hash in none of the formats this
	// package reads.
	ErrUnknownFormat = errors.New("hashers: unknown hash format")
	// ErrMalformedHash is a hash in a known format that does not parse
	// (bad base64, missing or repeated fields, truncation).
	ErrMalformedHash = errors.New("hashers: malformed hash")
	// ErrParameters is a hash whose parameters are outside Limits.
	ErrParameters = errors.New("hashers: hash parameters out of bounds")
)

// Argon2Params are argon2id's cost parameters.
type Argon2Params struct {
	// MemoryKiB is m, in KiB. Default 19456 (19 MiB, OWASP's minimum).
	MemoryKiB uint32
	// Time is t, the number of passes. Default 2.
	Time uint32
	// Threads is p, the parallelism. Default 1.
	Threads uint8
	// SaltLen and KeyLen are in bytes. Defaults 16 and 32.
	SaltLen, KeyLen uint32
}

// DefaultArgon2Params are OWASP's recommended argon2id parameters.
var DefaultArgon2Params = Argon2Params{MemoryKiB: 19 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// Limits bound the parameters a stored hash may carry; a hash past them
// is refused (ErrParameters) before any hashing. Zero fields take the
// defaults of DefaultLimits.
type Limits struct {
	MaxBcryptCost int    // default 14
	MaxMemory     uint64 // bytes for one argon2 or scrypt computation; default 64 MiB, at most MemoryBudget
	MaxArgon2Time uint32 // default 10
	MaxThreads    int    // argon2's p and scrypt's p; default 8
	MaxPBKDF2Iter int    // default 2,000,000
	MaxScryptCost uint64 // N × r × p; default 2^20 (a fraction of a second per 128 MiB·pass)
}

// DefaultLimits bound the cost of verifying one imported hash to about a
// second on a current core.
var DefaultLimits = Limits{
	MaxBcryptCost: 14, MaxMemory: 64 << 20, MaxArgon2Time: 10, MaxThreads: 8,
	MaxPBKDF2Iter: 2_000_000, MaxScryptCost: 1 << 20,
}

// Options configures a Hasher.
type Options struct {
	// Algorithm hashes new passwords: Argon2id (the default) or Bcrypt.
	Algorithm string
	// BcryptCost is the cost of new bcrypt hashes. Default
	// usermgmt.DefaultBcryptCost.
	BcryptCost int
	// Argon2 are the parameters of new argon2id hashes; zero fields take
	// DefaultArgon2Params'.
	Argon2 Argon2Params
	// MaxConcurrent bounds concurrent hashing, whatever the algorithm
	// (usermgmt.Config.MaxConcurrentHashes). Default GOMAXPROCS - 1, at
	// least 1.
	MaxConcurrent int
	// MemoryBudget bounds, in bytes, the memory that concurrent argon2 and
	// scrypt computations use together: each waits for exactly the bytes
	// it allocates (argon2: m KiB; scrypt: 128·r·(N+p+2)). New fails when
	// MaxConcurrent argon2id hashes of Argon2.MemoryKiB do not fit, and
	// ValidateHash refuses a stored hash that alone needs more than the
	// budget. Default 256 MiB.
	MemoryBudget uint64
	// Limits bound the parameters of stored hashes; zero fields take
	// DefaultLimits'.
	Limits Limits
	// Rand is the source of salts. Default crypto/rand.Reader.
	Rand io.Reader
}

// Hasher hashes new passwords with the configured algorithm and verifies
// every format this package reads. It implements usermgmt.Hasher and
// usermgmt.HashValidator, and is safe for concurrent use.
type Hasher struct {
	opts Options
	// cpu bounds the computations of every algorithm to MaxConcurrent.
	cpu *semaphore.Weighted
	// mem is MemoryBudget in bytes; a memory-hard computation takes
	// exactly the bytes it allocates (scheme.memory) before its cpu slot.
	mem *semaphore.Weighted
	// waited, once the Manager's metrics are on (ReportWait), is told how
	// long each computation waited for memory and a slot.
	waited atomic.Pointer[func(context.Context, time.Duration)]
}

// ReportWait implements usermgmt.HashWaitReporter.
func (h *Hasher) ReportWait(f func(context.Context, time.Duration)) { h.waited.Store(&f) }

// New checks opts and returns a Hasher.
func New(opts Options) (*Hasher, error) {
	if opts.Algorithm == "" {
		opts.Algorithm = Argon2id
	}
	if opts.BcryptCost == 0 {
		opts.BcryptCost = usermgmt.DefaultBcryptCost
	}
	a, d := &opts.Argon2, DefaultArgon2Params
	a.MemoryKiB = orDefault(a.MemoryKiB, d.MemoryKiB)
	a.Time = orDefault(a.Time, d.Time)
	a.Threads = orDefault(a.Threads, d.Threads)
	a.SaltLen = orDefault(a.SaltLen, d.SaltLen)
	a.KeyLen = orDefault(a.KeyLen, d.KeyLen)
	if opts.MaxConcurrent <= 0 {
		opts.MaxConcurrent = max(1, runtime.GOMAXPROCS(0)-1)
	}
	opts.MemoryBudget = orDefault(opts.MemoryBudget, 256<<20)
	l, dl := &opts.Limits, DefaultLimits
	l.MaxBcryptCost = orDefault(l.MaxBcryptCost, dl.MaxBcryptCost)
	l.MaxMemory = min(orDefault(l.MaxMemory, dl.MaxMemory), opts.MemoryBudget)
	l.MaxArgon2Time = orDefault(l.MaxArgon2Time, dl.MaxArgon2Time)
	l.MaxThreads = orDefault(l.MaxThreads, dl.MaxThreads)
	l.MaxPBKDF2Iter = orDefault(l.MaxPBKDF2Iter, dl.MaxPBKDF2Iter)
	l.MaxScryptCost = orDefault(l.MaxScryptCost, dl.MaxScryptCost)
	if opts.Rand == nil {
		opts.Rand = rand.Reader
	}
	var errs []error
	switch opts.Algorithm {
	case Bcrypt, Argon2id:
	default:
		errs = append(errs, fmt.Errorf("algorithm %q is neither %s nor %s", opts.Algorithm, Argon2id, Bcrypt))
	}
	if opts.BcryptCost < 4 || opts.BcryptCost > l.MaxBcryptCost {
		errs = append(errs, fmt.Errorf("bcrypt cost %d is outside 4..%d", opts.BcryptCost, l.MaxBcryptCost))
	}
	mem := uint64(a.MemoryKiB) << 10
	if a.MemoryKiB < 8*uint32(a.Threads) || mem > l.MaxMemory {
		errs = append(errs, fmt.Errorf("argon2 memory %d KiB is outside %d KiB..%d KiB", a.MemoryKiB, 8*uint32(a.Threads), l.MaxMemory>>10))
	}
	if a.Time > l.MaxArgon2Time || int(a.Threads) > l.MaxThreads {
		errs = append(errs, fmt.Errorf("argon2 t=%d, p=%d exceed the limits t=%d, p=%d", a.Time, a.Threads, l.MaxArgon2Time, l.MaxThreads))
	}
	if a.SaltLen < 8 || a.SaltLen > 64 || a.KeyLen < 16 || a.KeyLen > 64 {
		errs = append(errs, fmt.Errorf("argon2 salt %d and key %d bytes: want 8..64 and 16..64", a.SaltLen, a.KeyLen))
	}
	if opts.Algorithm == Argon2id && uint64(opts.MaxConcurrent)*mem > opts.MemoryBudget {
		errs = append(errs, fmt.Errorf("%d concurrent argon2id hashes of %d KiB exceed the memory budget of %d MiB",
			opts.MaxConcurrent, a.MemoryKiB, opts.MemoryBudget>>20))
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("hashers: invalid options: %w", errors.Join(errs...))
	}
	return &Hasher{
		opts: opts,
		cpu:  semaphore.NewWeighted(int64(opts.MaxConcurrent)),
		mem:  semaphore.NewWeighted(int64(min(opts.MemoryBudget, math.MaxInt64))),
	}, nil
}

func orDefault[T comparable](v, def T) T {
	var zero T
	if v == zero {
		return def
	}
	return v
}

// Options returns the options in force, defaults applied.
func (h *Hasher) Options() Options { return h.opts }

// scheme is one parsed stored hash.
type scheme interface {
	name() string
	// memory is the bytes one verification allocates (0: negligible).
	memory() uint64
	// verify reports whether password matches, in constant time.
	verify(password []byte) bool
	// weaker reports whether the hash is weaker than the options'.
	weaker(o *Options) bool
}

// parse reads a stored hash in any known format and checks its
// parameters, and that its computation fits the memory budget.
func (h *Hasher) parse(hash string) (scheme, error) {
	s, err := h.parseFormat(hash)
	if err != nil {
		return nil, err
	}
	if mem := s.memory(); mem > h.opts.MemoryBudget {
		return nil, fmt.Errorf("%w: %s needs %d KiB, over the memory budget of %d KiB", ErrParameters, s.name(), mem>>10, h.opts.MemoryBudget>>10)
	}
	return s, nil
}

// parseFormat reads a stored hash in any known format and checks its
// parameters against Limits.
func (h *Hasher) parseFormat(hash string) (scheme, error) {
	if len(hash) > maxEncodedLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLen)
	}
	l := &h.opts.Limits
	switch {
	case hasAnyPrefix(hash, "$2a$", "$2b$", "$2y$", "$2x$"):
		return parseBcrypt(hash, l)
	case hasAnyPrefix(hash, "$argon2id$", "$argon2i$"):
		return parseArgon2(hash, l)
	case hasAnyPrefix(hash, "$scrypt$"):
		return parseScrypt(hash, l)
	case hasAnyPrefix(hash, "$firebase-scrypt$"):
		return parseFirebase(hash, l)
	case hasAnyPrefix(hash, "pbkdf2_sha256$"):
		return parsePBKDF2(hash, l)
	}
	return nil, ErrUnknownFormat
}

func hasAnyPrefix(s string, prefixes ...string) bool {
	for _, p := range prefixes {
		if len(s) >= len(p) && s[:len(p)] == p {
			return true
		}
	}
	return false
}

// ValidateHash implements usermgmt.HashValidator: nil when hash is in a
// known format with parameters inside Limits, an error matching
// ErrUnknownFormat, ErrMalformedHash or ErrParameters otherwise.
func (h *Hasher) ValidateHash(hash string) error {
	_, err := h.parse(hash)
	return err
}

// Scheme names the format of hash (SchemeBcrypt ...), or "" when it is in
// none this package reads.
func (h *Hasher) Scheme(hash string) string {
	s, err := h.parse(hash)
	if err != nil {
		return ""
	}
	return s.name()
}

// acquire waits for mem bytes of the memory budget (none for bcrypt and
// PBKDF2), then for one of the MaxConcurrent computation slots, and
// returns with both held: release gives them back. Memory comes first, so
// that a computation waiting for memory holds no slot that bcrypt could
// use. The weight is the computation's exact need, so the memory-hard
// computations in flight never allocate more than MemoryBudget together
// and never less than it allows. A need over the whole budget is refused
// (parse refuses such hashes already: Limits.MaxMemory ≤ MemoryBudget).
func (h *Hasher) acquire(ctx context.Context, mem uint64) error {
	if mem > h.opts.MemoryBudget {
		return fmt.Errorf("%w: %d MiB is over the memory budget of %d MiB", ErrParameters, mem>>20, h.opts.MemoryBudget>>20)
	}
	if f := h.waited.Load(); f != nil {
		defer func(start time.Time) { (*f)(ctx, time.Since(start)) }(time.Now())
	}
	if mem > 0 {
		if err := h.mem.Acquire(ctx, int64(mem)); err != nil {
			return fmt.Errorf("hashers: waiting for memory to hash: %w", err)
		}
	}
	if err := h.cpu.Acquire(ctx, 1); err != nil {
		if mem > 0 {
			h.mem.Release(int64(mem))
		}
		return fmt.Errorf("hashers: waiting to hash: %w", err)
	}
	return nil
}

// release gives back what acquire(ctx, mem) took.
func (h *Hasher) release(mem uint64) {
	h.cpu.Release(1)
	if mem > 0 {
		h.mem.Release(int64(mem))
	}
}

// Hash implements usermgmt.Hasher: a new hash of password with the
// configured algorithm. Passwords over usermgmt.MaxPasswordBytes are
// refused with usermgmt.ErrPasswordTooLong, whatever the algorithm.
func (h *Hasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > usermgmt.MaxPasswordBytes {
		return "", usermgmt.ErrPasswordTooLong
	}
	var mem uint64
	if h.opts.Algorithm == Argon2id {
		mem = uint64(h.opts.Argon2.MemoryKiB) << 10
	}
	if err := h.acquire(ctx, mem); err != nil {
		return "", err
	}
	defer h.release(mem)
	if h.opts.Algorithm == Bcrypt {
		return hashBcrypt(password, h.opts.BcryptCost)
	}
	return hashArgon2id(h.opts.Rand, password, h.opts.Argon2)
}

// maxComparedBytes bounds the password a Compare hashes; longer ones
// never match (no format here stores such a password from this library).
const maxComparedBytes = 4096

// Compare implements usermgmt.Hasher: nil when password matches hash (in
// any format this package reads), usermgmt.ErrWrongPassword when it does
// not, and an error matching ErrUnknownFormat, ErrMalformedHash or
// ErrParameters when hash cannot be checked.
func (h *Hasher) Compare(ctx context.Context, hash, password string) error {
	s, err := h.parse(hash)
	if err != nil {
		return err
	}
	if len(password) > maxComparedBytes {
		return usermgmt.ErrWrongPassword
	}
	mem := s.memory()
	if err := h.acquire(ctx, mem); err != nil {
		return err
	}
	defer h.release(mem)
	if !s.verify([]byte(password)) {
		return usermgmt.ErrWrongPassword
	}
	return nil
}

// NeedsRehash implements usermgmt.Hasher: true when hash is in another
// format than the configured algorithm's (or none), or has weaker
// parameters (a lower bcrypt cost; a smaller argon2id m, t or key).
func (h *Hasher) NeedsRehash(hash string) bool {
	s, err := h.parse(hash)
	if err != nil {
		return true
	}
	return s.name() != h.opts.Algorithm || s.weaker(&h.opts)
}
