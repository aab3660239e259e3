// Package verify checks the Standard Webhooks signature of a request a
// webhook receiver gets (https://www.standardwebhooks.com): the headers
// webhook-id, webhook-timestamp and webhook-signature, the latter a
// space-separated list of "v1,<base64 HMAC-SHA256>" signatures of
// "<id>.<timestamp>.<body>", one per secret the sender signs with (two
// during a rotation). It imports nothing of the library, so a receiver
// links only this package.
//
//	v, err := verify.New("whsec_...")
//	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
//	if err := v.Verify(r.Header, body, time.Now()); err != nil { ... 400 ... }
package verify

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// The headers of a signed request.
const (
	HeaderID        = "webhook-id"
	HeaderTimestamp = "webhook-timestamp"
	HeaderSignature = "webhook-signature"
)

// SecretPrefix starts a secret in its text form: "whsec_" and the key in
// standard base64.
const SecretPrefix = "whsec_"

// Tolerance is how far a timestamp may be from the receiver's clock.
const Tolerance = 5 * time.Minute

// The errors of Verify; errors.Is matches them.
var (
	ErrMissingHeaders = errors.New("verify: missing webhook-id, webhook-timestamp or webhook-signature")
	ErrTimestamp      = errors.New("verify: the timestamp is invalid or too far from now")
	ErrSignature      = errors.New("verify: no signature matches")
	ErrSecret         = errors.New("verify: a secret is not whsec_ and base64 of 24 to 64 bytes")
)

// ParseSecret returns the key of a secret in its text form ("whsec_"
// and base64; the prefix may be left out).
func ParseSecret(s string) ([]byte, error) {
	key, err := base64.StdEncoding.DecodeString(strings.TrimPrefix(s, SecretPrefix))
	if err != nil || len(key) < 24 || len(key) > 64 {
		return nil, ErrSecret
	}
	return key, nil
}

// Sign returns the signature ("v1," and base64) of body sent as message
// id at timestamp, with key.
func Sign(key []byte, id string, timestamp int64, body []byte) string {
	mac := hmac.New(sha256.New, key)
	mac.Write([]byte(id))
	mac.Write([]byte{'.'})
	mac.Write([]byte(strconv.FormatInt(timestamp, 10)))
	mac.Write([]byte{'.'})
	mac.Write(body)
	return "v1," + base64.StdEncoding.EncodeToString(mac.Sum(nil))
}

// A Verifier checks signatures against one or more secrets (several
// while the sender rotates).
type Verifier struct {
	keys      [][]byte
	tolerance time.Duration
}

// New returns a Verifier of the given secrets, each "whsec_" and base64.
func New(secrets ...string) (*Verifier, error) {
	if len(secrets) == 0 {
		return nil, ErrSecret
	}
	v := &Verifier{tolerance: Tolerance}
	for i, s := range secrets {
		key, err := ParseSecret(s)
		if err != nil {
			return nil, fmt.Errorf("secret %d: %w", i+1, err)
		}
		v.keys = append(v.keys, key)
	}
	return v, nil
}

// WithTolerance returns a copy of v that accepts timestamps within d of
// now (default Tolerance).
func (v *Verifier) WithTolerance(d time.Duration) *Verifier {
	c := *v
	c.tolerance = d
	return &c
}

// Verify checks that h signs body with one of v's secrets and that its
// timestamp is within the tolerance of now. It compares in constant time.
func (v *Verifier) Verify(h http.Header, body []byte, now time.Time) error {
	id, ts, sigs := h.Get(HeaderID), h.Get(HeaderTimestamp), h.Get(HeaderSignature)
	if id == "" || ts == "" || sigs == "" {
		return ErrMissingHeaders
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return ErrTimestamp
	}
	if d := now.Sub(time.Unix(sec, 0)); d > v.tolerance || d < -v.tolerance {
		return ErrTimestamp
	}
	for _, key := range v.keys {
		want := []byte(Sign(key, id, sec, body))
		for _, got := range strings.Fields(sigs) {
			if strings.HasPrefix(got, "v1,") && hmac.Equal([]byte(got), want) {
				return nil
			}
		}
	}
	return ErrSignature
}
