package usermgmt

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Limits of the user fields.
const (
	MinUsernameLength    = 5
	MaxUsernameLength    = 32
	MaxDisplayNameLength = 32
	MaxDescriptionLength = 256
	MaxEmailLength       = 254
)

// ValidateUsername checks the username rule: 5 to 32 characters, each a
// lower-case ASCII letter, a digit or an underscore.
func ValidateUsername(username string) error {
	if len(username) < MinUsernameLength || len(username) > MaxUsernameLength {
		return ErrInvalidUsername
	}
	for i := 0; i < len(username); i++ {
		c := username[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return ErrInvalidUsername
		}
	}
	return nil
}

// ValidateDisplayName checks that a display name spells the username:
// capitals allowed, and spaces standing in for underscores. Only ASCII
// letters, digits, underscores and spaces are accepted, so no look-alike
// character can pass for a letter of the name.
func ValidateDisplayName(displayName, username string) error {
	if displayName == "" || len(displayName) > MaxDisplayNameLength {
		return ErrInvalidDisplayName
	}
	for i := 0; i < len(displayName); i++ {
		c := displayName[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == ' ') {
			return ErrInvalidDisplayName
		}
	}
	if strings.ToLower(strings.ReplaceAll(displayName, " ", "_")) != username {
		return ErrInvalidDisplayName
	}
	return nil
}

// ValidateDescription checks a user's description: valid UTF-8, at most
// 256 characters, no control characters but line breaks and tabs.
func ValidateDescription(description string) error {
	if !validText(description, MaxDescriptionLength) {
		return ErrInvalidDescription
	}
	return nil
}

// validText reports whether s is valid UTF-8 of at most max characters
// without control characters (line breaks and tabs excepted): free text a
// user may store and others may read.
func validText(s string, max int) bool {
	if !utf8.ValidString(s) || utf8.RuneCountInString(s) > max {
		return false
	}
	for _, r := range s {
		if unicode.IsControl(r) && r != '\n' && r != '\r' && r != '\t' {
			return false
		}
	}
	return true
}

// cleanText drops control and format characters (bidirectional overrides
// among them, which could make text shown to a user read otherwise) from
// text taken from headers or from a provider's profile, and cuts it to at
// most n bytes.
func cleanText(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
	return truncate(s, n)
}

// NormalizeEmail checks the syntax of an email address and returns its
// normal form: surrounding spaces removed and lower-cased. (Mail servers
// treat the part before the @ as case-insensitive in practice; lower-casing
// it makes uniqueness the same on every database.) Quoted local parts,
// comments, display names and IP-literal domains are refused.
func NormalizeEmail(email string) (string, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	if email == "" || len(email) > MaxEmailLength || !utf8.ValidString(email) {
		return "", ErrInvalidEmail
	}
	at := strings.LastIndexByte(email, '@')
	if at <= 0 || at == len(email)-1 {
		return "", ErrInvalidEmail.WithMessage("Email is not valid. It must have exactly one @ with a name before it and a domain after it.")
	}
	local, domain := email[:at], email[at+1:]
	if len(local) > 64 || !validLocalPart(local) {
		return "", ErrInvalidEmail.WithMessage("Email is not valid. The part before the @ has characters that are not allowed.")
	}
	if !validDomain(domain) {
		return "", ErrInvalidEmail.WithMessage("Email is not valid. The domain is not valid.")
	}
	return local + "@" + domain, nil
}

// validLocalPart accepts a dot-atom of RFC 5322 characters, plus
// non-ASCII letters and digits (RFC 6531).
func validLocalPart(s string) bool {
	if s == "" || s[0] == '.' || s[len(s)-1] == '.' || strings.Contains(s, "..") {
		return false
	}
	for _, r := range s {
		switch {
		case r >= 'a' && r <= 'z', r >= 'A' && r <= 'Z', r >= '0' && r <= '9':
		case strings.ContainsRune(".!#$%&'*+/=?^_`{|}~-", r):
		case r > 127 && (unicode.IsLetter(r) || unicode.IsDigit(r)):
		default:
			return false
		}
	}
	return true
}

// validDomain accepts a host name of at least two labels, each 1 to 63
// letters, digits or hyphens (not at either end), with an alphabetic
// top-level label.
func validDomain(d string) bool {
	if len(d) > 253 {
		return false
	}
	labels := strings.Split(d, ".")
	if len(labels) < 2 {
		return false
	}
	for _, l := range labels {
		if l == "" || len(l) > 63 || l[0] == '-' || l[len(l)-1] == '-' {
			return false
		}
		for i := 0; i < len(l); i++ {
			c := l[i]
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
				return false
			}
		}
	}
	tld := labels[len(labels)-1]
	if len(tld) < 2 {
		return false
	}
	for i := 0; i < len(tld); i++ {
		if tld[i] < 'a' || tld[i] > 'z' {
			if tld[i] != '-' && !(tld[i] >= '0' && tld[i] <= '9' && strings.HasPrefix(tld, "xn--")) {
				return false
			}
		}
	}
	return true
}

// ValidateUUID checks the canonical textual form of a UUID
// (8-4-4-4-12 lower- or upper-case hex digits).
func ValidateUUID(s string) error {
	if len(s) != 36 {
		return ErrInvalidUUID
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch i {
		case 8, 13, 18, 23:
			if c != '-' {
				return ErrInvalidUUID
			}
		default:
			if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
				return ErrInvalidUUID
			}
		}
	}
	return nil
}

// canonicalUUID lower-cases a valid UUID.
func canonicalUUID(s string) (string, error) {
	if err := ValidateUUID(s); err != nil {
		return "", err
	}
	return strings.ToLower(s), nil
}

// truncate cuts s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && s[n]&0xC0 == 0x80 {
		n--
	}
	return s[:n]
}
