package main

import (
	"errors"
	"io/fs"
	"reflect"
	"strings"
	"testing"
)

func TestParseDotEnv(t *testing.T) {
	got, err := parseDotEnv(strings.Join([]string{
		"# a comment",
		"",
		"PROJECT_NAME=Acme Users",
		"export LOG_LEVEL=debug",
		"  BASE_URL = https://acme.example  # trailing comment",
		`JWT_SECRET_KEY='a#b c'`,
		`CONTACT_EMAIL="ops@acme.example" # comment`,
		`MULTI="line\nbreak \"q\""`,
		"EMPTY=",
		"WINDOWS=yes\r",
	}, "\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"PROJECT_NAME": "Acme Users", "LOG_LEVEL": "debug", "BASE_URL": "https://acme.example",
		"JWT_SECRET_KEY": "a#b c", "CONTACT_EMAIL": "ops@acme.example", "MULTI": "line\nbreak \"q\"",
		"EMPTY": "", "WINDOWS": "yes",
	}
	if !reflect.DeepEqual(got, want) {
		t.Fatalf("got %q\nwant %q", got, want)
	}
	for _, bad := range []string{"NOEQUALS", "=value", "1KEY=x", "BAD-KEY=x", `Q="open`, `Q='open`, `Q="a" b`, `Q='a' b`} {
		if _, err := parseDotEnv("OK=1\n" + bad); err == nil || !strings.Contains(err.Error(), "line 2") {
			t.Errorf("parseDotEnv(%q) = %v, want an error on line 2", bad, err)
		}
	}
}

func FuzzParseDotEnv(f *testing.F) {
	f.Add("A=1\nexport B='x'\nC=\"y\\n\" # c\n")
	f.Fuzz(func(t *testing.T, s string) {
		vars, err := parseDotEnv(s)
		if err != nil {
			return
		}
		for k := range vars {
			if !validEnvKey(k) {
				t.Fatalf("key %q", k)
			}
		}
	})
}

func TestWithDotEnv(t *testing.T) {
	files := map[string]string{".env": "A=from-file\nB=from-file\n", "other.env": "A=other\n", "bad.env": "oops\n"}
	read := func(p string) ([]byte, error) {
		if s, ok := files[p]; ok {
			return []byte(s), nil
		}
		return nil, fs.ErrNotExist
	}
	procEnv := func(vars map[string]string) func(string) string { return func(k string) string { return vars[k] } }

	get, err := withDotEnv(procEnv(map[string]string{"A": "from-env", "C": ""}), read)
	if err != nil {
		t.Fatal(err)
	}
	if get("A") != "from-env" || get("B") != "from-file" || get("C") != "" {
		t.Fatalf("layering: A=%q B=%q C=%q", get("A"), get("B"), get("C"))
	}
	get, err = withDotEnv(procEnv(map[string]string{"ENV_FILE": "other.env"}), read)
	if err != nil || get("A") != "other" || get("B") != "" {
		t.Fatalf("ENV_FILE: %v A=%q", err, get("A"))
	}
	if _, err := withDotEnv(procEnv(map[string]string{"ENV_FILE": "missing.env"}), read); !errors.Is(err, fs.ErrNotExist) {
		t.Fatalf("missing ENV_FILE: %v", err)
	}
	if _, err := withDotEnv(procEnv(map[string]string{"ENV_FILE": "bad.env"}), read); err == nil || !strings.Contains(err.Error(), "bad.env: line 1") {
		t.Fatalf("malformed file: %v", err)
	}
	// No .env at all: the process environment alone.
	delete(files, ".env")
	get, err = withDotEnv(procEnv(map[string]string{"A": "x"}), read)
	if err != nil || get("A") != "x" {
		t.Fatalf("no .env: %v", err)
	}
}
