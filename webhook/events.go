package webhook

import (
	"context"
	"time"

	"github.com/usermgmt/usermgmt"
)

// The event types, as receivers see them in the payload's "type".
const (
	UserCreated     = "user.created"
	UserUpdated     = "user.updated"
	UserDeleted     = "user.deleted"
	UserBanned      = "user.banned"
	UserUnbanned    = "user.unbanned"
	SessionCreated  = "session.created"
	SessionRevoked  = "session.revoked"
	PasswordChanged = "password.changed"
	EmailVerified   = "email.verified"
	MFAEnabled      = "mfa.enabled"
	MFADisabled     = "mfa.disabled"
	PasskeyCreated  = "passkey.created"
	PasskeyDeleted  = "passkey.deleted"
	APIKeyCreated   = "api_key.created"
	APIKeyRevoked   = "api_key.revoked"
)

// eventTypes maps the core's audit actions (and those of the features,
// named here by their strings so that this package links none of them)
// to event types. The second factor is special: see EventType.
var eventTypes = map[string]string{
	usermgmt.AuditRegister:       UserCreated,
	usermgmt.AuditUserCreated:    UserCreated,
	usermgmt.AuditOAuthRegister:  UserCreated,
	"magic-link-signup":          UserCreated, // emaillogin.AuditSignUp
	usermgmt.AuditUserUpdated:    UserUpdated,
	usermgmt.AuditPictureUpdated: UserUpdated,
	usermgmt.AuditPictureDeleted: UserUpdated,
	usermgmt.AuditOAuthLinked:    UserUpdated,
	usermgmt.AuditOAuthUnlinked:  UserUpdated,
	usermgmt.AuditUserDeleted:    UserDeleted,
	usermgmt.AuditBan:            UserBanned,
	usermgmt.AuditUnban:          UserUnbanned,
	usermgmt.AuditLogin:          SessionCreated,
	usermgmt.AuditOAuthLogin:     SessionCreated,
	usermgmt.AuditLogout:         SessionRevoked,
	usermgmt.AuditSessionRevoked: SessionRevoked,
	usermgmt.AuditRefreshReuse:   SessionRevoked,
	usermgmt.AuditPasswordChange: PasswordChanged,
	usermgmt.AuditPasswordReset:  PasswordChanged,
	usermgmt.AuditEmailVerified:  EmailVerified,
	"passkey-registered":         PasskeyCreated, // passkey.AuditRegistered
	"passkey-removed":            PasskeyDeleted, // passkey.AuditRemoved
	"api-key-created":            APIKeyCreated,  // apikey.AuditCreated
	"api-key-revoked":            APIKeyRevoked,  // apikey.AuditRevoked
}

// EventType returns the event type of an audit entry, and false for an
// entry that is no event (a failed login, a mail sent ...). A change of
// the second factor (usermgmt.AuditOTPChanged, whose detail is the new
// method) is mfa.disabled for the method "none", else mfa.enabled.
func EventType(action, detail string) (string, bool) {
	if action == usermgmt.AuditOTPChanged {
		if detail == usermgmt.OTPNone {
			return MFADisabled, true
		}
		return MFAEnabled, true
	}
	t, ok := eventTypes[action]
	return t, ok
}

// An Event is what a receiver gets: the body of the webhook request, and
// what OnEvent's callback gets.
type Event struct {
	Type      string    `json:"type"`
	Timestamp time.Time `json:"timestamp"`
	Data      EventData `json:"data"`
}

// EventData says what happened to whom.
type EventData struct {
	// AuditID is the audit entry the event reports (the same in a webhook
	// and in the OnEvent callback, so that a host can match them).
	AuditID      int64  `json:"audit_id"`
	Action       string `json:"action"`
	UserUUID     string `json:"user_uuid,omitempty"`
	ActorUUID    string `json:"actor_uuid,omitempty"`
	Impersonator string `json:"impersonator_uuid,omitempty"`
	Detail       string `json:"detail,omitempty"`
	IP           string `json:"ip,omitempty"`
	// User is the user after the change (absent once deleted).
	User *EventUser `json:"user,omitempty"`
}

// EventUser is the public part of a user in an event: never a hash or a
// secret.
type EventUser struct {
	UUID          string   `json:"uuid"`
	Username      string   `json:"username"`
	DisplayName   string   `json:"display_name"`
	Email         string   `json:"email"`
	EmailVerified bool     `json:"email_verified"`
	Roles         []string `json:"roles"`
	IsActive      bool     `json:"is_active"`
	OTPMethod     string   `json:"otp_method"`
}

// newEvent builds the event of e, reading its user through st (the
// transaction's Store, or the Manager's after the commit); ok is false
// for an entry that is no event.
func newEvent(ctx context.Context, st usermgmt.Store, e usermgmt.AuditEntry) (Event, bool, error) {
	typ, ok := EventType(e.Action, e.Detail)
	if !ok {
		return Event{}, false, nil
	}
	ev := Event{Type: typ, Timestamp: e.Time.UTC(), Data: EventData{
		AuditID: e.ID, Action: e.Action, UserUUID: e.SubjectUUID, ActorUUID: e.ActorUUID,
		Impersonator: e.ImpersonatorUUID, Detail: e.Detail, IP: e.IP,
	}}
	if e.SubjectUUID != "" && typ != UserDeleted {
		u, err := st.UserByUUID(ctx, e.SubjectUUID)
		switch {
		case err == nil:
			ev.Data.User = &EventUser{UUID: u.UUID, Username: u.Username, DisplayName: u.DisplayName, Email: u.Email,
				EmailVerified: u.EmailVerified, Roles: append([]string{}, u.Roles...), IsActive: u.IsActive, OTPMethod: u.OTPMethod}
		case !isNotFound(err):
			return Event{}, false, err
		}
	}
	return ev, true, nil
}

// OnEvent returns an event handler, for usermgmt.WithEventHandler in the
// same New that enables h, that calls fn with the same events the
// webhooks carry once their change has committed, on the request's
// goroutine: fn must not block. A Hooks without endpoints serves the
// callback alone (it writes no outbox rows).
func (h *Hooks) OnEvent(fn func(ctx context.Context, ev Event)) usermgmt.EventHandler {
	return func(ctx context.Context, e usermgmt.AuditEntry) {
		if h.m == nil {
			return
		}
		ev, ok, err := newEvent(ctx, h.m.Store(), e)
		if err != nil {
			h.log.WarnContext(ctx, "webhook: the event callback could not read the user", "action", e.Action, "err", err)
			return
		}
		if ok {
			fn(ctx, ev)
		}
	}
}
