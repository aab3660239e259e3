package usermgmt

import (
	"context"
	"errors"
	"fmt"
	"reflect"
)

// The seams: what a feature package builds on. A capability that a host
// may or may not enable lives in its own package (dbtools, adminmail, ...)
// and reaches the core only through these calls, so that a host that does
// not enable it neither implements its store nor links it.
//
//   - Feature and WithFeature: the feature is handed the Manager when New
//     builds it, and httpadapter serves the routes it declares.
//   - NeedStore: the feature's own store interface, checked at New.
//   - Manager.InTx: work in the store's transaction.
//   - Manager.AppendAudit: an audit entry, published as an event once stored.
//   - EventWriter: a feature that writes rows of its own for an audit
//     entry in the transaction that stores it (a webhook outbox), so that
//     the change, its entry and the feature's rows commit or fail together.
//   - Manager.Authorize (abac.go): an action checked as an actor.
//   - Manager.OpenSession with AuthMethod: a session after the feature's
//     own proof of identity.
//   - Manager.SignIn: the login rules and the second factor after a
//     feature's first factor (a magic link, a passkey).
//   - Manager.CheckSignInProof: a first factor that can be guessed (a
//     mailed code), counted by the login lockout.
//   - Manager.CheckRegistration: Config.Hooks.BeforeRegister asked of an
//     account a feature is about to create (a sign-up by link).
//   - Manager.MailData, MailTemplate, RenderFeatureMail, QueueMail,
//     HasMailer: mail.
//   - Manager.ForgetCached: the cache after a write the Manager did not see.
//   - UserDeleter: a feature's rows of a user, removed (or the deletion
//     refused) in the transaction that deletes the user.
//   - WayIn and Manager.WaysIn: the ways into an account a feature holds
//     (passkeys), counted before any way in is removed.
//   - CredentialAuthenticator: a credential of the feature's own kind (an
//     API key) that Manager.Authenticate hands it; its Principal's
//     Credential scopes limit Authorize on a ContextWithCaller context.
//   - NewError: errors with a stable code and an HTTP status.
//   - ClaimsFeature (featureclaims.go): access-token claims of the
//     feature's own, reserved for it and read back in Principal.Claims;
//     Manager.ReissueAccessToken issues a new access token for the
//     caller's session after a change of what they say.
//   - Manager.SealOTPSecret: a TOTP secret sealed for a users row an
//     import writes.
//   - ActingParty and Lifetime (SessionOptions of OpenSession): a session
//     opened for a user by another, whose token carries act.
//   - ContextWithCaller (caller.go): what the rules need to know of the
//     caller beyond the user; Impersonator and RefuseImpersonated
//     (impersonation.go): is this caller impersonated, and the changes
//     refused while they are; RequireSession (credential.go): what only a
//     signed-in session may do.
//   - PasswordChecker and WithPasswordChecker (passwordcheck.go): a rule
//     every new password must pass (a breach check, password rules).
//   - Manager.CheckPassword (passwordconfirm.go): a user's password
//     confirmed without a session, counted by the lockout.
//   - Pinger (ready.go): a part of the service that Manager.Ready checks.
//   - HashWaitReporter (telemetry.go): a Hasher that reports its wait for a
//     slot to the metrics.

// A Feature is an optional capability built over the core in its own
// package. Pass it to New with WithFeature; New calls InitFeature once,
// after the core is built, so that the feature can check its store
// (NeedStore) and keep the Manager. A feature that also serves HTTP routes
// implements httpadapter.Feature, and httpadapter.New serves them.
type Feature interface {
	// FeatureName names the feature in errors and logs ("dbtools").
	FeatureName() string
	// InitFeature prepares the feature for m; an error fails New.
	InitFeature(m *Manager) error
}

// WithFeature enables features: New initialises them in order.
func WithFeature(fs ...Feature) Option {
	return func(m *Manager) { m.features = append(m.features, fs...) }
}

// Features returns the features enabled with WithFeature, in order.
func (m *Manager) Features() []Feature { return append([]Feature(nil), m.features...) }

// A WayIn is a Feature that holds ways into accounts of its own (a
// passkey, say) beside the core's: the password and the linked providers.
// Before the core removes one of its ways in (Manager.UnlinkOAuth) it
// counts the features' as well, so that an account keeps at least one way
// in, and the core need not know the feature.
type WayIn interface {
	Feature
	// WaysIn returns how many ways into the account userUUID the feature
	// holds, read through st: inside a removal, the Store of its
	// transaction, in which the user's row is locked.
	WaysIn(ctx context.Context, st Store, userUUID string) (int, error)
}

// WaysIn counts the ways into u's account, read through st (the Store of
// the caller's transaction, with u's row locked, or the Manager's): one
// for a password, one per linked provider, and those each enabled WayIn
// feature holds, except those of the feature except (nil: none). A
// feature that removes one of its own ways in calls it with itself as
// except, to learn whether the account has another.
func (m *Manager) WaysIn(ctx context.Context, st Store, u *User, except Feature) (int, error) {
	n := 0
	if u.PasswordHash != "" {
		n++
	}
	xs, err := complete(st).ExternalIdentitiesByUser(ctx, u.UUID)
	if err != nil {
		return 0, err
	}
	n += len(xs)
	for _, f := range m.features {
		w, ok := f.(WayIn)
		if !ok || f == except {
			continue
		}
		c, err := w.WaysIn(ctx, st, u.UUID)
		if err != nil {
			return 0, fmt.Errorf("usermgmt: %s: count the ways in: %w", f.FeatureName(), err)
		}
		n += c
	}
	return n, nil
}

// A UserDeleter is a Feature that keeps rows of a user that must go, or
// be checked, when the user is deleted (an organization's memberships,
// say). The core calls it inside the transaction that deletes the user,
// with the user's row locked, before the row goes: an error refuses the
// deletion, rolls back all of it and is returned to the caller as is.
type UserDeleter interface {
	Feature
	// BeforeDeleteUser removes or checks the feature's rows of u through
	// tx, the Store of the deleting transaction; actorUUID is the user
	// who deletes ("" for the trusted Manager).
	BeforeDeleteUser(ctx context.Context, tx Store, u *User, actorUUID string) error
}

// beforeDeleteUser runs the UserDeleter features for u, in order.
func (m *Manager) beforeDeleteUser(ctx context.Context, tx Store, u *User, actorUUID string) error {
	for _, f := range m.features {
		if d, ok := f.(UserDeleter); ok {
			if err := d.BeforeDeleteUser(ctx, tx, u, actorUUID); err != nil {
				return err
			}
		}
	}
	return nil
}

// ErrStoreCapability is the error New returns when the store lacks an
// interface that a configured feature needs; errors.Is matches it, and the
// message names the interface.
var ErrStoreCapability = errors.New("usermgmt: the store does not implement an interface a feature needs")

// NeedStore returns st as T, the store interface feature needs, or an
// error (matching ErrStoreCapability) naming T. Features call it from
// InitFeature with m.Store(), and inside InTx with the transaction's Store
// (an implementation hands fn a Store of the same capabilities as itself).
func NeedStore[T any](st Store, feature string) (T, error) {
	t, ok := st.(T)
	if !ok {
		var zero T
		return zero, fmt.Errorf("%w: %s needs %s, which %T does not implement",
			ErrStoreCapability, feature, reflect.TypeFor[T](), st)
	}
	return t, nil
}

// NewError returns an error with a stable snake_case code, the HTTP status
// the HTTP layer answers it with, and a message for the client. Feature
// packages declare their errors with it, as the core does in errors.go.
func NewError(status int, code, message string) *Error { return newError(status, code, message) }

// InTx runs fn inside one write transaction of the store (see Store.InTx).
// The audit entries fn writes through Manager.AppendAudit are published as
// events only once the transaction has committed; nested calls join the
// outer transaction.
func (m *Manager) InTx(ctx context.Context, fn func(ctx context.Context, tx Store) error) error {
	if buf, inside := ctx.Value(txEventsKey{}).(*txEvents); inside {
		return buf.tx.InTx(ctx, fn)
	}
	buf := &txEvents{}
	err := m.cfg.Store.InTx(context.WithValue(ctx, txEventsKey{}, buf), func(ctx context.Context, tx Store) error {
		buf.tx = tx
		return fn(ctx, tx)
	})
	if err != nil {
		return err
	}
	for _, e := range buf.entries {
		m.publish(ctx, e)
	}
	return nil
}

// AppendAudit appends e to the audit log through st (the Manager's store, or the
// transaction's inside InTx), setting its time and, when e.IP is empty,
// the client's IP (ClientInfoFrom), and when e.ImpersonatorUUID is empty,
// the impersonator of the caller (Impersonator). Once stored (after the commit, inside
// InTx) it is published to the handlers of WithEventHandler.
func (m *Manager) AppendAudit(ctx context.Context, st Store, e AuditEntry) error {
	e.Time = m.now()
	if e.IP == "" {
		e.IP = ClientInfoFrom(ctx).IP
	}
	if e.ImpersonatorUUID == "" {
		e.ImpersonatorUUID = Impersonator(ctx)
	}
	buf, inside := ctx.Value(txEventsKey{}).(*txEvents)
	var tx Store // the writers' Store: the transaction's own, inside InTx
	if inside {
		tx = buf.tx
	}
	if err := m.storeAudit(ctx, st, tx, &e); err != nil {
		return err
	}
	if inside {
		buf.entries = append(buf.entries, e)
		return nil
	}
	m.publish(ctx, e)
	return nil
}

// storeAudit appends e through st and hands it to the EventWriter
// features that want it, in one transaction: tx, the Store of the
// enclosing InTx, when not nil (the writers get it rather than st, which
// may wrap it), else a new one begun on st (joining st's when st is a
// transaction's Store), so that an entry never commits without their rows.
func (m *Manager) storeAudit(ctx context.Context, st, tx Store, e *AuditEntry) error {
	var ws []EventWriter
	for _, f := range m.features {
		if w, ok := f.(EventWriter); ok && w.WantsEvent(e.Action) {
			ws = append(ws, w)
		}
	}
	if len(ws) == 0 {
		return st.AppendAudit(ctx, e)
	}
	write := func(ctx context.Context, st, tx Store) error {
		if err := st.AppendAudit(ctx, e); err != nil {
			return err
		}
		for _, w := range ws {
			if err := w.WriteEvent(ctx, tx, *e); err != nil {
				return fmt.Errorf("usermgmt: %s: write the event %s: %w", w.FeatureName(), e.Action, err)
			}
		}
		return nil
	}
	if tx != nil {
		return write(ctx, st, tx)
	}
	return st.InTx(ctx, func(ctx context.Context, tx Store) error { return write(ctx, tx, tx) })
}

// An EventWriter is a Feature that writes rows of its own for some audit
// entries (a webhook outbox) in the transaction that stores the entry,
// and so in the transaction of the change the entry records: they commit
// together or not at all. An entry written outside Manager.InTx gets a
// transaction of its own for the entry and the writers' rows.
type EventWriter interface {
	Feature
	// WantsEvent reports whether the feature writes rows for entries of
	// action; the core begins no transaction for an entry no writer wants.
	WantsEvent(action string) bool
	// WriteEvent writes the feature's rows for e through tx, the Store of
	// the transaction that holds e (with its ID set). An error rolls the
	// whole transaction back: the change fails with it.
	WriteEvent(ctx context.Context, tx Store, e AuditEntry) error
}

// audit is AppendAudit with the entry's fields as arguments.
func (m *Manager) audit(ctx context.Context, s Store, actorUUID, subjectUUID, action, detail string) error {
	return m.AppendAudit(ctx, s, AuditEntry{ActorUUID: actorUUID, SubjectUUID: subjectUUID, Action: action, Detail: detail})
}

// An EventHandler receives each audit entry once it is stored: the stream
// of what the Manager changed (webhooks and metrics subscribe to it). It
// runs synchronously on the request's goroutine, after the change is
// committed, so it must not block: a slow consumer queues the work.
type EventHandler func(ctx context.Context, e AuditEntry)

// WithEventHandler adds h to the handlers of the event stream.
func WithEventHandler(h EventHandler) Option {
	return func(m *Manager) { m.events = append(m.events, h) }
}

func (m *Manager) publish(ctx context.Context, e AuditEntry) {
	for _, h := range m.events {
		h(ctx, e)
	}
}

// txEvents collects the entries audited inside one InTx until it commits,
// and holds its transaction for the nested calls. A transaction runs on
// one goroutine, so it needs no lock.
type txEvents struct {
	tx      Store
	entries []AuditEntry
}

type txEventsKey struct{}

// ForgetCached drops what the Manager caches about the given users (their
// profiles and sessions), or everything when none is given. A feature
// that writes users' rows directly calls it after its transaction.
func (m *Manager) ForgetCached(userUUIDs ...string) {
	if len(userUUIDs) == 0 {
		m.cache.purge()
		return
	}
	for _, id := range userUUIDs {
		m.cache.invalidateUser(id)
	}
}
