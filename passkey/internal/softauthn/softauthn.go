// Package softauthn is a software WebAuthn authenticator for tests: ES256
// keys, attestation "none", and the JSON a browser's PublicKeyCredential
// toJSON() gives, built from the options a relying party sends. It holds
// its credentials in memory and is safe for one goroutine at a time.
package softauthn

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
)

// Authenticator flags (WebAuthn §6.1).
const (
	flagUP = 0x01
	flagUV = 0x04
	flagBE = 0x08
	flagBS = 0x10
	flagAT = 0x40
)

// Authenticator is a software authenticator.
type Authenticator struct {
	// Origin is the origin the "browser" reports in clientDataJSON.
	Origin string
	// UV sets the user-verified flag of the next ceremonies.
	UV bool
	// BackupEligible and BackedUp set the BE and BS flags.
	BackupEligible, BackedUp bool
	// NoCounter keeps the signature counter at 0 (as synced passkeys do).
	NoCounter bool
	// RPIDOverride, when set, is hashed instead of the options' RP ID.
	RPIDOverride string

	creds []*Credential
}

// Credential is one key pair the authenticator made.
type Credential struct {
	ID         []byte
	RPID       string
	UserHandle []byte
	Key        *ecdsa.PrivateKey
	// Counter is the signature counter last used; set it lower to act as
	// a cloned authenticator.
	Counter uint32
}

// New returns an authenticator reporting origin.
func New(origin string) *Authenticator { return &Authenticator{Origin: origin} }

// Credentials returns the credentials made so far.
func (a *Authenticator) Credentials() []*Credential { return a.creds }

type descriptor struct {
	ID string `json:"id"`
}

// creationOptions is what Create reads of PublicKeyCredentialCreationOptions.
type creationOptions struct {
	Challenge string `json:"challenge"`
	RP        struct {
		ID string `json:"id"`
	} `json:"rp"`
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Exclude []descriptor `json:"excludeCredentials"`
}

// requestOptions is what Get reads of PublicKeyCredentialRequestOptions.
type requestOptions struct {
	Challenge string       `json:"challenge"`
	RPID      string       `json:"rpId"`
	Allow     []descriptor `json:"allowCredentials"`
}

var b64 = base64.RawURLEncoding

// Create makes a credential for the options (the "publicKey" member of a
// registration begin) and returns the registration's credential JSON.
func (a *Authenticator) Create(options []byte) ([]byte, error) {
	var o creationOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("softauthn: creation options: %w", err)
	}
	for _, ex := range o.Exclude {
		for _, c := range a.creds {
			if b64.EncodeToString(c.ID) == ex.ID {
				return nil, errors.New("softauthn: InvalidStateError: a credential is excluded")
			}
		}
	}
	handle, err := b64.DecodeString(o.User.ID)
	if err != nil {
		return nil, fmt.Errorf("softauthn: user.id: %w", err)
	}
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	id := make([]byte, 32)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	c := &Credential{ID: id, RPID: o.RP.ID, UserHandle: handle, Key: key}
	if !a.NoCounter {
		c.Counter = 1
	}
	clientData, err := a.clientData("webauthn.create", o.Challenge)
	if err != nil {
		return nil, err
	}
	auth := a.authData(o.RP.ID, flagAT, c.Counter)
	auth = append(auth, make([]byte, 16)...) // AAGUID: none
	auth = binary.BigEndian.AppendUint16(auth, uint16(len(id)))
	auth = append(auth, id...)
	auth = append(auth, coseKey(&key.PublicKey)...)
	att := cborMap(3)
	att = append(att, cborText("fmt")...)
	att = append(att, cborText("none")...)
	att = append(att, cborText("attStmt")...)
	att = append(att, cborMap(0)...)
	att = append(att, cborText("authData")...)
	att = append(att, cborBytes(auth)...)
	a.creds = append(a.creds, c)
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(id), "rawId": b64.EncodeToString(id), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(clientData), "attestationObject": b64.EncodeToString(att),
			"transports": []string{"internal", "hybrid"},
		},
	})
}

// Get signs an assertion for the options (the "publicKey" member of a
// sign-in begin) with a credential they allow, or, when they list none, the
// first credential made for their RP ID.
func (a *Authenticator) Get(options []byte) ([]byte, error) {
	var o requestOptions
	if err := json.Unmarshal(options, &o); err != nil {
		return nil, fmt.Errorf("softauthn: request options: %w", err)
	}
	var c *Credential
	for _, have := range a.creds {
		if have.RPID != o.RPID {
			continue
		}
		if len(o.Allow) == 0 {
			c = have
			break
		}
		for _, al := range o.Allow {
			if b64.EncodeToString(have.ID) == al.ID {
				c = have
			}
		}
		if c != nil {
			break
		}
	}
	if c == nil {
		return nil, errors.New("softauthn: NotAllowedError: no credential for these options")
	}
	if !a.NoCounter {
		c.Counter++
	}
	return a.Assert(c, o.Challenge, c.Counter)
}

// Assert signs an assertion of c for challenge (base64url) with the given
// counter, as Get does, without choosing or counting.
func (a *Authenticator) Assert(c *Credential, challenge string, counter uint32) ([]byte, error) {
	clientData, err := a.clientData("webauthn.get", challenge)
	if err != nil {
		return nil, err
	}
	auth := a.authData(c.RPID, 0, counter)
	h := sha256.Sum256(clientData)
	digest := sha256.Sum256(append(append([]byte{}, auth...), h[:]...))
	sig, err := ecdsa.SignASN1(rand.Reader, c.Key, digest[:])
	if err != nil {
		return nil, err
	}
	return json.Marshal(map[string]any{
		"id": b64.EncodeToString(c.ID), "rawId": b64.EncodeToString(c.ID), "type": "public-key",
		"authenticatorAttachment": "platform", "clientExtensionResults": map[string]any{},
		"response": map[string]any{
			"clientDataJSON": b64.EncodeToString(clientData), "authenticatorData": b64.EncodeToString(auth),
			"signature": b64.EncodeToString(sig), "userHandle": b64.EncodeToString(c.UserHandle),
		},
	})
}

func (a *Authenticator) clientData(typ, challenge string) ([]byte, error) {
	return json.Marshal(map[string]any{"type": typ, "challenge": challenge, "origin": a.Origin, "crossOrigin": false})
}

// authData is the authenticator data's fixed part: the RP ID hash, the
// flags (with extra) and the counter.
func (a *Authenticator) authData(rpID string, extra byte, counter uint32) []byte {
	if a.RPIDOverride != "" {
		rpID = a.RPIDOverride
	}
	h := sha256.Sum256([]byte(rpID))
	flags := flagUP | extra
	if a.UV {
		flags |= flagUV
	}
	if a.BackupEligible {
		flags |= flagBE
	}
	if a.BackedUp {
		flags |= flagBS
	}
	out := append(h[:], flags)
	return binary.BigEndian.AppendUint32(out, counter)
}

// coseKey is pub as a COSE_Key: EC2, ES256, P-256.
func coseKey(pub *ecdsa.PublicKey) []byte {
	raw, _ := pub.Bytes() // 0x04 || X || Y
	x, y := raw[1:33], raw[33:65]
	k := cborMap(5)
	k = append(k, cborInt(1)...) // kty
	k = append(k, cborInt(2)...) // EC2
	k = append(k, cborInt(3)...) // alg
	k = append(k, cborInt(-7)...)
	k = append(k, cborInt(-1)...) // crv
	k = append(k, cborInt(1)...)  // P-256
	k = append(k, cborInt(-2)...)
	k = append(k, cborBytes(x)...)
	k = append(k, cborInt(-3)...)
	k = append(k, cborBytes(y)...)
	return k
}

// The few CBOR items the authenticator writes (RFC 8949 §3).
func cborHead(major byte, n uint64) []byte {
	switch {
	case n < 24:
		return []byte{major<<5 | byte(n)}
	case n < 1<<8:
		return []byte{major<<5 | 24, byte(n)}
	case n < 1<<16:
		return binary.BigEndian.AppendUint16([]byte{major<<5 | 25}, uint16(n))
	default:
		return binary.BigEndian.AppendUint32([]byte{major<<5 | 26}, uint32(n))
	}
}

func cborInt(v int) []byte {
	if v < 0 {
		return cborHead(1, uint64(-1-v))
	}
	return cborHead(0, uint64(v))
}

func cborBytes(b []byte) []byte { return append(cborHead(2, uint64(len(b))), b...) }
func cborText(s string) []byte  { return append(cborHead(3, uint64(len(s))), s...) }
func cborMap(n int) []byte      { return cborHead(5, uint64(n)) }
