package passkey_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/sha256"
	"encoding/json"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/go-webauthn/webauthn/protocol/webauthncose"

	"github.com/usermgmt/usermgmt/internal/cputime"
	"github.com/usermgmt/usermgmt/passkey"
	"github.com/usermgmt/usermgmt/passkey/internal/softauthn"
)

// BenchmarkPasskeyLoginFinish measures FinishLogin (decode, take the
// ceremony, verify the ES256 signature, record the use, open the
// session) on SQLite in memory; the begin and the signing are outside the
// timer.
//
// Beside ns/op (wall time, which on a shared machine counts the wait for
// a core) it reports the process's CPU time while FinishLogin runs
// (cpu-ns/op), to set against BenchmarkPasskeySignatureCheck's: their
// difference is the server CPU beyond the signature check.
func BenchmarkPasskeyLoginFinish(b *testing.B) {
	e := newEnv(b)
	_, tok := e.user("jane_doe", "Secret-pass-123")
	auth := softauthn.New(origin)
	auth.UV = true
	if a := e.register(auth, tok, "k"); a.status != http.StatusCreated {
		b.Fatalf("register: %d %s", a.status, a.body)
	}
	var pk *passkey.Passkeys
	for _, f := range e.m.Features() {
		pk, _ = f.(*passkey.Passkeys)
	}
	ctx := context.Background()
	var finishCPU time.Duration
	measured := true
	n := 0
	for b.Loop() {
		b.StopTimer()
		begin, err := pk.BeginLogin(ctx, "")
		if err != nil {
			b.Fatal(err)
		}
		opts, _ := json.Marshal(begin.PublicKey)
		cred, err := auth.Get(opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		c0, ok0 := cputime.Process()
		if _, err := pk.FinishLogin(ctx, begin.Ceremony, cred); err != nil {
			b.Fatal(err)
		}
		c1, ok1 := cputime.Process()
		measured = measured && ok0 && ok1
		finishCPU += c1 - c0
		n++
	}
	if measured && n > 0 {
		b.ReportMetric(float64(finishCPU)/float64(n), "cpu-ns/op")
	}
}

// BenchmarkPasskeySignatureCheck is the signature check of a sign-in
// alone: the ES256 verification of the assertion's signature over
// authenticatorData || SHA-256(clientDataJSON), the step 15–16 of
// WebAuthn §7.2 that go-webauthn does inside FinishLogin.
//
//   - ecdsa: crypto/ecdsa.VerifyASN1 with the key already decoded;
//   - webauthncose: go-webauthn's own calls on the stored COSE key
//     (webauthncose.ParsePublicKey, then VerifySignature, which also
//     checks the DER encoding), as FinishLogin runs them.
func BenchmarkPasskeySignatureCheck(b *testing.B) {
	auth := softauthn.New(origin)
	reg, err := auth.Create([]byte(`{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rp":{"id":"app.example.com"},"user":{"id":"dXNlcg"}}`))
	if err != nil {
		b.Fatal(err)
	}
	created, err := passkey.ParseCreation(reg)
	if err != nil {
		b.Fatal(err)
	}
	cose := created.Response.AttestationObject.AuthData.AttData.CredentialPublicKey
	as, err := auth.Get([]byte(`{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rpId":"app.example.com"}`))
	if err != nil {
		b.Fatal(err)
	}
	authData, clientData, sig := assertionParts(b, as)
	pub := &auth.Credentials()[0].Key.PublicKey

	b.Run("ecdsa", func(b *testing.B) {
		b.ReportAllocs()
		cpu0, ok := cputime.Process()
		n := 0
		for b.Loop() {
			if !sigCheck(pub, authData, clientData, sig) {
				b.Fatal("signature refused")
			}
			n++
		}
		if cpu1, _ := cputime.Process(); ok && n > 0 {
			b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
		}
	})
	b.Run("webauthncose", func(b *testing.B) {
		b.ReportAllocs()
		cpu0, ok := cputime.Process()
		n := 0
		for b.Loop() {
			h := sha256.Sum256(clientData)
			key, err := webauthncose.ParsePublicKey(cose)
			if err != nil {
				b.Fatal(err)
			}
			valid, err := webauthncose.VerifySignature(key, slices.Concat(authData, h[:]), sig)
			if !valid || err != nil {
				b.Fatalf("signature refused: %v", err)
			}
			n++
		}
		if cpu1, _ := cputime.Process(); ok && n > 0 {
			b.ReportMetric(float64(cpu1-cpu0)/float64(n), "cpu-ns/op")
		}
	})
}

// sigCheck verifies an ES256 assertion signature with crypto/ecdsa alone.
func sigCheck(pub *ecdsa.PublicKey, authData, clientData, sig []byte) bool {
	h := sha256.Sum256(clientData)
	digest := sha256.Sum256(slices.Concat(authData, h[:]))
	return ecdsa.VerifyASN1(pub, digest[:], sig)
}

// assertionParts returns the raw authenticatorData, clientDataJSON and
// signature of a sign-in credential's JSON.
func assertionParts(b *testing.B, cred []byte) (authData, clientData, sig []byte) {
	b.Helper()
	parsed, err := passkey.ParseAssertion(cred)
	if err != nil {
		b.Fatal(err)
	}
	return parsed.Raw.AssertionResponse.AuthenticatorData, parsed.Raw.AssertionResponse.ClientDataJSON, parsed.Response.Signature
}
