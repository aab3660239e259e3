// Package passkey signs users in with passkeys (WebAuthn level 3, through
// github.com/go-webauthn/webauthn): a signed-in user registers passkeys,
// anyone signs in with one (a discoverable credential, or the passkeys of
// a named account), and owners and admins list, rename and remove them.
//
// It is a feature over the usermgmt core: enable it with
//
//	pk := passkey.New(passkey.Config{})
//	m, err := usermgmt.New(cfg, usermgmt.WithFeature(pk))
//
// and httpadapter.New(m, ...) serves its routes under /auth/passkeys. The
// Manager's store must implement credstore.Store (store.DB does, from
// migration 0007): New fails otherwise. A host that does not enable the
// feature does not link the WebAuthn library.
//
// The rules: a ceremony (a registration or a sign-in begun) is stored, so
// that any instance can finish it, and is used once, within CeremonyTTL
// (5 minutes); a registration is bound to its user. A sign-in checks the
// signature counter (one that does not grow, on an authenticator that
// counts, is refused and audited) and the backup flags, and stores both.
// A passkey whose assertion verified the user (UV) counts as both factors;
// without UV, the account's second factor is asked as after a password
// (usermgmt.Manager.SignIn). The last way into an account (no password, no
// provider) cannot be removed, and the core counts an account's passkeys
// (usermgmt.WayIn) before it unlinks a provider. Every change is audited.
package passkey

import (
	"context"
	"crypto/hkdf"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/passkey/credstore"
)

// Audit actions of the passkey feature. A sign-in is the core's login
// entry, with method=passkey.
const (
	AuditRegistered       = "passkey-registered"
	AuditRenamed          = "passkey-renamed"
	AuditRemoved          = "passkey-removed"
	AuditCounterRegressed = "passkey-counter-regressed"
)

// decoyKeyInfo is the HKDF info that derives the decoy key from the
// Manager's JWT secret: no other key of the library uses it.
const decoyKeyInfo = "usermgmt passkey decoy credential"

// Defaults and limits.
const (
	// DefaultCeremonyTTL is how long a begun ceremony can be finished.
	DefaultCeremonyTTL = 5 * time.Minute
	// MaxPasskeys bounds the passkeys of one user.
	MaxPasskeys = 20
	// MaxName bounds a passkey's name, in characters.
	MaxName = 64
	// MaxCredentialBytes bounds the credential JSON of a finish.
	MaxCredentialBytes = 64 << 10
)

// Errors of the passkey feature: each a 4xx with a stable code.
var (
	// ErrCeremony is a ceremony that is unknown, spent, expired, of the
	// other kind or begun by another user.
	ErrCeremony = usermgmt.NewError(http.StatusBadRequest, "passkey_ceremony_invalid", "The passkey ceremony is unknown, spent or expired; begin again.")
	// ErrMalformed is a credential that does not decode.
	ErrMalformed = usermgmt.NewError(http.StatusBadRequest, "passkey_credential_malformed", "The passkey credential is malformed.")
	// ErrRejected is a credential that decodes but does not verify
	// (challenge, origin, RP ID, signature, flags).
	ErrRejected = usermgmt.NewError(http.StatusUnauthorized, "passkey_rejected", "The passkey could not be verified.")
	// ErrUnknownCredential is an assertion by a credential not registered
	// (or not the named account's).
	ErrUnknownCredential = usermgmt.NewError(http.StatusUnauthorized, "passkey_unknown_credential", "This passkey is not registered here.")
	// ErrCounterRegressed is an assertion whose signature counter did not
	// grow: a cloned authenticator or a replay. It is audited.
	ErrCounterRegressed = usermgmt.NewError(http.StatusUnauthorized, "passkey_counter_regressed", "The passkey's signature counter went backwards; the sign-in was refused.")
	// ErrAlreadyRegistered is a credential already registered.
	ErrAlreadyRegistered = usermgmt.NewError(http.StatusConflict, "passkey_already_registered", "This passkey is already registered.")
	// ErrTooMany is a registration beyond MaxPasskeys.
	ErrTooMany = usermgmt.NewError(http.StatusConflict, "passkey_limit_reached", "This account has the most passkeys allowed.")
	// ErrNotFound is a passkey the user does not have.
	ErrNotFound = usermgmt.NewError(http.StatusNotFound, "passkey_not_found", "Passkey not found.")
	// ErrLastWayIn refuses to remove the only passkey of an account
	// without a password or a provider.
	ErrLastWayIn = usermgmt.NewError(http.StatusConflict, "passkey_last_way_in", "This passkey is the account's only way in; add a password, a provider or another passkey first.")
	// ErrInvalidName is a name too long or with control characters.
	ErrInvalidName = usermgmt.NewError(http.StatusUnprocessableEntity, "passkey_name_invalid", "A passkey name has at most 64 characters and no control characters.")
)

// Config configures the feature. Zero values take the defaults.
type Config struct {
	// RPID is the relying party ID. Default: the host of the Manager's
	// BaseURL.
	RPID string
	// Origins are the origins allowed besides BaseURL's
	// ("https://app.example.com").
	Origins []string
	// DisplayName names the relying party to the user. Default: the
	// Manager's ProjectName, else "usermgmt".
	DisplayName string
	// CeremonyTTL bounds a ceremony. Default DefaultCeremonyTTL.
	CeremonyTTL time.Duration
}

// Passkeys is the feature: pass it to usermgmt.WithFeature.
type Passkeys struct {
	cfg     Config
	m       *usermgmt.Manager
	wa      *webauthn.WebAuthn
	origins []string
	// decoyKey derives the stable decoy credential of an unknown username
	// (decoyCredentialID); it is derived from Config.JWTSecret.
	decoyKey []byte
}

// The feature holds ways into accounts, which the core counts.
var _ usermgmt.WayIn = (*Passkeys)(nil)

// New returns the feature, to enable with usermgmt.WithFeature.
func New(cfg Config) *Passkeys { return &Passkeys{cfg: cfg} }

// FeatureName implements usermgmt.Feature.
func (p *Passkeys) FeatureName() string { return "passkey" }

// InitFeature implements usermgmt.Feature: it checks the store and builds
// the relying party from the configuration.
func (p *Passkeys) InitFeature(m *usermgmt.Manager) error {
	if _, err := usermgmt.NeedStore[credstore.Store](m.Store(), p.FeatureName()); err != nil {
		return err
	}
	mc := m.Config()
	if p.cfg.CeremonyTTL <= 0 {
		p.cfg.CeremonyTTL = DefaultCeremonyTTL
	}
	if p.cfg.DisplayName == "" {
		p.cfg.DisplayName = mc.ProjectName
	}
	if p.cfg.DisplayName == "" {
		p.cfg.DisplayName = "usermgmt"
	}
	origins, rpID, err := relyingParty(mc.BaseURL, p.cfg.RPID, p.cfg.Origins)
	if err != nil {
		return err
	}
	p.cfg.RPID, p.origins = rpID, origins
	wa, err := webauthn.New(&webauthn.Config{
		RPID: rpID, RPDisplayName: p.cfg.DisplayName, RPOrigins: origins,
		AttestationPreference:  "none",
		AuthenticatorSelection: authenticatorSelection(),
		Timeouts: webauthn.TimeoutsConfig{
			Login:        webauthn.TimeoutConfig{Timeout: p.cfg.CeremonyTTL, TimeoutUVD: p.cfg.CeremonyTTL},
			Registration: webauthn.TimeoutConfig{Timeout: p.cfg.CeremonyTTL, TimeoutUVD: p.cfg.CeremonyTTL},
		},
	})
	if err != nil {
		return fmt.Errorf("passkey: relying party: %w", err)
	}
	// Derived from the configured secret, not drawn at random: every
	// instance of the service (and every restart) must list the same decoy
	// for a name, or comparing two answers would tell which names are
	// accounts.
	if p.decoyKey, err = hkdf.Key(sha256.New, mc.JWTSecret, nil, decoyKeyInfo, 32); err != nil {
		return fmt.Errorf("passkey: derive the decoy key: %w", err)
	}
	p.m, p.wa = m, wa
	return nil
}

// RPID returns the relying party ID in use (after InitFeature).
func (p *Passkeys) RPID() string { return p.cfg.RPID }

// Origins returns the allowed origins (after InitFeature).
func (p *Passkeys) Origins() []string { return append([]string(nil), p.origins...) }

// relyingParty derives the allowed origins and the RP ID: the origin of
// baseURL plus extra, and rpID or baseURL's host.
func relyingParty(baseURL, rpID string, extra []string) ([]string, string, error) {
	var origins []string
	add := func(raw string) error {
		u, err := url.Parse(strings.TrimSpace(raw))
		if err != nil || u.Scheme == "" || u.Host == "" {
			return fmt.Errorf("passkey: origin %q: want scheme://host[:port]", raw)
		}
		o := u.Scheme + "://" + u.Host
		for _, have := range origins {
			if have == o {
				return nil
			}
		}
		origins = append(origins, o)
		return nil
	}
	if baseURL != "" {
		if err := add(baseURL); err != nil {
			return nil, "", err
		}
		if rpID == "" {
			u, _ := url.Parse(baseURL)
			rpID = u.Hostname()
		}
	}
	for _, o := range extra {
		if strings.TrimSpace(o) == "" {
			continue
		}
		if err := add(o); err != nil {
			return nil, "", err
		}
	}
	if rpID == "" || len(origins) == 0 {
		return nil, "", errors.New("passkey: no relying party: set the Manager's BaseURL, or Config.RPID and Config.Origins")
	}
	return origins, rpID, nil
}

// store returns the feature's store: the Manager's, or st's inside InTx.
func (p *Passkeys) store(st usermgmt.Store) (credstore.Store, error) {
	return usermgmt.NeedStore[credstore.Store](st, p.FeatureName())
}

func (p *Passkeys) now() time.Time { return p.m.Config().Clock() }

// randomID returns n random bytes from the Manager's source, base64url.
func (p *Passkeys) randomID(n int) (string, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(p.m.Config().Rand, b); err != nil {
		return "", usermgmt.ErrInternal.Wrap(fmt.Errorf("passkey: random: %w", err))
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// decoyCredentialID is the credential ID a sign-in by an unknown username
// lists: the same for the same name, so that the answer does not tell an
// account without passkeys from one that does not exist. Every instance
// sharing the JWT secret lists the same one; rotating the secret changes
// every decoy at once.
func (p *Passkeys) decoyCredentialID(username string) []byte {
	mac := hmac.New(sha256.New, p.decoyKey)
	mac.Write([]byte(strings.ToLower(username)))
	return mac.Sum(nil)[:16]
}

// cleanName checks a passkey's name; "" becomes "Passkey".
func cleanName(name string) (string, error) {
	name = strings.TrimSpace(name)
	if name == "" {
		return "Passkey", nil
	}
	if !utf8.ValidString(name) || utf8.RuneCountInString(name) > MaxName {
		return "", ErrInvalidName
	}
	for _, r := range name {
		if unicode.IsControl(r) || unicode.Is(unicode.Cf, r) {
			return "", ErrInvalidName
		}
	}
	return name, nil
}

// audit appends one passkey event through st.
func (p *Passkeys) audit(ctx context.Context, st usermgmt.Store, actorUUID, subjectUUID, action, detail string) error {
	return p.m.AppendAudit(ctx, st, usermgmt.AuditEntry{ActorUUID: actorUUID, SubjectUUID: subjectUUID, Action: action, Detail: detail})
}
