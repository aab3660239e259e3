package org

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"io"
	"io/fs"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"text/template"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/org/orgstore"
)

// Invitations: an owner or admin invites an address with a role; the
// mail carries a single-use link whose token the store keeps only as its
// SHA-256; it works for InvitationTTL, until accepted, declined or
// revoked. Accepting adds the signed-in user whose verified address is
// the invited one.

// Invitation defaults and limits.
const (
	// InvitationTTL is how long an invitation works.
	InvitationTTL = 7 * 24 * time.Hour
	// TokenBytes is the number of random bytes of a token.
	TokenBytes = 32
	// MaxPendingInvitations bounds the pending invitations of one
	// organization.
	MaxPendingInvitations = 100
	// AuditInvited, AuditInvitationRevoked and AuditInvitationDeclined
	// record the invitations' life (accepting is AuditMemberAdded).
	AuditInvited            = "org-invited"
	AuditInvitationRevoked  = "org-invitation-revoked"
	AuditInvitationDeclined = "org-invitation-declined"
)

// Errors of the invitations.
var (
	// ErrInvitationInvalid is a token that is malformed, unknown, used,
	// revoked or expired: one answer for all.
	ErrInvitationInvalid = usermgmt.NewError(http.StatusNotFound, "org_invitation_invalid", "This invitation is invalid, used, revoked or expired.")
	// ErrInvitationEmail is an invitation accepted or declined by an
	// account whose verified address is not the invited one.
	ErrInvitationEmail = usermgmt.NewError(http.StatusForbidden, "org_invitation_email_mismatch", "This invitation is for another address, or this account's address is not verified.")
	// ErrInvitationEmailInvalid is an invited address that is not one.
	ErrInvitationEmailInvalid = usermgmt.NewError(http.StatusUnprocessableEntity, "org_invitation_email_invalid", "email: not a valid address.")
	// ErrInvitationNotFound is an invitation the organization does not
	// have (revoking).
	ErrInvitationNotFound = usermgmt.NewError(http.StatusNotFound, "org_invitation_not_found", "Invitation not found.")
	// ErrTooManyInvitations is an invitation beyond MaxPendingInvitations.
	ErrTooManyInvitations = usermgmt.NewError(http.StatusConflict, "org_invitation_limit_reached", "This organization has the most pending invitations allowed.")
)

// Invitation is a pending invitation as the API shows it (never its
// token).
type Invitation struct {
	ID        string    `json:"id"`
	Email     string    `json:"email"`
	Role      string    `json:"role"`
	InvitedBy string    `json:"invited_by"`
	CreatedAt time.Time `json:"created_at"`
	ExpiresAt time.Time `json:"expires_at"`
}

func invitationView(i *orgstore.Invitation) *Invitation {
	return &Invitation{ID: i.ID, Email: i.Email, Role: i.Role, InvitedBy: i.InvitedBy, CreatedAt: i.CreatedAt, ExpiresAt: i.ExpiresAt}
}

//go:embed templates
var builtinTemplates embed.FS

func (o *Orgs) random(n int) ([]byte, error) {
	b := make([]byte, n)
	if _, err := io.ReadFull(o.m.Config().Rand, b); err != nil {
		return nil, usermgmt.ErrInternal.Wrap(fmt.Errorf("org: random: %w", err))
	}
	return b, nil
}

// acceptLink is the link an invitation mails: Config.AcceptURL (default
// the Manager's FrontendURL + "/invitations/accept") with ?token=.
func (o *Orgs) acceptLink(token string) string {
	base := o.cfg.AcceptURL
	if base == "" {
		base = strings.TrimRight(o.m.Config().FrontendURL, "/") + "/invitations/accept"
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	return base + sep + "token=" + url.QueryEscape(token)
}

// Invite invites email to an organization with role: its owners (any
// role) and admins (any role but owner). The mail is queued once the
// invitation is stored. An address that is a member's already, or has a
// pending invitation, may be invited again: each invitation works alone.
func (o *Orgs) Invite(ctx context.Context, actor *usermgmt.User, id, email, role string) (*Invitation, error) {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	addr, err := usermgmt.NormalizeEmail(email)
	if err != nil {
		return nil, ErrInvitationEmailInvalid
	}
	if !slices.Contains(o.roles, role) {
		return nil, ErrInvalidRole.WithParam("roles", o.Roles())
	}
	secret, err := o.random(TokenBytes)
	if err != nil {
		return nil, err
	}
	idb, err := o.random(12)
	if err != nil {
		return nil, err
	}
	token := base64.RawURLEncoding.EncodeToString(secret)
	h := sha256.Sum256([]byte(token))
	now := o.now()
	inv := &orgstore.Invitation{ID: base64.RawURLEncoding.EncodeToString(idb), Email: addr, Role: role, Hash: h[:],
		InvitedBy: actor.UUID, CreatedAt: now, ExpiresAt: now.Add(InvitationTTL)}
	err = o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		org, am, err := o.access(ctx, st, actor, id, true)
		if err != nil {
			return err
		}
		switch r := roleOf(am); {
		case r == RoleOwner, r == RoleAdmin && role != RoleOwner:
		default:
			return usermgmt.ErrForbidden
		}
		pending, err := st.InvitationsByOrg(ctx, org.ID)
		if err != nil {
			return err
		}
		if len(pending) >= MaxPendingInvitations {
			return ErrTooManyInvitations
		}
		inv.OrgID = org.ID
		if err := st.InsertInvitation(ctx, inv); err != nil {
			return err
		}
		return o.audit(ctx, tx, actor.UUID, "", AuditInvited, org.ID, inv.ID+" "+role)
	})
	if err != nil {
		return nil, err
	}
	if err := o.sendInvitation(ctx, addr, token); err != nil {
		// The invitation stands (its owner may revoke it and invite
		// again); the mail's failure is logged, not answered.
		o.m.Config().Logger.ErrorContext(ctx, "org: invitation mail", "org", inv.OrgID, "invitation", inv.ID, "err", err)
	}
	return invitationView(inv), nil
}

// Invitations lists an organization's pending invitations, oldest first:
// its owners and admins, or a global admin.
func (o *Orgs) Invitations(ctx context.Context, actor *usermgmt.User, id string) ([]*Invitation, error) {
	st, err := o.store(o.m.Store())
	if err != nil {
		return nil, err
	}
	org, am, err := o.access(ctx, st, actor, id, false)
	if err != nil {
		return nil, err
	}
	if rank(roleOf(am)) < rank(RoleAdmin) && !o.globally(ctx, actor, "read") {
		return nil, usermgmt.ErrForbidden
	}
	is, err := st.InvitationsByOrg(ctx, org.ID)
	if err != nil {
		return nil, err
	}
	out := make([]*Invitation, 0, len(is))
	now := o.now()
	for _, i := range is {
		if i.ExpiresAt.After(now) {
			out = append(out, invitationView(i))
		}
	}
	return out, nil
}

// RevokeInvitation removes a pending invitation: the organization's
// owners and admins, or a global admin.
func (o *Orgs) RevokeInvitation(ctx context.Context, actor *usermgmt.User, id, invID string) error {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return err
	}
	return o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		org, am, err := o.access(ctx, st, actor, id, true)
		if err != nil {
			return err
		}
		if rank(roleOf(am)) < rank(RoleAdmin) && !o.globally(ctx, actor, "update") {
			return usermgmt.ErrForbidden
		}
		if len(invID) > 64 {
			return ErrInvitationNotFound
		}
		if err := st.DeleteInvitation(ctx, org.ID, invID); err != nil {
			return notFound(err, ErrInvitationNotFound)
		}
		return o.audit(ctx, tx, actor.UUID, "", AuditInvitationRevoked, org.ID, invID)
	})
}

// invitation finds the pending invitation of token for actor: unknown or
// expired is ErrInvitationInvalid; another or unverified address
// ErrInvitationEmail.
func (o *Orgs) invitation(ctx context.Context, st orgstore.Store, actor *usermgmt.User, token string) (*orgstore.Invitation, error) {
	if len(token) != base64.RawURLEncoding.EncodedLen(TokenBytes) {
		return nil, ErrInvitationInvalid
	}
	h := sha256.Sum256([]byte(token))
	inv, err := st.InvitationByHash(ctx, h[:])
	if err != nil {
		return nil, notFound(err, ErrInvitationInvalid)
	}
	if !inv.ExpiresAt.After(o.now()) {
		return nil, ErrInvitationInvalid
	}
	if !actor.EmailVerified || !strings.EqualFold(actor.Email, inv.Email) {
		return nil, ErrInvitationEmail
	}
	return inv, nil
}

// Accept adds actor to the organization of the invitation token, with
// its role, when actor's verified address is the invited one. The
// invitation is spent in the same transaction: of two accepts at once,
// one joins and the other gets ErrInvitationInvalid.
func (o *Orgs) Accept(ctx context.Context, actor *usermgmt.User, token string) (*Organization, error) {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return nil, err
	}
	var out *Organization
	err := o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		u, err := tx.LockUser(ctx, actor.UUID)
		if err != nil {
			return notFound(err, usermgmt.ErrUserNotFound)
		}
		inv, err := o.invitation(ctx, st, u, token)
		if err != nil {
			return err
		}
		org, err := st.LockOrganization(ctx, inv.OrgID)
		if err != nil {
			return notFound(err, ErrInvitationInvalid)
		}
		if err := st.DeleteInvitation(ctx, inv.OrgID, inv.ID); err != nil {
			return notFound(err, ErrInvitationInvalid)
		}
		if err := o.join(ctx, tx, st, org.ID, u.UUID, inv.Role, u.UUID); err != nil {
			return err
		}
		out = view(org, inv.Role)
		return nil
	})
	return out, err
}

// Decline spends the invitation token without joining, when actor's
// verified address is the invited one.
func (o *Orgs) Decline(ctx context.Context, actor *usermgmt.User, token string) error {
	if err := usermgmt.RefuseImpersonated(ctx); err != nil {
		return err
	}
	return o.inTx(ctx, func(ctx context.Context, tx usermgmt.Store, st orgstore.Store) error {
		inv, err := o.invitation(ctx, st, actor, token)
		if err != nil {
			return err
		}
		if err := st.DeleteInvitation(ctx, inv.OrgID, inv.ID); err != nil {
			return notFound(err, ErrInvitationInvalid)
		}
		return o.audit(ctx, tx, actor.UUID, actor.UUID, AuditInvitationDeclined, inv.OrgID, inv.ID)
	})
}

// template returns a mail template file: the host's first
// (usermgmt.WithTemplates), else the built-in English one.
func (o *Orgs) template(ctx context.Context, file string) (string, bool) {
	if t, ok := o.m.MailTemplate(ctx, file); ok {
		return t, true
	}
	b, err := fs.ReadFile(builtinTemplates, "templates/en/"+file)
	return string(b), err == nil
}

// sendInvitation renders org_invitation (.txt with its subject block,
// .html in the Manager's layout) and queues it to addr.
func (o *Orgs) sendInvitation(ctx context.Context, addr, token string) error {
	const name = "org_invitation"
	d := o.m.MailData(ctx, nil)
	d.Email, d.Link = addr, o.acceptLink(token)
	d.ExpiresAt = o.now().Add(InvitationTTL).Format("January 02, 2006 15:04:05 UTC")
	d.ValidFor = "7 days"
	txt, ok1 := o.template(ctx, name+".txt")
	page, ok2 := o.template(ctx, name+".html")
	layout, ok3 := o.m.MailTemplate(ctx, "layout.html")
	if !ok1 || !ok2 || !ok3 {
		return errors.New("org: mail template org_invitation: a file is missing")
	}
	tt, err := template.New(name).Option("missingkey=error").Parse(txt)
	if err != nil {
		return fmt.Errorf("org: parse %s.txt: %w", name, err)
	}
	var sb, tb, hb bytes.Buffer
	if err := tt.ExecuteTemplate(&sb, "subject", d); err != nil {
		return fmt.Errorf("org: render %s subject: %w", name, err)
	}
	if err := tt.Execute(&tb, d); err != nil {
		return fmt.Errorf("org: render %s.txt: %w", name, err)
	}
	ht, err := htmltemplate.New("layout").Option("missingkey=error").Parse(layout)
	if err == nil {
		_, err = ht.New("page").Parse(page)
	}
	if err == nil {
		err = ht.ExecuteTemplate(&hb, "layout", d)
	}
	if err != nil {
		return fmt.Errorf("org: render %s.html: %w", name, err)
	}
	msg := mail.Message{To: []string{addr}, Subject: strings.Join(strings.Fields(sb.String()), " "),
		Text: strings.TrimSpace(tb.String()) + "\n", HTML: hb.String()}
	return o.m.QueueMail(ctx, name, msg, "")
}
