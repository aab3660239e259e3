package passkey

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/go-webauthn/webauthn/protocol"
	"github.com/go-webauthn/webauthn/webauthn"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/passkey/credstore"
)

// Begin is the answer of a ceremony begun: the options for the browser's
// navigator.credentials.create or .get (PublicKeyCredentialCreationOptions
// or PublicKeyCredentialRequestOptions, in their JSON form), and the
// ceremony's ID to send back with the credential.
type Begin struct {
	PublicKey any    `json:"publicKey"`
	Ceremony  string `json:"ceremony"`
}

// authenticatorSelection is what a registration asks: a resident key
// (a passkey) and user verification, both preferred.
func authenticatorSelection() protocol.AuthenticatorSelection {
	return protocol.AuthenticatorSelection{
		ResidentKey:      protocol.ResidentKeyRequirementPreferred,
		UserVerification: protocol.VerificationPreferred,
	}
}

// waUser is a user as the WebAuthn library sees it. The user handle is
// the user's UUID: opaque, stable, and no personal data.
type waUser struct {
	u     *usermgmt.User
	creds []webauthn.Credential
}

func (w *waUser) WebAuthnID() []byte   { return []byte(w.u.UUID) }
func (w *waUser) WebAuthnName() string { return w.u.Username }
func (w *waUser) WebAuthnDisplayName() string {
	if w.u.DisplayName != "" {
		return w.u.DisplayName
	}
	return w.u.Username
}
func (w *waUser) WebAuthnCredentials() []webauthn.Credential { return w.creds }

// credential is a stored passkey as the WebAuthn library reads it.
func credential(k *credstore.Passkey) webauthn.Credential {
	tr := make([]protocol.AuthenticatorTransport, len(k.Transports))
	for i, t := range k.Transports {
		tr[i] = protocol.AuthenticatorTransport(t)
	}
	var flags protocol.AuthenticatorFlags = protocol.FlagUserPresent
	if k.UserVerified {
		flags |= protocol.FlagUserVerified
	}
	if k.BackupEligible {
		flags |= protocol.FlagBackupEligible
	}
	if k.BackedUp {
		flags |= protocol.FlagBackupState
	}
	return webauthn.Credential{
		ID: k.CredentialID, PublicKey: k.PublicKey, AttestationFormat: k.AttestationFormat, Transport: tr,
		Flags:         webauthn.NewCredentialFlags(flags),
		Authenticator: webauthn.Authenticator{AAGUID: k.AAGUID, SignCount: k.SignCount},
	}
}

// loadUser returns u with its stored passkeys.
func (p *Passkeys) loadUser(ctx context.Context, st credstore.Store, u *usermgmt.User) (*waUser, []*credstore.Passkey, error) {
	keys, err := st.PasskeysByUser(ctx, u.UUID)
	if err != nil {
		return nil, nil, err
	}
	w := &waUser{u: u, creds: make([]webauthn.Credential, len(keys))}
	for i, k := range keys {
		w.creds[i] = credential(k)
	}
	return w, keys, nil
}

// saveCeremony stores a begun ceremony and returns its ID.
func (p *Passkeys) saveCeremony(ctx context.Context, kind, userUUID string, s *webauthn.SessionData) (string, error) {
	st, err := p.store(p.m.Store())
	if err != nil {
		return "", err
	}
	id, err := p.randomID(32)
	if err != nil {
		return "", err
	}
	// The library's own expiry reads the wall clock; the store's, the
	// Manager's clock.
	s.Expires = time.Time{}
	data, err := json.Marshal(s)
	if err != nil {
		return "", usermgmt.ErrInternal.Wrap(fmt.Errorf("passkey: encode session: %w", err))
	}
	now := p.now()
	h := sha256.Sum256([]byte(id))
	if err := st.InsertCeremony(ctx, &credstore.Ceremony{IDHash: h[:], Kind: kind, UserUUID: userUUID, Session: data,
		CreatedAt: now, ExpiresAt: now.Add(p.cfg.CeremonyTTL)}); err != nil {
		return "", err
	}
	return id, nil
}

// takeCeremony removes and returns the ceremony id of kind, with its
// session; anything else is ErrCeremony.
func (p *Passkeys) takeCeremony(ctx context.Context, st credstore.Store, id, kind string) (*credstore.Ceremony, *webauthn.SessionData, error) {
	if id == "" || len(id) > 128 {
		return nil, nil, ErrCeremony
	}
	h := sha256.Sum256([]byte(id))
	c, err := st.TakeCeremony(ctx, h[:], p.now())
	if errors.Is(err, usermgmt.ErrNotFound) {
		return nil, nil, ErrCeremony
	}
	if err != nil {
		return nil, nil, err
	}
	if c.Kind != kind {
		return nil, nil, ErrCeremony
	}
	s := new(webauthn.SessionData)
	if err := json.Unmarshal(c.Session, s); err != nil {
		return nil, nil, usermgmt.ErrInternal.Wrap(fmt.Errorf("passkey: decode session: %w", err))
	}
	return c, s, nil
}

// BeginRegistration begins the registration of a passkey for u (a
// signed-in user). The passkeys u has are excluded. An impersonated caller
// is refused (usermgmt.ErrImpersonated), as in FinishRegistration, Rename
// and Remove.
func (p *Passkeys) BeginRegistration(ctx context.Context, u *usermgmt.User) (*Begin, error) {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	st, err := p.store(p.m.Store())
	if err != nil {
		return nil, err
	}
	w, keys, err := p.loadUser(ctx, st, u)
	if err != nil {
		return nil, err
	}
	if len(keys) >= MaxPasskeys {
		return nil, ErrTooMany
	}
	exclude := make([]protocol.CredentialDescriptor, len(w.creds))
	for i, c := range w.creds {
		exclude[i] = c.Descriptor()
	}
	creation, session, err := p.wa.BeginRegistration(w, webauthn.WithExclusions(exclude),
		webauthn.WithAuthenticatorSelection(authenticatorSelection()),
		webauthn.WithConveyancePreference(protocol.PreferNoAttestation))
	if err != nil {
		return nil, usermgmt.ErrInternal.Wrap(fmt.Errorf("passkey: begin registration: %w", err))
	}
	id, err := p.saveCeremony(ctx, credstore.KindRegister, u.UUID, session)
	if err != nil {
		return nil, err
	}
	return &Begin{PublicKey: creation.Response, Ceremony: id}, nil
}

// FinishRegistration verifies the credential (the JSON of the browser's
// PublicKeyCredential) against the ceremony u began, and stores it as a
// passkey named name ("" for "Passkey").
func (p *Passkeys) FinishRegistration(ctx context.Context, u *usermgmt.User, ceremony, name string, credentialJSON []byte) (*Passkey, error) {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	parsed, err := ParseCreation(credentialJSON)
	if err != nil {
		return nil, err
	}
	st, err := p.store(p.m.Store())
	if err != nil {
		return nil, err
	}
	c, session, err := p.takeCeremony(ctx, st, ceremony, credstore.KindRegister)
	if err != nil {
		return nil, err
	}
	if c.UserUUID != u.UUID {
		return nil, ErrCeremony
	}
	w, keys, err := p.loadUser(ctx, st, u)
	if err != nil {
		return nil, err
	}
	if len(keys) >= MaxPasskeys {
		return nil, ErrTooMany
	}
	cred, err := p.wa.CreateCredential(w, *session, parsed)
	if err != nil {
		return nil, ErrRejected.Wrap(err)
	}
	id, err := p.randomID(16)
	if err != nil {
		return nil, err
	}
	k := &credstore.Passkey{
		ID: id, UserUUID: u.UUID, CredentialID: cred.ID, Name: name, PublicKey: cred.PublicKey,
		SignCount: cred.Authenticator.SignCount, AAGUID: cred.Authenticator.AAGUID, Transports: transports(cred.Transport),
		AttestationFormat: cred.AttestationFormat, UserVerified: cred.Flags.UserVerified,
		BackupEligible: cred.Flags.BackupEligible, BackedUp: cred.Flags.BackupState, CreatedAt: p.now(),
	}
	err = p.m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ts, err := p.store(tx)
		if err != nil {
			return err
		}
		if err := ts.InsertPasskey(ctx, k); err != nil {
			if errors.Is(err, usermgmt.ErrConflict) {
				return ErrAlreadyRegistered
			}
			return err
		}
		return p.audit(ctx, tx, u.UUID, u.UUID, AuditRegistered, "id="+k.ID)
	})
	if err != nil {
		return nil, err
	}
	return newPasskey(k), nil
}

func transports(ts []protocol.AuthenticatorTransport) []string {
	out := make([]string, 0, len(ts))
	for _, t := range ts {
		if s := string(t); s != "" && len(s) <= 32 && len(out) < 8 {
			out = append(out, s)
		}
	}
	return out
}

// BeginLogin begins a sign-in. Without a username it asks for a
// discoverable credential (the browser offers the passkeys it holds for
// the site); with one, the account's passkeys are listed. An unknown
// username, or an account without passkeys, gets the same answer with a
// decoy credential, so that the answer tells nothing of the account.
func (p *Passkeys) BeginLogin(ctx context.Context, username string) (*Begin, error) {
	if username == "" {
		assertion, session, err := p.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred))
		if err != nil {
			return nil, usermgmt.ErrInternal.Wrap(fmt.Errorf("passkey: begin login: %w", err))
		}
		id, err := p.saveCeremony(ctx, credstore.KindLogin, "", session)
		if err != nil {
			return nil, err
		}
		return &Begin{PublicKey: assertion.Response, Ceremony: id}, nil
	}
	st, err := p.store(p.m.Store())
	if err != nil {
		return nil, err
	}
	var w *waUser
	u, err := p.m.UserByLogin(ctx, username)
	switch {
	case err == nil:
		if w, _, err = p.loadUser(ctx, st, u); err != nil {
			return nil, err
		}
	case !errors.Is(err, usermgmt.ErrNotFound) && !errors.Is(err, usermgmt.ErrUserNotFound):
		return nil, err
	}
	if w == nil || len(w.creds) == 0 {
		// A discoverable-shaped ceremony that lists a decoy: its finish
		// can only fail.
		decoy := protocol.CredentialDescriptor{Type: protocol.PublicKeyCredentialType, CredentialID: p.decoyCredentialID(username)}
		assertion, session, err := p.wa.BeginDiscoverableLogin(webauthn.WithUserVerification(protocol.VerificationPreferred),
			webauthn.WithAllowedCredentials([]protocol.CredentialDescriptor{decoy}))
		if err != nil {
			return nil, usermgmt.ErrInternal.Wrap(fmt.Errorf("passkey: begin login: %w", err))
		}
		session.AllowedCredentialIDs = [][]byte{decoy.CredentialID}
		id, err := p.saveCeremony(ctx, credstore.KindLogin, "", session)
		if err != nil {
			return nil, err
		}
		return &Begin{PublicKey: assertion.Response, Ceremony: id}, nil
	}
	assertion, session, err := p.wa.BeginLogin(w, webauthn.WithUserVerification(protocol.VerificationPreferred))
	if err != nil {
		return nil, usermgmt.ErrInternal.Wrap(fmt.Errorf("passkey: begin login: %w", err))
	}
	id, err := p.saveCeremony(ctx, credstore.KindLogin, w.u.UUID, session)
	if err != nil {
		return nil, err
	}
	return &Begin{PublicKey: assertion.Response, Ceremony: id}, nil
}

// FinishLogin verifies the assertion (the JSON of the browser's
// PublicKeyCredential) against the ceremony, records the passkey's use
// and signs the user in: the tokens, or, for an assertion without user
// verification on an account with a second factor, the
// *usermgmt.OTPChallengeError of a password login.
func (p *Passkeys) FinishLogin(ctx context.Context, ceremony string, credentialJSON []byte) (*usermgmt.Tokens, error) {
	u, res, err := p.VerifyLogin(ctx, ceremony, credentialJSON)
	if err != nil {
		return nil, err
	}
	return p.m.SignIn(ctx, u, "passkey", res.UserVerified)
}

// LoginResult is what a verified assertion proved.
type LoginResult struct {
	// Passkey is the passkey used, as recorded.
	Passkey *Passkey
	// UserVerified is the assertion's UV flag: true when the
	// authenticator verified the user (PIN, biometrics).
	UserVerified bool
}

// VerifyLogin is FinishLogin without the sign-in: it verifies the
// assertion and records the passkey's use, and returns the user, for a
// host that signs in by other means (the hosted pages).
func (p *Passkeys) VerifyLogin(ctx context.Context, ceremony string, credentialJSON []byte) (*usermgmt.User, *LoginResult, error) {
	parsed, err := ParseAssertion(credentialJSON)
	if err != nil {
		return nil, nil, err
	}
	st, err := p.store(p.m.Store())
	if err != nil {
		return nil, nil, err
	}
	c, session, err := p.takeCeremony(ctx, st, ceremony, credstore.KindLogin)
	if err != nil {
		return nil, nil, err
	}
	var (
		user *waUser
		keys []*credstore.Passkey
		cred *webauthn.Credential
	)
	switch {
	case c.UserUUID != "":
		u, err := p.m.User(ctx, c.UserUUID)
		if errors.Is(err, usermgmt.ErrNotFound) || errors.Is(err, usermgmt.ErrUserNotFound) {
			return nil, nil, ErrUnknownCredential
		}
		if err != nil {
			return nil, nil, err
		}
		if user, keys, err = p.loadUser(ctx, st, u); err != nil {
			return nil, nil, err
		}
		if cred, err = p.wa.ValidateLogin(user, *session, parsed); err != nil {
			return nil, nil, p.rejected(err)
		}
	case len(session.AllowedCredentialIDs) > 0: // the decoy of an unknown username
		return nil, nil, ErrUnknownCredential
	default:
		var lookupErr error
		handler := func(rawID, userHandle []byte) (webauthn.User, error) {
			k, err := st.PasskeyByCredentialID(ctx, rawID)
			if err != nil {
				lookupErr = err
				return nil, err
			}
			if !bytes.Equal([]byte(k.UserUUID), userHandle) {
				lookupErr = ErrUnknownCredential
				return nil, lookupErr
			}
			u, err := p.m.User(ctx, k.UserUUID)
			if err != nil {
				lookupErr = err
				return nil, err
			}
			user, keys, err = p.loadUser(ctx, st, u)
			if err != nil {
				lookupErr = err
				return nil, err
			}
			return user, nil
		}
		_, cred, err = p.wa.ValidatePasskeyLogin(handler, *session, parsed)
		if err != nil {
			if lookupErr != nil {
				if errors.Is(lookupErr, usermgmt.ErrNotFound) || errors.Is(lookupErr, usermgmt.ErrUserNotFound) || errors.Is(lookupErr, ErrUnknownCredential) {
					return nil, nil, ErrUnknownCredential
				}
				return nil, nil, lookupErr
			}
			return nil, nil, p.rejected(err)
		}
	}
	var k *credstore.Passkey
	for _, have := range keys {
		if bytes.Equal(have.CredentialID, cred.ID) {
			k = have
		}
	}
	if k == nil {
		return nil, nil, ErrUnknownCredential
	}
	u := user.u
	flags := parsed.Response.AuthenticatorData.Flags
	if cred.Authenticator.CloneWarning {
		return nil, nil, p.counterRegressed(ctx, u, k, parsed.Response.AuthenticatorData.Counter)
	}
	use := credstore.PasskeyUse{ID: k.ID, SignCount: cred.Authenticator.SignCount, BackedUp: flags.HasBackupState(),
		UserVerified: flags.HasUserVerified(), UsedAt: p.now()}
	recorded, err := st.RecordPasskeyUse(ctx, use)
	if errors.Is(err, usermgmt.ErrNotFound) {
		return nil, nil, ErrUnknownCredential
	}
	if err != nil {
		return nil, nil, err
	}
	if !recorded { // a parallel assertion with the same counter won
		return nil, nil, p.counterRegressed(ctx, u, k, use.SignCount)
	}
	k.SignCount, k.BackedUp, k.UserVerified = use.SignCount, use.BackedUp, k.UserVerified || use.UserVerified
	k.LastUsedAt = &use.UsedAt
	return u, &LoginResult{Passkey: newPasskey(k), UserVerified: flags.HasUserVerified()}, nil
}

// counterRegressed audits a refused assertion and returns its error.
func (p *Passkeys) counterRegressed(ctx context.Context, u *usermgmt.User, k *credstore.Passkey, got uint32) error {
	detail := fmt.Sprintf("id=%s stored=%d got=%d", k.ID, k.SignCount, got)
	if err := p.audit(ctx, p.m.Store(), "", u.UUID, AuditCounterRegressed, detail); err != nil {
		return err
	}
	return ErrCounterRegressed
}

// rejected maps a verification failure of the WebAuthn library.
func (p *Passkeys) rejected(err error) error {
	if _, ok := errors.AsType[*protocol.ErrorUnknownCredential](err); ok {
		return ErrUnknownCredential.Wrap(err)
	}
	return ErrRejected.Wrap(err)
}
