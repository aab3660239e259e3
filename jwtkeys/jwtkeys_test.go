package jwtkeys_test

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"math/big"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/jwtkeys"
)

// TestThumbprintRFC8037: the kid of an Ed25519 key is the RFC 7638
// thumbprint given by RFC 8037 appendix A.3.
func TestThumbprintRFC8037(t *testing.T) {
	x, err := base64.RawURLEncoding.DecodeString("11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo")
	if err != nil {
		t.Fatal(err)
	}
	k, err := jwtkeys.FromPublic(ed25519.PublicKey(x))
	if err != nil {
		t.Fatal(err)
	}
	if got, want := k.ID(), "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k"; got != want {
		t.Errorf("kid = %s, want %s", got, want)
	}
	if k.Algorithm() != jwtkeys.EdDSA || k.CanSign() || k.Symmetric() {
		t.Errorf("alg %s, can sign %v, symmetric %v", k.Algorithm(), k.CanSign(), k.Symmetric())
	}
}

// TestSecretKeyID: an HS256 key keeps the id the library gave secrets
// before key sets existed, so tokens signed then still find their key.
func TestSecretKeyID(t *testing.T) {
	k, err := jwtkeys.Secret([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	if len(k.ID()) != 16 || strings.Contains(k.ID(), "0123") {
		t.Errorf("kid = %q", k.ID())
	}
	if !k.Symmetric() || !k.CanSign() || k.Algorithm() != jwtkeys.HS256 {
		t.Errorf("secret key: %+v", k)
	}
	if _, ok := k.JWK(); ok {
		t.Error("a secret has a JWK")
	}
	if _, err := jwtkeys.Secret([]byte("short")); err == nil {
		t.Error("a 5-byte secret was accepted")
	}
}

// TestGeneratePEMRoundTrip: each algorithm's generated key survives its
// private and public PEM encodings with the same kid.
func TestGeneratePEMRoundTrip(t *testing.T) {
	for _, alg := range []string{jwtkeys.EdDSA, jwtkeys.ES256, jwtkeys.RS256} {
		t.Run(alg, func(t *testing.T) {
			k, err := jwtkeys.Generate(alg, nil)
			if err != nil {
				t.Fatal(err)
			}
			if k.Algorithm() != alg || !k.CanSign() {
				t.Fatalf("alg %s, can sign %v", k.Algorithm(), k.CanSign())
			}
			priv, err := k.MarshalPrivatePEM()
			if err != nil {
				t.Fatal(err)
			}
			pub, err := k.MarshalPublicPEM()
			if err != nil {
				t.Fatal(err)
			}
			k2, err := jwtkeys.ParsePEM(priv)
			if err != nil {
				t.Fatal(err)
			}
			k3, err := jwtkeys.ParsePEM(pub)
			if err != nil {
				t.Fatal(err)
			}
			if k2.ID() != k.ID() || k3.ID() != k.ID() || !k2.CanSign() || k3.CanSign() {
				t.Errorf("ids %s %s %s; private can sign %v, public can sign %v", k.ID(), k2.ID(), k3.ID(), k2.CanSign(), k3.CanSign())
			}
			j, ok := k.JWK()
			if !ok || j.Kid != k.ID() || j.Alg != alg || j.Use != "sig" {
				t.Errorf("jwk = %+v", j)
			}
		})
	}
}

// TestParsePEMLegacyEncodings reads SEC 1 and PKCS #1 private keys, PKCS #1
// public keys and a certificate.
func TestParsePEMLegacyEncodings(t *testing.T) {
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	ecDER, err := x509.MarshalECPrivateKey(ec)
	if err != nil {
		t.Fatal(err)
	}
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edPriv, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: bigOne()}
	certDER, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, edPriv.Public(), edPriv)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		typ     string
		der     []byte
		alg     string
		canSign bool
	}{
		{"EC PRIVATE KEY", ecDER, jwtkeys.ES256, true},
		{"RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rk), jwtkeys.RS256, true},
		{"RSA PUBLIC KEY", x509.MarshalPKCS1PublicKey(&rk.PublicKey), jwtkeys.RS256, false},
		{"CERTIFICATE", certDER, jwtkeys.EdDSA, false},
	} {
		k, err := jwtkeys.ParsePEM(pem.EncodeToMemory(&pem.Block{Type: c.typ, Bytes: c.der}))
		if err != nil {
			t.Errorf("%s: %v", c.typ, err)
			continue
		}
		if k.Algorithm() != c.alg || k.CanSign() != c.canSign {
			t.Errorf("%s: alg %s, can sign %v", c.typ, k.Algorithm(), k.CanSign())
		}
	}
}

// TestParsePEMRefuses: malformed input and keys of the wrong type or size
// are errors that say what is wrong, never a panic.
func TestParsePEMRefuses(t *testing.T) {
	p384, err := ecdsa.GenerateKey(elliptic.P384(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	p384DER, err := x509.MarshalPKCS8PrivateKey(p384)
	if err != nil {
		t.Fatal(err)
	}
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	smallDER, err := x509.MarshalPKIXPublicKey(&small.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	good, err := jwtkeys.Generate(jwtkeys.EdDSA, nil)
	if err != nil {
		t.Fatal(err)
	}
	goodPEM, err := good.MarshalPrivatePEM()
	if err != nil {
		t.Fatal(err)
	}
	block := func(typ string, der []byte) []byte { return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}) }
	for _, c := range []struct {
		name, input, want string
		is                error
	}{
		{"empty", "", "no PEM block", jwtkeys.ErrBadPEM},
		{"not PEM", "hello", "no PEM block", jwtkeys.ErrBadPEM},
		{"truncated", string(goodPEM[:len(goodPEM)/2]), "no PEM block", jwtkeys.ErrBadPEM},
		{"two blocks", string(goodPEM) + string(goodPEM), "more than one PEM block", jwtkeys.ErrBadPEM},
		{"garbage DER", string(block("PRIVATE KEY", []byte("nope"))), "PRIVATE KEY block", jwtkeys.ErrBadPEM},
		{"wrong type", string(block("CERTIFICATE REQUEST", []byte("x"))), "is not a key", jwtkeys.ErrBadPEM},
		{"encrypted", string(block("ENCRYPTED PRIVATE KEY", []byte("x"))), "encrypted", jwtkeys.ErrBadPEM},
		{"P-384", string(block("PRIVATE KEY", p384DER)), "P-256", jwtkeys.ErrUnsupportedKey},
		{"RSA 1024", string(block("PUBLIC KEY", smallDER)), "2048 to 8192 bits", jwtkeys.ErrUnsupportedKey},
		{"too large", strings.Repeat("A", jwtkeys.MaxPEMBytes+1), "more than", jwtkeys.ErrBadPEM},
	} {
		k, err := jwtkeys.ParsePEM([]byte(c.input))
		if err == nil {
			t.Errorf("%s: accepted, kid %s", c.name, k.ID())
			continue
		}
		if !errors.Is(err, c.is) || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: error %q, want %q and %v", c.name, err, c.want, c.is)
		}
	}
}

// TestLoadPEMFileNamesTheFile: a startup error says which file is wrong.
func TestLoadPEMFileNamesTheFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "signing.pem")
	if err := os.WriteFile(path, []byte("-----BEGIN CERTIFICATE REQUEST-----\neA==\n-----END CERTIFICATE REQUEST-----\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := jwtkeys.LoadPEMFile(path)
	if err == nil || !strings.Contains(err.Error(), "signing.pem") || !errors.Is(err, jwtkeys.ErrBadPEM) {
		t.Errorf("err = %v", err)
	}
	if _, err := jwtkeys.LoadPEMFile(filepath.Join(t.TempDir(), "missing.pem")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
}

// TestSet: one key signs, all verify, only public halves are published,
// and a public key alone cannot sign.
func TestSet(t *testing.T) {
	next, err := jwtkeys.Generate(jwtkeys.ES256, nil)
	if err != nil {
		t.Fatal(err)
	}
	cur, err := jwtkeys.Generate(jwtkeys.EdDSA, nil)
	if err != nil {
		t.Fatal(err)
	}
	old, err := jwtkeys.Secret([]byte("0123456789abcdef0123456789abcdef"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := jwtkeys.NewSet(cur, next, old)
	if err != nil {
		t.Fatal(err)
	}
	if s.Signer() != cur || len(s.Keys()) != 3 || !s.HasPublic() {
		t.Fatalf("signer %v, %d keys", s.Signer().ID(), len(s.Keys()))
	}
	if k, ok := s.Lookup(next.ID()); !ok || k.CanSign() {
		t.Errorf("the verify-only key: found %v, can sign %v", ok, ok && k.CanSign())
	}
	if _, ok := s.Lookup("unknown"); ok {
		t.Error("an unknown kid was found")
	}
	if got := strings.Join(s.Algorithms(), ","); got != "EdDSA,ES256,HS256" {
		t.Errorf("algorithms = %s", got)
	}
	var set jwtkeys.JWKSet
	if err := json.Unmarshal(s.MarshalJWKS(), &set); err != nil {
		t.Fatal(err)
	}
	if len(set.Keys) != 2 || set.Keys[0].Kid != cur.ID() || set.Keys[1].Kid != next.ID() {
		t.Errorf("jwks = %+v", set)
	}
	if bytes.Contains(s.MarshalJWKS(), []byte(`"d"`)) || bytes.Contains(s.MarshalJWKS(), []byte(old.ID())) {
		t.Errorf("the JWKS shows a private member or the secret: %s", s.MarshalJWKS())
	}

	if _, err := jwtkeys.NewSet(next.VerifyOnly()); err == nil {
		t.Error("a public key alone was accepted as the signer")
	}
	if _, err := jwtkeys.NewSet(cur, cur); err == nil {
		t.Error("a key twice was accepted")
	}
	if _, err := jwtkeys.NewSet(nil); err == nil {
		t.Error("no signing key was accepted")
	}
	hs, err := jwtkeys.NewSet(old)
	if err != nil || hs.HasPublic() || string(hs.MarshalJWKS()) != `{"keys":[]}` {
		t.Errorf("an HS256-only set: %v, %s", err, hs.MarshalJWKS())
	}
}

// FuzzParsePEM: arbitrary input never panics; what parses is a usable key
// whose id survives a round trip through its public PEM.
func FuzzParsePEM(f *testing.F) {
	for _, alg := range []string{jwtkeys.EdDSA, jwtkeys.ES256, jwtkeys.RS256} {
		k, err := jwtkeys.Generate(alg, nil)
		if err != nil {
			f.Fatal(err)
		}
		priv, _ := k.MarshalPrivatePEM()
		pub, _ := k.MarshalPublicPEM()
		f.Add(priv)
		f.Add(pub)
	}
	f.Add([]byte("-----BEGIN PRIVATE KEY-----\n\n-----END PRIVATE KEY-----\n"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, data []byte) {
		k, err := jwtkeys.ParsePEM(data)
		if err != nil {
			if k != nil {
				t.Fatal("a key with an error")
			}
			return
		}
		if k.ID() == "" || k.VerificationKey() == nil {
			t.Fatalf("parsed a key without id or verification key: %+v", k)
		}
		pub, err := k.MarshalPublicPEM()
		if err != nil {
			t.Fatal(err)
		}
		k2, err := jwtkeys.ParsePEM(pub)
		if err != nil {
			t.Fatalf("public round trip: %v", err)
		}
		if k2.ID() != k.ID() {
			t.Fatalf("public round trip: kid %s, then %s", k.ID(), k2.ID())
		}
	})
}

func bigOne() *big.Int { return big.NewInt(1) }
