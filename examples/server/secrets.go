package main

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// Files the server keeps in DATA_DIR.
const (
	jwtSecretFile     = "jwt_secret"
	adminPasswordFile = "admin_password"
)

// secretFileMode is the mode of every file holding a secret.
const secretFileMode fs.FileMode = 0o600

// loadOrCreateSecretFile returns the secret stored in path, creating the
// file with generate's value when it does not exist. Creation is atomic and
// exclusive: the content is written to a private temporary file which is
// then hard-linked into place, so two processes starting at once agree on one
// value and neither ever reads a half-written file. created reports whether
// this call wrote the file.
func loadOrCreateSecretFile(path string, generate func() (string, error)) (value string, created bool, err error) {
	if v, err := readSecretFile(path); err == nil || !errors.Is(err, fs.ErrNotExist) {
		return v, false, err
	}
	v, err := generate()
	if err != nil {
		return "", false, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return "", false, fmt.Errorf("create %s: %w", filepath.Dir(path), err)
	}
	switch err := createExclusive(path, []byte(v+"\n")); {
	case err == nil:
		return v, true, nil
	case errors.Is(err, fs.ErrExist):
		// Another process won the race: use its value.
		v, err := readSecretFile(path)
		return v, false, err
	default:
		return "", false, err
	}
}

// readSecretFile reads a secret file, trimming surrounding white space. An
// empty file is an error: it must be deleted or filled by the operator.
func readSecretFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", path, err)
	}
	v := strings.TrimSpace(string(b))
	if v == "" {
		return "", fmt.Errorf("%s is empty: delete it to have a new secret generated", path)
	}
	return v, nil
}

// createExclusive creates path with data and mode 0600, failing with an
// error matching fs.ErrExist when path already exists.
func createExclusive(path string, data []byte) error {
	dir := filepath.Dir(path)
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*") // mode 0600
	if err != nil {
		return fmt.Errorf("create secret file in %s: %w", dir, err)
	}
	tmpName := tmp.Name()
	defer os.Remove(tmpName) //nolint:errcheck // best effort; the link is what counts
	if err := tmp.Chmod(secretFileMode); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("chmod %s: %w", tmpName, err)
	}
	if _, err := tmp.Write(data); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("write %s: %w", tmpName, err)
	}
	if err := tmp.Sync(); err != nil {
		_ = tmp.Close()
		return fmt.Errorf("sync %s: %w", tmpName, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("close %s: %w", tmpName, err)
	}
	if err := os.Link(tmpName, path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("create %s: %w", path, fs.ErrExist)
		}
		return fmt.Errorf("create %s: %w", path, err)
	}
	return nil
}

// newJWTSecret returns 32 random bytes, hex-encoded.
func newJWTSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("generate JWT secret: %w", err)
	}
	return hex.EncodeToString(b), nil
}

// passwordAlphabet avoids characters that are awkward in shells and URLs.
const passwordAlphabet = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789-_.!@%+="

// newAdminPassword returns a random 24-character password that satisfies
// the default password policy (so the admin may keep it).
func newAdminPassword() (string, error) {
	const length = 24
	// Accept bytes below the largest multiple of the alphabet size, so
	// every character is equally likely.
	limit := 256 - 256%len(passwordAlphabet)
	buf := make([]byte, 64)
	for range 100 {
		out := make([]byte, 0, length)
		for len(out) < length {
			if _, err := rand.Read(buf); err != nil {
				return "", fmt.Errorf("generate admin password: %w", err)
			}
			for _, b := range buf {
				if int(b) < limit && len(out) < length {
					out = append(out, passwordAlphabet[int(b)%len(passwordAlphabet)])
				}
			}
		}
		if usermgmt.DefaultPasswordPolicy.Check(string(out)) == nil {
			return string(out), nil
		}
	}
	return "", errors.New("generate admin password: no policy-conforming password in 100 draws")
}
