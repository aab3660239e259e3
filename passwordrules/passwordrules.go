// Package passwordrules holds optional password rules beyond the core's
// PasswordPolicy, over the core's password seam:
//
//	m, err := usermgmt.New(cfg, usermgmt.WithPasswordChecker(passwordrules.Rules{
//		NotIdentity: true, // not the username or email, nor containing them
//		MinStrength: 50,   // bits, as Strength estimates them
//	}))
//
// Both refusals are the core's 400 weak_password, with a message that
// says which rule failed and the parameter "rule" ("identity" or
// "strength"), so clients that handle the policy's refusal handle these.
package passwordrules

import (
	"context"
	"fmt"
	"math"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/usermgmt/usermgmt"
)

// Rules are the extra rules; the zero value checks nothing.
type Rules struct {
	// NotIdentity refuses a password equal to the account's username,
	// email or the email's local part, or containing one of them (those
	// of at least MinIdentityLen characters), compared case-folded.
	NotIdentity bool
	// MinStrength refuses a password whose Strength is below it, in
	// bits; 0 turns the rule off.
	MinStrength int
}

// MinIdentityLen is the shortest username, email or local part that a
// password may not contain (a shorter one may not be equal to it): a
// one-letter local part would otherwise forbid that letter.
const MinIdentityLen = 3

// MaxStrength bounds Rules.MinStrength: a 72-byte password of the widest
// classes scores about 470 bits; more is never reachable.
const MaxStrength = 256

// Check reports whether r is usable: MinStrength within 0..MaxStrength.
func (r Rules) Check() error {
	if r.MinStrength < 0 || r.MinStrength > MaxStrength {
		return fmt.Errorf("passwordrules: MinStrength %d is outside 0..%d", r.MinStrength, MaxStrength)
	}
	return nil
}

// CheckPassword implements usermgmt.PasswordChecker.
func (r Rules) CheckPassword(_ context.Context, c usermgmt.PasswordCheck) error {
	if r.NotIdentity {
		if what := containsIdentity(c.Password, c.Username, c.Email); what != "" {
			return usermgmt.ErrWeakPassword.WithMessage(fmt.Sprintf("Password must not be or contain your %s.", what)).WithParam("rule", "identity")
		}
	}
	if r.MinStrength > 0 {
		if s := Strength(c.Password); s < r.MinStrength {
			return usermgmt.ErrWeakPassword.WithMessage(fmt.Sprintf(
				"Password is too easy to guess (strength %d, at least %d needed): make it longer and avoid repeated characters and sequences such as aaa, abc or 123.",
				s, r.MinStrength)).WithParam("rule", "strength")
		}
	}
	return nil
}

// containsIdentity names what of the account the password is or
// contains ("username", "email address"), or returns "".
func containsIdentity(password, username, email string) string {
	pw := fold(password)
	local, _, _ := strings.Cut(email, "@")
	for _, id := range []struct{ what, s string }{
		{"username", username}, {"email address", email}, {"email address", local},
	} {
		if id.s == "" {
			continue
		}
		f := fold(id.s)
		if pw == f || (utf8.RuneCountInString(f) >= MinIdentityLen && strings.Contains(pw, f)) {
			return id.what
		}
	}
	return ""
}

// fold maps s to a canonical case: each rune to the smallest rune of its
// simple case-folding orbit (so K, k and the Kelvin sign agree).
func fold(s string) string {
	var b strings.Builder
	b.Grow(len(s))
	for _, r := range s {
		min := r
		for f := unicode.SimpleFold(r); f != r; f = unicode.SimpleFold(f) {
			if f < min {
				min = f
			}
		}
		b.WriteRune(min)
	}
	return b.String()
}

// The character classes of Strength and their sizes.
const (
	poolLower  = 26
	poolUpper  = 26
	poolDigit  = 10
	poolSymbol = 33  // printable ASCII that is not a letter or digit, space included
	poolOther  = 100 // any other rune: a conservative share of a script's letters
)

// Strength estimates, in bits, how hard password is to guess by brute
// force, with a small documented rule instead of a dictionary model:
//
//   - the pool is the sum of the sizes of the classes the password uses
//     (lower-case ASCII 26, upper-case ASCII 26, digits 10, ASCII symbols
//     and space 33, any other character 100);
//   - each character adds log2(pool) bits, except one that repeats the
//     previous character, or continues a run of ASCII letters or digits
//     going up or down by one (abc, 321, but not ace), which adds 1 bit;
//   - the total is rounded down.
//
// So "aaaaaaaa" and "abcdefgh" score 11, "12345678" 10, "Tr0ub4dor&3" 72
// and a random 16-character string of the 95 printable ASCII characters
// 105. It knows no words: "Password1!" scores 60, so a host that wants dictionary
// passwords refused pairs it with the breach package, which refuses
// exactly those passwords attackers try first.
func Strength(password string) int {
	var lower, upper, digit, symbol, other bool
	n := 0
	for _, r := range password {
		n++
		switch {
		case r >= 'a' && r <= 'z':
			lower = true
		case r >= 'A' && r <= 'Z':
			upper = true
		case r >= '0' && r <= '9':
			digit = true
		case r >= ' ' && r <= '~':
			symbol = true
		default:
			other = true
		}
	}
	if n == 0 {
		return 0
	}
	pool := 0
	for _, c := range []struct {
		used bool
		size int
	}{{lower, poolLower}, {upper, poolUpper}, {digit, poolDigit}, {symbol, poolSymbol}, {other, poolOther}} {
		if c.used {
			pool += c.size
		}
	}
	per := math.Log2(float64(pool))
	bits := 0.0
	prev, step := rune(-1), 0
	for _, r := range password {
		d := int(r - prev)
		switch {
		case prev >= 0 && d == 0:
			bits++
			step = 0
		case prev >= 0 && (d == 1 || d == -1) && alnum(r) && alnum(prev) && (step == 0 || step == d):
			bits++
			step = d
		default:
			bits += per
			step = 0
		}
		prev = r
	}
	return int(bits)
}

// alnum reports an ASCII letter or digit, the alphabets runs are counted in.
func alnum(r rune) bool {
	return r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9'
}

var _ usermgmt.PasswordChecker = Rules{}
