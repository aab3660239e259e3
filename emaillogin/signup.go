package emaillogin

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// maxUsernameTries bounds the suffixes tried when a username is taken.
const maxUsernameTries = 8

// signUp creates the account of a sign-up link's address: its username
// made of the address's local part, the address verified, and a random
// password nobody knows (its owner signs in by link, or sets one with
// the forgot-password mail). An account made for the address meanwhile
// is signed in to instead (created false): the link proved the mailbox
// all the same.
func (f *EmailLogin) signUp(ctx context.Context, addr string) (*usermgmt.User, bool, error) {
	secret, err := f.random(32)
	if err != nil {
		return nil, false, err
	}
	hash, err := f.m.Hasher().Hash(ctx, base64.RawURLEncoding.EncodeToString(secret))
	if err != nil {
		return nil, false, err
	}
	base := usernameOf(addr)
	// A sign-up is a registration: Config.Hooks.BeforeRegister decides,
	// before anything is written.
	if err := f.m.CheckRegistration(ctx, usermgmt.NewUser{Username: base, Email: addr, EmailVerified: true, PasswordHash: hash}); err != nil {
		return nil, false, err
	}
	for try := range maxUsernameTries {
		name := base
		if try > 0 {
			n, err := f.random(3)
			if err != nil {
				return nil, false, err
			}
			suffix := fmt.Sprintf("_%d", (int(n[0])<<16|int(n[1])<<8|int(n[2]))%1_000_000)
			name = base[:min(len(base), usermgmt.MaxUsernameLength-len(suffix))] + suffix
		}
		u, err := f.m.CreateUser(ctx, usermgmt.NewUser{Username: name, Email: addr, EmailVerified: true, PasswordHash: hash})
		switch {
		case err == nil:
			if err := f.m.AppendAudit(ctx, f.m.Store(), usermgmt.AuditEntry{ActorUUID: u.UUID, SubjectUUID: u.UUID, Action: AuditSignUp}); err != nil {
				return nil, false, err
			}
			return u, true, nil
		case errors.Is(err, usermgmt.ErrEmailTaken):
			u, err := f.m.UserByLogin(ctx, addr)
			if err != nil {
				return nil, false, err
			}
			return u, false, nil
		case !errors.Is(err, usermgmt.ErrUsernameTaken):
			return nil, false, err
		}
	}
	return nil, false, usermgmt.ErrUsernameTaken.WithMessage("No free username could be made from the address.")
}

// usernameOf makes a valid username of an address's local part:
// lower-case letters and digits, every other run an underscore, 5 to 32
// characters (a short one padded with "_user").
func usernameOf(addr string) string {
	local, _, _ := strings.Cut(addr, "@")
	var b strings.Builder
	under := false
	for _, c := range strings.ToLower(local) {
		switch {
		case c >= 'a' && c <= 'z' || c >= '0' && c <= '9':
			b.WriteRune(c)
			under = false
		case !under && b.Len() > 0:
			b.WriteByte('_')
			under = true
		}
	}
	s := strings.TrimRight(b.String(), "_")
	if s == "" {
		s = "user"
	}
	if len(s) < usermgmt.MinUsernameLength {
		s += "_user"
	}
	return strings.TrimRight(s[:min(len(s), usermgmt.MaxUsernameLength)], "_")
}
