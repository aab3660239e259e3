package main

import (
	"bytes"
	"context"
	"crypto"
	"encoding/base64"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	jose "github.com/go-jose/go-jose/v4"
	josejwt "github.com/go-jose/go-jose/v4/jwt"
)

// generateKey runs `server keys generate ALG FILE` into a temp dir and
// returns the file.
func generateKey(t *testing.T, alg string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), strings.ToLower(alg)+".pem")
	var out bytes.Buffer
	if err := runCommand(context.Background(), []string{"keys", "generate", alg, path}, env(nil), &out); err != nil {
		t.Fatalf("keys generate %s: %v", alg, err)
	}
	return path
}

// fetchJSON GETs base+path over HTTP and decodes the JSON answer.
func fetchJSON(t *testing.T, base, path string, out any) http.Header {
	t.Helper()
	resp, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s = %d %s", path, resp.StatusCode, b)
	}
	if err := json.Unmarshal(b, out); err != nil {
		t.Fatalf("GET %s: %v", path, err)
	}
	return resp.Header
}

// discovery is what a verifier reads of the OpenID discovery document.
type discovery struct {
	Issuer  string `json:"issuer"`
	JWKSURI string `json:"jwks_uri"`
}

// joseVerify checks tok with go-jose, an independent JOSE implementation:
// the signature against key (a JWKS, the key then chosen by kid, or a
// secret), and the issuer, audience and times.
func joseVerify(t *testing.T, tok string, alg jose.SignatureAlgorithm, key any, issuer, audience string) josejwt.Claims {
	t.Helper()
	parsed, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{alg})
	if err != nil {
		t.Fatalf("go-jose parse: %v", err)
	}
	var claims josejwt.Claims
	var extra struct {
		SID string `json:"sid"`
	}
	if err := parsed.Claims(key, &claims, &extra); err != nil {
		t.Fatalf("go-jose verify: %v", err)
	}
	exp := josejwt.Expected{Issuer: issuer, Time: time.Now()}
	if audience != "" {
		exp.AnyAudience = josejwt.Audience{audience}
	}
	if err := claims.ValidateWithLeeway(exp, 5*time.Second); err != nil {
		t.Fatalf("go-jose claims: %v", err)
	}
	if claims.Subject == "" || claims.ID == "" || extra.SID == "" {
		t.Fatalf("claims %+v, sid %q", claims, extra.SID)
	}
	return claims
}

// registerUser registers name on s and returns its token answer.
func registerUser(t *testing.T, s *testServer, name string) tokenResponse {
	t.Helper()
	const pw = "Correct-Horse-9"
	var tk tokenResponse
	s.do(t, http.MethodPost, "/api/auth/register", "", url.Values{
		"username": {name}, "email": {name + "@example.com"}, "password": {pw}, "confirm_password": {pw},
	}, http.StatusOK, &tk)
	return tk
}

// TestTokensVerifiedByGoJOSE: for each public-key algorithm, the server
// signs with JWT_SIGNING_KEY_FILE, and go-jose, reading the discovery
// document and the JWKS over HTTP, verifies its tokens; the JWKS's kid is
// the RFC 7638 thumbprint as go-jose computes it. An HS256 token verifies
// with the shared secret, and nothing is published then.
func TestTokensVerifiedByGoJOSE(t *testing.T) {
	for _, alg := range []string{"EdDSA", "ES256", "RS256"} {
		t.Run(alg, func(t *testing.T) {
			s := startServer(t, map[string]string{
				"JWT_ALGORITHM": alg, "JWT_SIGNING_KEY_FILE": generateKey(t, alg), "JWT_AUDIENCE": "api.example",
				"BASE_URL": "https://users.example",
			})
			tk := registerUser(t, s, "jose_user")

			var d discovery
			fetchJSON(t, s.base, "/.well-known/openid-configuration", &d)
			if d.Issuer != "https://users.example" || d.JWKSURI != "https://users.example/.well-known/jwks.json" {
				t.Errorf("discovery = %+v", d)
			}
			var jwks jose.JSONWebKeySet
			h := fetchJSON(t, s.base, strings.TrimPrefix(d.JWKSURI, "https://users.example"), &jwks)
			if cc := h.Get("Cache-Control"); !strings.HasPrefix(cc, "public, max-age=") {
				t.Errorf("JWKS Cache-Control = %q", cc)
			}
			if len(jwks.Keys) != 1 || !jwks.Keys[0].Valid() || !jwks.Keys[0].IsPublic() || jwks.Keys[0].Algorithm != alg {
				t.Fatalf("jwks = %+v", jwks)
			}
			tp, err := jwks.Keys[0].Thumbprint(crypto.SHA256)
			if err != nil {
				t.Fatal(err)
			}
			if kid := base64.RawURLEncoding.EncodeToString(tp); kid != jwks.Keys[0].KeyID {
				t.Errorf("kid %s is not the RFC 7638 thumbprint %s", jwks.Keys[0].KeyID, kid)
			}
			joseVerify(t, tk.AccessToken, jose.SignatureAlgorithm(alg), &jwks, d.Issuer, "api.example")

			// A token altered after signing does not verify.
			parts := strings.Split(tk.AccessToken, ".")
			forged := parts[0] + "." + base64.RawURLEncoding.EncodeToString([]byte(`{"sub":"someone-else"}`)) + "." + parts[2]
			if p, err := josejwt.ParseSigned(forged, []jose.SignatureAlgorithm{jose.SignatureAlgorithm(alg)}); err == nil {
				var c josejwt.Claims
				if err := p.Claims(&jwks, &c); err == nil {
					t.Error("go-jose accepted an altered token")
				}
			}
			s.do(t, http.MethodGet, "/api/user/me", forged, nil, http.StatusUnauthorized, nil)
		})
	}
	t.Run("HS256", func(t *testing.T) {
		secret := "an-hs256-secret-of-more-than-32-bytes"
		s := startServer(t, map[string]string{"JWT_SECRET_KEY": secret, "PROJECT_NAME": "Acme"})
		tk := registerUser(t, s, "hs_user")
		joseVerify(t, tk.AccessToken, jose.HS256, []byte(secret), "Acme", "")
		s.do(t, http.MethodGet, "/.well-known/jwks.json", "", nil, http.StatusNotFound, nil)
	})
}

// TestKeyRotationTwoServers walks the rotation of docs/tokens.md with two
// servers over one PostgreSQL database, restarted in turn: at every step
// each server accepts every token issued so far, go-jose verifies them all
// through one server's JWKS, and once promoted the new key signs.
func TestKeyRotationTwoServers(t *testing.T) {
	oldKey, newKey := generateKey(t, "EdDSA"), generateKey(t, "ES256")
	shared := sharedVars(t)
	start := func(sign string, verify ...string) *testServer {
		t.Helper()
		vars := map[string]string{"JWT_SIGNING_KEY_FILE": sign, "JWT_VERIFY_KEY_FILES": strings.Join(verify, ",")}
		for k, v := range shared {
			vars[k] = v
		}
		return startServer(t, vars)
	}
	stop := func(s *testServer) {
		t.Helper()
		if err := s.stop(); err != nil {
			t.Fatal(err)
		}
	}
	var tokens []string
	checkAll := func(step string, servers ...*testServer) {
		t.Helper()
		var jwks jose.JSONWebKeySet
		fetchJSON(t, servers[0].base, "/.well-known/jwks.json", &jwks)
		for _, tok := range tokens {
			for _, s := range servers {
				s.do(t, http.MethodGet, "/api/user/me", tok, nil, http.StatusOK, nil)
			}
			parsed, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256})
			if err != nil {
				t.Fatalf("%s: %v", step, err)
			}
			var c josejwt.Claims
			if err := parsed.Claims(&jwks, &c); err != nil {
				t.Fatalf("%s: go-jose with the JWKS of the first server: %v", step, err)
			}
		}
	}
	alg := func(tok string) string {
		t.Helper()
		p, err := josejwt.ParseSigned(tok, []jose.SignatureAlgorithm{jose.EdDSA, jose.ES256})
		if err != nil {
			t.Fatal(err)
		}
		return p.Headers[0].Algorithm
	}
	issue := func(s *testServer, name, wantAlg string) {
		t.Helper()
		tk := registerUser(t, s, name)
		if got := alg(tk.AccessToken); got != wantAlg {
			t.Fatalf("%s: signed with %s, want %s", name, got, wantAlg)
		}
		tokens = append(tokens, tk.AccessToken)
	}

	a, b := start(oldKey), start(oldKey)
	issue(a, "before_rotation", "EdDSA")
	// 1. The next key joins as verify-only, server by server.
	stop(a)
	a = start(oldKey, newKey)
	issue(a, "next_published", "EdDSA")
	checkAll("next key on a", a, b)
	stop(b)
	b = start(oldKey, newKey)
	checkAll("next key on both", b, a)
	// 2. Promoted, server by server; b still signs with the old key while
	// a signs with the new one.
	stop(a)
	a = start(newKey, oldKey)
	issue(a, "promoted_on_a", "ES256")
	issue(b, "still_old_on_b", "EdDSA")
	checkAll("promoted on a", a, b)
	checkAll("promoted on a", b, a)
	stop(b)
	b = start(newKey, oldKey)
	issue(b, "promoted_on_b", "ES256")
	checkAll("promoted on both", a, b)
}

// TestRunRefusesBadKeys: a missing, malformed or wrong key file, or
// JWT_ALGORITHM at odds with it, stops the server at startup with an error
// naming the variable (and the file).
func TestRunRefusesBadKeys(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
			t.Fatal(err)
		}
		return path
	}
	ed := generateKey(t, "EdDSA")
	edPEM, err := os.ReadFile(ed)
	if err != nil {
		t.Fatal(err)
	}
	pubPath := filepath.Join(dir, "public.pem")
	var out bytes.Buffer
	if err := runCommand(context.Background(), []string{"keys", "generate", "ES256", filepath.Join(dir, "es.pem")}, env(nil), &out); err != nil {
		t.Fatal(err)
	}
	pub := out.String()[strings.Index(out.String(), "-----BEGIN"):]
	if err := os.WriteFile(pubPath, []byte(pub), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		vars map[string]string
		want []string
	}{
		{"missing file", map[string]string{"JWT_SIGNING_KEY_FILE": filepath.Join(dir, "none.pem")}, []string{"JWT_SIGNING_KEY_FILE", "none.pem"}},
		{"not PEM", map[string]string{"JWT_SIGNING_KEY_FILE": write("garbage.pem", "not a key")}, []string{"JWT_SIGNING_KEY_FILE", "garbage.pem", "no PEM block"}},
		{"truncated", map[string]string{"JWT_SIGNING_KEY_FILE": write("cut.pem", string(edPEM[:len(edPEM)-30]))}, []string{"JWT_SIGNING_KEY_FILE", "cut.pem"}},
		{"wrong type", map[string]string{"JWT_SIGNING_KEY_FILE": write("csr.pem", "-----BEGIN CERTIFICATE REQUEST-----\neA==\n-----END CERTIFICATE REQUEST-----\n")}, []string{"JWT_SIGNING_KEY_FILE", "csr.pem", "not a key"}},
		{"public key signs", map[string]string{"JWT_SIGNING_KEY_FILE": pubPath}, []string{"JWT_SIGNING_KEY_FILE", "public.pem", "private key"}},
		{"algorithm mismatch", map[string]string{"JWT_ALGORITHM": "RS256", "JWT_SIGNING_KEY_FILE": ed}, []string{"JWT_SIGNING_KEY_FILE", "EdDSA", "RS256"}},
		{"bad verify key", map[string]string{"JWT_SIGNING_KEY_FILE": ed, "JWT_VERIFY_KEY_FILES": write("v.pem", "junk")}, []string{"JWT_VERIFY_KEY_FILES", "v.pem"}},
		{"same key twice", map[string]string{"JWT_SIGNING_KEY_FILE": ed, "JWT_VERIFY_KEY_FILES": ed}, []string{"twice"}},
		{"unsupported algorithm", map[string]string{"JWT_ALGORITHM": "none"}, []string{"JWT_ALGORITHM", "not supported"}},
		{"algorithm without key", map[string]string{"JWT_ALGORITHM": "ES256"}, []string{"JWT_SIGNING_KEY_FILE", "keys generate"}},
		{"HS256 with a key file", map[string]string{"JWT_ALGORITHM": "HS256", "JWT_SIGNING_KEY_FILE": ed}, []string{"JWT_ALGORITHM", "HS256"}},
		{"verify keys alone", map[string]string{"JWT_VERIFY_KEY_FILES": ed}, []string{"JWT_VERIFY_KEY_FILES"}},
	} {
		vars := map[string]string{"DATA_DIR": t.TempDir(), "ADDR": "127.0.0.1:0"}
		for k, v := range c.vars {
			vars[k] = v
		}
		// Should it start after all, it stops at once.
		ctx, cancel := context.WithCancel(context.Background())
		err := run(ctx, env(vars), io.Discard, func(net.Addr) { cancel() })
		cancel()
		if err == nil {
			t.Errorf("%s: the server started", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: %v; want it to name %q", c.name, err, w)
			}
		}
	}
}

// TestKeysGenerate: the command writes a private key readable by its owner
// alone, never over an existing file, and prints the kid and public key.
func TestKeysGenerate(t *testing.T) {
	path := filepath.Join(t.TempDir(), "k.pem")
	var out bytes.Buffer
	if err := runCommand(context.Background(), []string{"keys", "generate", path}, env(map[string]string{"JWT_ALGORITHM": "ES256"}), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "ES256") || !strings.Contains(out.String(), "kid: ") || !strings.Contains(out.String(), "BEGIN PUBLIC KEY") ||
		strings.Contains(out.String(), "PRIVATE") {
		t.Errorf("output:\n%s", out.String())
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("mode %v", fi.Mode().Perm())
	}
	k, err := loadKeys(KeysConfig{SigningKeyFile: path})
	if err != nil || k.Signer().Algorithm() != "ES256" || !strings.Contains(out.String(), k.Signer().ID()) {
		t.Fatalf("load the generated key: %v", err)
	}
	if err := runCommand(context.Background(), []string{"keys", "generate", "EdDSA", path}, env(nil), io.Discard); err == nil {
		t.Error("generate overwrote an existing file")
	}
	for _, args := range [][]string{{"keys"}, {"keys", "generate"}, {"keys", "generate", "HS256", path + "2"}, {"keys", "rotate", path}} {
		if err := runCommand(context.Background(), args, env(nil), io.Discard); err == nil {
			t.Errorf("%v: accepted", args)
		}
	}
}
