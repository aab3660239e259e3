package passkey

import (
	"context"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// The hosted pages' use of passkeys (httpadapter.PagePasskeys): the login
// page's passkey sign-in and the account page's list, add, rename and
// remove, each the method of the same purpose on the user's own passkeys.

var _ httpadapter.PagePasskeys = (*Passkeys)(nil)

// PageSignIn is FinishLogin.
func (p *Passkeys) PageSignIn(ctx context.Context, ceremony string, credential []byte) (*usermgmt.Tokens, error) {
	return p.FinishLogin(ctx, ceremony, credential)
}

// PageRegister is FinishRegistration.
func (p *Passkeys) PageRegister(ctx context.Context, u *usermgmt.User, ceremony, name string, credential []byte) error {
	_, err := p.FinishRegistration(ctx, u, ceremony, name, credential)
	return err
}

// PagePasskeys is List of u's own passkeys.
func (p *Passkeys) PagePasskeys(ctx context.Context, u *usermgmt.User) ([]httpadapter.PagePasskey, error) {
	ks, err := p.List(ctx, u, u.UUID)
	if err != nil {
		return nil, err
	}
	out := make([]httpadapter.PagePasskey, len(ks))
	for i, k := range ks {
		out[i] = httpadapter.PagePasskey{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, BackedUp: k.BackedUp}
	}
	return out, nil
}

// PageRename is Rename of one of u's own passkeys.
func (p *Passkeys) PageRename(ctx context.Context, u *usermgmt.User, id, name string) error {
	_, err := p.Rename(ctx, u, u.UUID, id, name)
	return err
}

// PageRemove is Remove of one of u's own passkeys.
func (p *Passkeys) PageRemove(ctx context.Context, u *usermgmt.User, id string) error {
	return p.Remove(ctx, u, u.UUID, id)
}
