package hashers

import (
	"encoding/base64"
	"fmt"
	"strconv"
	"strings"
)

// maxEncodedLen bounds every encoded hash this package reads, so that a
// parser never walks a megabyte of attacker-chosen text.
const maxEncodedLen = 1024

// phc is a parsed PHC string:
//
//	$<id>[$v=<version>][$<param>=<value>(,<param>=<value>)*][$<salt>[$<hash>]]
//
// (https://github.com/P-H-C/phc-string-format). Salt and hash are in the
// format's base64 (standard alphabet, no padding).
type phc struct {
	id      string
	version int // -1 when absent
	params  []phcParam
	salt    []byte
	hash    []byte
}

type phcParam struct{ name, value string }

// parsePHC parses s as a PHC string; the salt and the hash are required.
func parsePHC(s string) (*phc, error) {
	if len(s) > maxEncodedLen {
		return nil, fmt.Errorf("%w: longer than %d bytes", ErrMalformedHash, maxEncodedLen)
	}
	if !strings.HasPrefix(s, "$") {
		return nil, fmt.Errorf("%w: no leading $", ErrMalformedHash)
	}
	fields := strings.Split(s[1:], "$")
	p := &phc{id: fields[0], version: -1}
	if !validPHCName(p.id, 32) {
		return nil, fmt.Errorf("%w: bad identifier", ErrMalformedHash)
	}
	rest := fields[1:]
	if len(rest) > 0 && strings.HasPrefix(rest[0], "v=") {
		v, err := phcDecimal(rest[0][2:])
		if err != nil {
			return nil, fmt.Errorf("%w: version: %w", ErrMalformedHash, err)
		}
		p.version = v
		rest = rest[1:]
	}
	if len(rest) > 0 && strings.Contains(rest[0], "=") {
		for _, kv := range strings.Split(rest[0], ",") {
			name, value, ok := strings.Cut(kv, "=")
			if !ok || !validPHCName(name, 32) || value == "" || len(value) > 64 {
				return nil, fmt.Errorf("%w: bad parameter %q", ErrMalformedHash, kv)
			}
			for _, q := range p.params {
				if q.name == name {
					return nil, fmt.Errorf("%w: parameter %s twice", ErrMalformedHash, name)
				}
			}
			p.params = append(p.params, phcParam{name, value})
		}
		rest = rest[1:]
	}
	if len(rest) != 2 {
		return nil, fmt.Errorf("%w: want salt and hash", ErrMalformedHash)
	}
	var err error
	if p.salt, err = phcBase64(rest[0]); err != nil {
		return nil, fmt.Errorf("%w: salt: %w", ErrMalformedHash, err)
	}
	if p.hash, err = phcBase64(rest[1]); err != nil {
		return nil, fmt.Errorf("%w: hash: %w", ErrMalformedHash, err)
	}
	return p, nil
}

// param returns the named parameter as a decimal number, or def when absent.
func (p *phc) param(name string, def int) (int, error) {
	for _, q := range p.params {
		if q.name == name {
			n, err := phcDecimal(q.value)
			if err != nil {
				return 0, fmt.Errorf("%w: parameter %s: %w", ErrMalformedHash, name, err)
			}
			return n, nil
		}
	}
	if def < 0 {
		return 0, fmt.Errorf("%w: parameter %s missing", ErrMalformedHash, name)
	}
	return def, nil
}

// only refuses parameters other than names.
func (p *phc) only(names ...string) error {
	for _, q := range p.params {
		found := false
		for _, n := range names {
			found = found || q.name == n
		}
		if !found {
			return fmt.Errorf("%w: unknown parameter %s", ErrMalformedHash, q.name)
		}
	}
	return nil
}

func validPHCName(s string, max int) bool {
	if s == "" || len(s) > max {
		return false
	}
	for _, c := range []byte(s) {
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-') {
			return false
		}
	}
	return true
}

// phcDecimal reads a PHC decimal: digits only, no sign, no leading zero,
// at most 10 digits (so it fits an int and a uint32 check follows).
func phcDecimal(s string) (int, error) {
	if s == "" || len(s) > 10 || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("bad number %q", s)
	}
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("bad number %q", s)
		}
	}
	return strconv.Atoi(s)
}

// phcBase64 decodes the PHC's base64: standard alphabet without padding
// (a padded value is tolerated, as some encoders write one).
func phcBase64(s string) ([]byte, error) {
	b, err := base64.RawStdEncoding.Strict().DecodeString(strings.TrimRight(s, "="))
	if err != nil {
		return nil, err
	}
	return b, nil
}

func phcEncode(b []byte) string { return base64.RawStdEncoding.EncodeToString(b) }
