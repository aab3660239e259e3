package passkey

import (
	"context"
	"errors"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/passkey/credstore"
)

// Passkey is a stored passkey as its owner and admins see it.
type Passkey struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	CreatedAt  time.Time  `json:"created_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	Transports []string   `json:"transports"`
	// BackedUp is true when the credential is synced (the BS flag of its
	// latest ceremony).
	BackedUp bool `json:"backed_up"`
}

func newPasskey(k *credstore.Passkey) *Passkey {
	tr := k.Transports
	if tr == nil {
		tr = []string{}
	}
	return &Passkey{ID: k.ID, Name: k.Name, CreatedAt: k.CreatedAt, LastUsedAt: k.LastUsedAt, Transports: tr, BackedUp: k.BackedUp}
}

// authorize lets actor act on the passkeys of owner: their own always,
// another's by the policy's "passkey" resource (action "read", "update"
// or "delete"; admins may read and delete by default).
func (p *Passkeys) authorize(ctx context.Context, actor *usermgmt.User, action string, owner *usermgmt.User) error {
	if actor == nil {
		return usermgmt.ErrForbidden
	}
	if actor.UUID == owner.UUID {
		return nil
	}
	return p.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "passkey", Action: action, Target: owner})
}

// owner returns the user ownerUUID, as the actor may see it.
func (p *Passkeys) owner(ctx context.Context, actor *usermgmt.User, ownerUUID string) (*usermgmt.User, error) {
	if actor != nil && actor.UUID == ownerUUID {
		return actor, nil
	}
	u, err := p.m.User(ctx, ownerUUID)
	if errors.Is(err, usermgmt.ErrNotFound) || errors.Is(err, usermgmt.ErrUserNotFound) {
		// Not found and not allowed answer alike for a caller who may
		// not read others' passkeys.
		if aerr := p.m.Authorize(ctx, usermgmt.AccessRequest{Actor: actor, Resource: "passkey", Action: "read"}); aerr != nil {
			return nil, aerr
		}
	}
	return u, err
}

// List returns the passkeys of ownerUUID, oldest first, as actor.
func (p *Passkeys) List(ctx context.Context, actor *usermgmt.User, ownerUUID string) ([]*Passkey, error) {
	owner, err := p.owner(ctx, actor, ownerUUID)
	if err != nil {
		return nil, err
	}
	if err := p.authorize(ctx, actor, "read", owner); err != nil {
		return nil, err
	}
	st, err := p.store(p.m.Store())
	if err != nil {
		return nil, err
	}
	keys, err := st.PasskeysByUser(ctx, owner.UUID)
	if err != nil {
		return nil, err
	}
	out := make([]*Passkey, len(keys))
	for i, k := range keys {
		out[i] = newPasskey(k)
	}
	return out, nil
}

// Rename renames the passkey id of ownerUUID, as actor.
func (p *Passkeys) Rename(ctx context.Context, actor *usermgmt.User, ownerUUID, id, name string) (*Passkey, error) {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	name, err := cleanName(name)
	if err != nil {
		return nil, err
	}
	owner, err := p.owner(ctx, actor, ownerUUID)
	if err != nil {
		return nil, err
	}
	if err := p.authorize(ctx, actor, "update", owner); err != nil {
		return nil, err
	}
	var renamed *credstore.Passkey
	err = p.m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ts, err := p.store(tx)
		if err != nil {
			return err
		}
		if err := ts.RenamePasskey(ctx, owner.UUID, id, name); err != nil {
			if errors.Is(err, usermgmt.ErrNotFound) {
				return ErrNotFound
			}
			return err
		}
		if renamed, err = find(ctx, ts, owner.UUID, id); err != nil {
			return err
		}
		return p.audit(ctx, tx, actor.UUID, owner.UUID, AuditRenamed, "id="+id)
	})
	if err != nil {
		return nil, err
	}
	return newPasskey(renamed), nil
}

// find returns the user's passkey id, or ErrNotFound.
func find(ctx context.Context, st credstore.Store, userUUID, id string) (*credstore.Passkey, error) {
	keys, err := st.PasskeysByUser(ctx, userUUID)
	if err != nil {
		return nil, err
	}
	for _, k := range keys {
		if k.ID == id {
			return k, nil
		}
	}
	return nil, ErrNotFound
}

// Remove removes the passkey id of ownerUUID, as actor. The last passkey
// of an account without a password and without a provider stays
// (ErrLastWayIn).
func (p *Passkeys) Remove(ctx context.Context, actor *usermgmt.User, ownerUUID, id string) error {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return err
	}
	owner, err := p.owner(ctx, actor, ownerUUID)
	if err != nil {
		return err
	}
	if err := p.authorize(ctx, actor, "delete", owner); err != nil {
		return err
	}
	return p.m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ts, err := p.store(tx)
		if err != nil {
			return err
		}
		// The user's row, locked: two removals of an account's last two
		// passkeys run one after the other, and the second sees one left.
		locked, err := tx.LockUser(ctx, owner.UUID)
		if err != nil {
			return err
		}
		keys, err := ts.PasskeysByUser(ctx, owner.UUID)
		if err != nil {
			return err
		}
		found := false
		for _, k := range keys {
			found = found || k.ID == id
		}
		if !found {
			return ErrNotFound
		}
		if len(keys) == 1 {
			other, err := p.otherWayIn(ctx, tx, locked)
			if err != nil {
				return err
			}
			if !other {
				return ErrLastWayIn
			}
		}
		if err := ts.DeletePasskey(ctx, owner.UUID, id); err != nil {
			if errors.Is(err, usermgmt.ErrNotFound) {
				return ErrNotFound
			}
			return err
		}
		return p.audit(ctx, tx, actor.UUID, owner.UUID, AuditRemoved, "id="+id)
	})
}

// otherWayIn reports whether the user can sign in without a passkey: a
// password, a linked provider, or a way in of another feature
// (usermgmt.WayIn).
func (p *Passkeys) otherWayIn(ctx context.Context, tx usermgmt.Store, u *usermgmt.User) (bool, error) {
	n, err := p.m.WaysIn(ctx, tx, u, p)
	return n > 0, err
}

// WaysIn implements usermgmt.WayIn: each of the user's passkeys is a way
// into the account, which the core counts before it unlinks a provider.
func (p *Passkeys) WaysIn(ctx context.Context, st usermgmt.Store, userUUID string) (int, error) {
	ts, err := p.store(st)
	if err != nil {
		return 0, err
	}
	keys, err := ts.PasskeysByUser(ctx, userUUID)
	if err != nil {
		return 0, err
	}
	return len(keys), nil
}
