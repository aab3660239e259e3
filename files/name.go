package files

import (
	"errors"
	"strings"
	"unicode"
	"unicode/utf8"
)

// MaxNameBytes bounds a safe name's length in bytes (file systems allow
// 255; the rest is left for prefixes).
const MaxNameBytes = 200

// ErrBadName is returned by SafeName when nothing usable is left of a name.
var ErrBadName = errors.New("files: the file name is empty or unusable")

// SafeName reduces a client's file name to a safe base name: the part after
// the last slash or backslash, without invalid UTF-8, control or format
// characters (bidirectional overrides among them), leading dots and
// surrounding spaces, and cut to MaxNameBytes (keeping the extension when
// it can). The result can never leave a folder: it is never "", "." or
// "..", and holds no separator. ErrBadName when nothing is left.
func SafeName(name string) (string, error) {
	if i := strings.LastIndexAny(name, `/\`); i >= 0 {
		name = name[i+1:]
	}
	name = strings.ToValidUTF8(name, "")
	name = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) || r == utf8.RuneError {
			return -1
		}
		if unicode.IsSpace(r) {
			return ' '
		}
		return r
	}, name)
	name = strings.TrimSpace(name)
	name = strings.TrimLeft(name, ". ")
	name = strings.TrimRight(name, " ")
	if len(name) > MaxNameBytes {
		name = truncateName(name)
	}
	if name == "" {
		return "", ErrBadName
	}
	return name, nil
}

// truncateName cuts name to MaxNameBytes on a rune boundary, keeping a
// short extension.
func truncateName(name string) string {
	ext := ""
	if i := strings.LastIndexByte(name, '.'); i > 0 && len(name)-i <= 16 {
		ext = name[i:]
		name = name[:i]
	}
	limit := MaxNameBytes - len(ext)
	for limit > 0 && !utf8.RuneStart(name[limit]) {
		limit--
	}
	return strings.TrimRight(name[:limit], ". ") + ext
}

// Ext returns the lower-cased extension of name after its last dot, ""
// when it has none (as the reference's file_type).
func Ext(name string) string {
	i := strings.LastIndexByte(name, '.')
	if i < 0 || i == len(name)-1 {
		return ""
	}
	return strings.ToLower(name[i+1:])
}
