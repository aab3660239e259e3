package main

import (
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/usermgmt/usermgmt/jwtkeys"
)

// KeysConfig is how access tokens are signed. Its zero value is the
// reference's: HS256 under JWT_SECRET_KEY.
type KeysConfig struct {
	// Algorithm is JWT_ALGORITHM when it names a public-key algorithm
	// (EdDSA, ES256, RS256), which the signing key must then have; empty
	// for HS256, or to take the algorithm of JWT_SIGNING_KEY_FILE's key.
	Algorithm string
	// SigningKeyFile is JWT_SIGNING_KEY_FILE: the PEM private key that
	// signs. Empty: JWT_SECRET_KEY signs (HS256).
	SigningKeyFile string
	// VerifyKeyFiles is JWT_VERIFY_KEY_FILES, comma-separated: PEM keys
	// (public or private) that only verify, published in the JWKS: the
	// next key before it signs, the previous one after.
	VerifyKeyFiles []string
	// Audience is JWT_AUDIENCE: the tokens' "aud", required of them.
	Audience string
}

// publicAlgorithms are the values of JWT_ALGORITHM that need a key file.
var publicAlgorithms = []string{jwtkeys.EdDSA, jwtkeys.ES256, jwtkeys.RS256}

// tokenKeys reads JWT_ALGORITHM, JWT_SIGNING_KEY_FILE, JWT_VERIFY_KEY_FILES
// and JWT_AUDIENCE. The files are read at startup (loadKeys).
func (p *parser) tokenKeys() KeysConfig {
	k := KeysConfig{
		SigningKeyFile: p.str("JWT_SIGNING_KEY_FILE", ""),
		Audience:       p.str("JWT_AUDIENCE", ""),
	}
	for f := range strings.SplitSeq(p.str("JWT_VERIFY_KEY_FILES", ""), ",") {
		if f = strings.TrimSpace(f); f != "" {
			k.VerifyKeyFiles = append(k.VerifyKeyFiles, f)
		}
	}
	alg := p.str("JWT_ALGORITHM", "")
	switch {
	case alg == "" || strings.EqualFold(alg, jwtkeys.HS256):
		if alg != "" && k.SigningKeyFile != "" {
			p.fail("JWT_ALGORITHM", "is HS256 but JWT_SIGNING_KEY_FILE is set: HS256 signs with JWT_SECRET_KEY; give the key's algorithm (%s)", strings.Join(publicAlgorithms, ", "))
		}
	case canonicalAlgorithm(alg) != "":
		k.Algorithm = canonicalAlgorithm(alg)
		if k.SigningKeyFile == "" {
			p.fail("JWT_SIGNING_KEY_FILE", "is required with JWT_ALGORITHM=%s (make one with: server keys generate %s FILE)", k.Algorithm, k.Algorithm)
		}
	default:
		p.fail("JWT_ALGORITHM", "%q is not supported (HS256, %s)", alg, strings.Join(publicAlgorithms, ", "))
	}
	if k.SigningKeyFile == "" && len(k.VerifyKeyFiles) > 0 {
		p.fail("JWT_VERIFY_KEY_FILES", "needs JWT_SIGNING_KEY_FILE: verify-only keys join a signing key")
	}
	return k
}

// canonicalAlgorithm returns the JWS name of a public-key algorithm
// written in any case, or "".
func canonicalAlgorithm(alg string) string {
	for _, a := range publicAlgorithms {
		if strings.EqualFold(alg, a) {
			return a
		}
	}
	return ""
}

// loadKeys reads the key files into a key set; nil without
// JWT_SIGNING_KEY_FILE (JWT_SECRET_KEY signs). Every error names the
// variable and the file.
func loadKeys(k KeysConfig) (*jwtkeys.Set, error) {
	if k.SigningKeyFile == "" {
		return nil, nil
	}
	sign, err := jwtkeys.LoadPEMFile(k.SigningKeyFile)
	if err != nil {
		return nil, fmt.Errorf("JWT_SIGNING_KEY_FILE: %w", err)
	}
	if !sign.CanSign() {
		return nil, fmt.Errorf("JWT_SIGNING_KEY_FILE: %s holds a public key; the signing key must be the private key", k.SigningKeyFile)
	}
	if k.Algorithm != "" && sign.Algorithm() != k.Algorithm {
		return nil, fmt.Errorf("JWT_SIGNING_KEY_FILE: %s is an %s key, but JWT_ALGORITHM is %s", k.SigningKeyFile, sign.Algorithm(), k.Algorithm)
	}
	var verify []*jwtkeys.Key
	for _, f := range k.VerifyKeyFiles {
		v, err := jwtkeys.LoadPEMFile(f)
		if err != nil {
			return nil, fmt.Errorf("JWT_VERIFY_KEY_FILES: %w", err)
		}
		verify = append(verify, v)
	}
	set, err := jwtkeys.NewSet(sign, verify...)
	if err != nil {
		return nil, fmt.Errorf("JWT_SIGNING_KEY_FILE, JWT_VERIFY_KEY_FILES: %w", err)
	}
	return set, nil
}

const keysUsage = `usage: server keys generate [EdDSA|ES256|RS256] FILE`

// keysCommand runs `server keys generate [ALG] FILE`: it writes a new
// private key to FILE (PKCS #8 PEM, mode 0600, never over an existing
// file) and prints its kid and public key. ALG defaults to JWT_ALGORITHM
// when that names a public-key algorithm, else EdDSA.
func keysCommand(args []string, getenv func(string) string, stdout io.Writer) error {
	if len(args) < 2 || len(args) > 3 || args[0] != "generate" {
		return &usageError{keysUsage}
	}
	alg, file := canonicalAlgorithm(getenv("JWT_ALGORITHM")), args[len(args)-1]
	if alg == "" {
		alg = jwtkeys.EdDSA
	}
	if len(args) == 3 {
		if alg = canonicalAlgorithm(args[1]); alg == "" {
			return &usageError{fmt.Sprintf("keys generate: %q is not EdDSA, ES256 or RS256\n%s", args[1], keysUsage)}
		}
	}
	key, err := jwtkeys.Generate(alg, nil)
	if err != nil {
		return err
	}
	priv, err := key.MarshalPrivatePEM()
	if err != nil {
		return err
	}
	pub, err := key.MarshalPublicPEM()
	if err != nil {
		return err
	}
	f, err := os.OpenFile(file, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	if _, err := f.Write(priv); err != nil {
		_ = f.Close()
		return fmt.Errorf("keys generate: %w", err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("keys generate: %w", err)
	}
	_, err = fmt.Fprintf(stdout, "wrote the %s private key %s to %s\nkid: %s\n%s", alg, key.ID(), file, key.ID(), pub)
	return err
}
