package usermgmt

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync/atomic"
	"time"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"
)

// Hasher hashes and checks passwords. Implementations must be safe for
// concurrent use and must honour ctx while waiting for resources.
type Hasher interface {
	// Hash returns an encoded hash of password.
	Hash(ctx context.Context, password string) (string, error)
	// Compare returns nil when password matches hash, ErrWrongPassword
	// when it does not, and another error when it cannot tell.
	Compare(ctx context.Context, hash, password string) error
	// NeedsRehash reports whether hash should be replaced by a new Hash of
	// the same password: it was made with other parameters (an older
	// cost, say) or by another scheme.
	NeedsRehash(hash string) bool
}

// HashValidator is implemented by a Hasher that can tell, without a
// password, whether a stored hash is one it can check with bounded work
// (package hashers' does). CreateUser with NewUser.PasswordHash and the
// database import refuse a hash it rejects, with ErrInvalidPasswordHash.
type HashValidator interface {
	ValidateHash(hash string) error
}

// HashSchemer is implemented by a Hasher that can name the scheme of a
// stored hash ("bcrypt", "argon2id" ...); the audit entry of a rehash
// names the old and the new one.
type HashSchemer interface {
	Scheme(hash string) string
}

// ValidatePasswordHash checks a hash to be stored as is (imported from
// another system) with the Manager's hasher, when it is a HashValidator:
// nil, or ErrInvalidPasswordHash wrapping the reason.
func (m *Manager) ValidatePasswordHash(hash string) error {
	v, ok := m.hasher.(HashValidator)
	if !ok {
		return nil
	}
	if err := v.ValidateHash(hash); err != nil {
		return fmt.Errorf("%w: %w", ErrInvalidPasswordHash, err)
	}
	return nil
}

// rehashDetail is the audit detail of a rehash: "from=<scheme> to=<scheme>"
// when the hasher names schemes.
func (m *Manager) rehashDetail(old, new string) string {
	s, ok := m.hasher.(HashSchemer)
	if !ok {
		return ""
	}
	return cleanText("from="+s.Scheme(old)+" to="+s.Scheme(new), 128)
}

// rehashBeforeSecondFactor replaces u's hash, when the hasher asks for
// it, after a correct password that stops at the second factor. The
// second step (LoginOTP) does not see the password, so this is the only
// moment to rehash: the password is proven, and the hash stays one of
// the same password, so nothing is granted before the second factor. The
// new hash is computed before the transaction and written only if the
// stored hash is still the one compared; one password-rehashed entry
// audits it. A failure is logged and leaves the old hash, which still
// works.
func (m *Manager) rehashBeforeSecondFactor(ctx context.Context, u *User, password string) {
	if !m.hasher.NeedsRehash(u.PasswordHash) {
		return
	}
	newHash, err := m.hasher.Hash(ctx, password)
	if err == nil {
		err = m.inTx(ctx, func(ctx context.Context, tx fullStore) error {
			cur, err := tx.LockUser(ctx, u.UUID)
			if errors.Is(err, ErrNotFound) || (err == nil && cur.PasswordHash != u.PasswordHash) {
				return nil // gone or changed meanwhile: nothing to do
			}
			if err != nil {
				return err
			}
			n := cur.clone()
			n.PasswordHash, n.UpdatedAt = newHash, m.now()
			if err := tx.UpdateUser(ctx, n); err != nil {
				return err
			}
			return m.audit(ctx, tx, u.UUID, u.UUID, AuditPasswordRehash, m.rehashDetail(u.PasswordHash, newHash))
		})
	}
	if err != nil {
		m.log.WarnContext(ctx, "password rehash failed", "user", u.UUID, "err", err)
		return
	}
	m.cache.invalidateUser(u.UUID)
}

// MaxPasswordBytes is bcrypt's input limit; longer passwords are refused
// rather than silently truncated.
const MaxPasswordBytes = 72

// BcryptHasher is the default Hasher: bcrypt with a fixed cost, at most
// MaxConcurrent hashes at once. Callers past that wait for a slot until their
// context ends, so a login storm queues instead of starving other requests.
type BcryptHasher struct {
	cost int
	sem  chan struct{}
	// waited, once the Manager's metrics are on (ReportWait), is told how
	// long each call waited for a slot.
	waited atomic.Pointer[func(context.Context, time.Duration)]
}

// ReportWait implements HashWaitReporter.
func (h *BcryptHasher) ReportWait(f func(context.Context, time.Duration)) { h.waited.Store(&f) }

// NewBcryptHasher returns a BcryptHasher; maxConcurrent < 1 means 1.
func NewBcryptHasher(cost, maxConcurrent int) *BcryptHasher {
	if maxConcurrent < 1 {
		maxConcurrent = 1
	}
	return &BcryptHasher{cost: cost, sem: make(chan struct{}, maxConcurrent)}
}

func (h *BcryptHasher) acquire(ctx context.Context) error {
	f := h.waited.Load()
	var start time.Time
	if f != nil {
		start = time.Now()
	}
	select {
	case h.sem <- struct{}{}:
		if f != nil {
			(*f)(ctx, time.Since(start))
		}
		return nil
	case <-ctx.Done():
		return fmt.Errorf("usermgmt: waiting to hash: %w", ctx.Err())
	}
}

func (h *BcryptHasher) release() { <-h.sem }

// Hash implements Hasher.
func (h *BcryptHasher) Hash(ctx context.Context, password string) (string, error) {
	if len(password) > MaxPasswordBytes {
		return "", ErrPasswordTooLong
	}
	if err := h.acquire(ctx); err != nil {
		return "", err
	}
	defer h.release()
	b, err := bcrypt.GenerateFromPassword([]byte(password), h.cost)
	if err != nil {
		return "", fmt.Errorf("usermgmt: bcrypt: %w", err)
	}
	return string(b), nil
}

// Compare implements Hasher.
func (h *BcryptHasher) Compare(ctx context.Context, hash, password string) error {
	if err := h.acquire(ctx); err != nil {
		return err
	}
	defer h.release()
	err := bcrypt.CompareHashAndPassword([]byte(hash), []byte(password))
	switch {
	case err == nil:
		return nil
	case errors.Is(err, bcrypt.ErrMismatchedHashAndPassword), errors.Is(err, bcrypt.ErrPasswordTooLong):
		return ErrWrongPassword
	default:
		return fmt.Errorf("usermgmt: bcrypt compare: %w", err)
	}
}

// NeedsRehash implements Hasher: true for a hash of another cost or one
// that is not bcrypt.
func (h *BcryptHasher) NeedsRehash(hash string) bool {
	cost, err := bcrypt.Cost([]byte(hash))
	return err != nil || cost != h.cost
}

// ErrWrongPassword is what a Hasher returns for a wrong password. It never
// reaches a client: login answers ErrInvalidLogin.
var ErrWrongPassword = errors.New("usermgmt: wrong password")

// PasswordPolicy is the rule a new password must satisfy. Passwords longer
// than MaxPasswordBytes are always refused.
type PasswordPolicy struct {
	MinLength    int  // in characters
	RequireLower bool // a lower-case letter
	RequireUpper bool // an upper-case letter
	RequireDigit bool // a digit
	RequireOther bool // a character that is none of the above
}

// DefaultPasswordPolicy: at least 10 characters with a lower-case letter, an
// upper-case letter, a digit and another character.
var DefaultPasswordPolicy = PasswordPolicy{
	MinLength: 10, RequireLower: true, RequireUpper: true, RequireDigit: true, RequireOther: true,
}

func (p PasswordPolicy) validate() error {
	if p.MinLength < 1 || p.MinLength > MaxPasswordBytes {
		return fmt.Errorf("PasswordPolicy.MinLength %d is outside 1..%d", p.MinLength, MaxPasswordBytes)
	}
	return nil
}

// Describe returns the policy in one sentence, for error messages.
func (p PasswordPolicy) Describe() string {
	var parts []string
	if p.RequireLower {
		parts = append(parts, "one lowercase letter")
	}
	if p.RequireUpper {
		parts = append(parts, "one uppercase letter")
	}
	if p.RequireDigit {
		parts = append(parts, "one number")
	}
	if p.RequireOther {
		parts = append(parts, "one character that is not a letter or a number")
	}
	s := fmt.Sprintf("Password must be at least %d characters long", p.MinLength)
	if len(parts) > 0 {
		s += ", with at least " + strings.Join(parts, ", ")
	}
	// The limit is bcrypt's, in bytes of UTF-8: said in the words a person
	// reads (issue 15 item 9).
	return s + fmt.Sprintf(", and at most %d characters (a letter with an accent or a symbol may count as 2 to 4).", MaxPasswordBytes)
}

// Check returns nil when password satisfies the policy, ErrPasswordTooLong
// or ErrWeakPassword (with the policy in its message) otherwise.
func (p PasswordPolicy) Check(password string) error {
	if len(password) > MaxPasswordBytes {
		return ErrPasswordTooLong
	}
	if !utf8.ValidString(password) {
		return ErrWeakPassword.WithMessage("Password must be valid UTF-8.")
	}
	var lower, upper, digit, other bool
	n := 0
	for _, r := range password {
		n++
		switch {
		case unicode.IsLower(r):
			lower = true
		case unicode.IsUpper(r):
			upper = true
		case unicode.IsDigit(r):
			digit = true
		default:
			other = true
		}
	}
	if n < p.MinLength || (p.RequireLower && !lower) || (p.RequireUpper && !upper) ||
		(p.RequireDigit && !digit) || (p.RequireOther && !other) {
		return ErrWeakPassword.WithMessage(p.Describe())
	}
	return nil
}

// comparePassword compares password with a user's stored hash like the
// hasher, except that a hash the hasher cannot read (imported from another
// scheme, say) counts as a wrong password, as it does at login, instead of
// a 500. Only the end of ctx is another error.
func (m *Manager) comparePassword(ctx context.Context, hash, password string) error {
	err := m.hasher.Compare(ctx, hash, password)
	if err == nil || errors.Is(err, ErrWrongPassword) || ctx.Err() != nil {
		return err
	}
	m.log.ErrorContext(ctx, "password hash unreadable", "err", err)
	return ErrWrongPassword
}
