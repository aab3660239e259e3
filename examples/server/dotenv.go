package main

import (
	"errors"
	"fmt"
	"io/fs"
	"strings"
)

// The optional .env file: KEY=VALUE lines read before the configuration,
// as the reference read app/.env. The process environment wins over the
// file. ENV_FILE names another file; without it, ./.env is used when it
// exists.

// parseDotEnv parses a .env file: blank lines and # comments are skipped;
// "export " may start a line; a value may be quoted with ' (taken as is) or
// " (with \n, \" and \\ escapes); an unquoted value ends at " #". A line
// that is none of these is an error naming its number.
func parseDotEnv(data string) (map[string]string, error) {
	out := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(data, "\r\n", "\n"), "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		line = strings.TrimPrefix(line, "export ")
		key, value, ok := strings.Cut(line, "=")
		key = strings.TrimSpace(key)
		if !ok || !validEnvKey(key) {
			return nil, fmt.Errorf("line %d: want KEY=VALUE", i+1)
		}
		value = strings.TrimSpace(value)
		switch {
		case strings.HasPrefix(value, "'"):
			end := strings.Index(value[1:], "'")
			if end < 0 || strings.TrimSpace(value[end+2:]) != "" && !strings.HasPrefix(strings.TrimSpace(value[end+2:]), "#") {
				return nil, fmt.Errorf("line %d: unterminated or trailing text after '...'", i+1)
			}
			value = value[1 : end+1]
		case strings.HasPrefix(value, `"`):
			v, rest, err := unquoteDouble(value[1:])
			if err != nil || strings.TrimSpace(rest) != "" && !strings.HasPrefix(strings.TrimSpace(rest), "#") {
				return nil, fmt.Errorf("line %d: unterminated or trailing text after \"...\"", i+1)
			}
			value = v
		default:
			if j := strings.Index(value, " #"); j >= 0 {
				value = strings.TrimSpace(value[:j])
			}
		}
		out[key] = value
	}
	return out, nil
}

func validEnvKey(k string) bool {
	if k == "" || k[0] >= '0' && k[0] <= '9' {
		return false
	}
	for _, c := range k {
		if !(c == '_' || c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// unquoteDouble reads a "..." value (after the opening quote) and returns
// it and what follows the closing quote.
func unquoteDouble(s string) (string, string, error) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '"':
			return b.String(), s[i+1:], nil
		case '\\':
			if i+1 == len(s) {
				return "", "", errors.New("dangling backslash")
			}
			i++
			switch s[i] {
			case 'n':
				b.WriteByte('\n')
			case 't':
				b.WriteByte('\t')
			default:
				b.WriteByte(s[i])
			}
		default:
			b.WriteByte(c)
		}
	}
	return "", "", errors.New("unterminated")
}

// withDotEnv returns getenv layered over the .env file: ENV_FILE (which
// must exist) or ./.env (when it exists). Empty process values count as
// unset, as everywhere in the configuration.
func withDotEnv(getenv func(string) string, readFile func(string) ([]byte, error)) (func(string) string, error) {
	path, explicit := getenv("ENV_FILE"), true
	if path == "" {
		path, explicit = ".env", false
	}
	data, err := readFile(path)
	if errors.Is(err, fs.ErrNotExist) && !explicit {
		return getenv, nil
	}
	if err != nil {
		return nil, fmt.Errorf("ENV_FILE %s: %w", path, err)
	}
	vars, err := parseDotEnv(string(data))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return func(k string) string {
		if v := getenv(k); v != "" {
			return v
		}
		return vars[k]
	}, nil
}
