package usermgmt

import (
	"context"
	"fmt"
	"time"
)

// fullStore is the store as the core uses it: the Store with every
// capability interface, those the implementation lacks answered by the
// absent ones below. New refuses a configuration that needs a capability
// the store lacks, so the absent implementations are reached only for
// what is not configured: they hold nothing (reads find nothing) and
// refuse writes with ErrStoreCapability.
type fullStore interface {
	Store
	FileStore
	ExternalStore
	FlagStore
	LockoutStore
}

// partialStore completes a Store that lacks capabilities.
type partialStore struct {
	Store
	FileStore
	ExternalStore
	FlagStore
	LockoutStore
}

// complete returns st with every capability.
func complete(st Store) fullStore {
	if f, ok := st.(fullStore); ok {
		return f
	}
	p := &partialStore{Store: st, FileStore: noFiles{}, ExternalStore: noExternal{}, FlagStore: noFlags{}, LockoutStore: noLockout{}}
	if c, ok := st.(FileStore); ok {
		p.FileStore = c
	}
	if c, ok := st.(ExternalStore); ok {
		p.ExternalStore = c
	}
	if c, ok := st.(FlagStore); ok {
		p.FlagStore = c
	}
	if c, ok := st.(LockoutStore); ok {
		p.LockoutStore = c
	}
	return p
}

// checkCapabilities returns an error (matching ErrStoreCapability) when the
// configuration needs a capability the store lacks.
func (m *Manager) checkCapabilities(st Store) error {
	var err error
	if m.storage != nil {
		_, err = NeedStore[FileStore](st, "file storage (Config.DataDir or WithStorage)")
	}
	if err == nil && len(m.cfg.OAuthProviders) > 0 {
		_, err = NeedStore[ExternalStore](st, "third-party login (Config.OAuthProviders)")
	}
	if err == nil && m.cfg.Lockout.Threshold > 0 {
		_, err = NeedStore[LockoutStore](st, "the account lockout (Config.Lockout)")
	}
	return err
}

// inTx is InTx with the transaction's store completed.
func (m *Manager) inTx(ctx context.Context, fn func(ctx context.Context, tx fullStore) error) error {
	return m.InTx(ctx, func(ctx context.Context, tx Store) error { return fn(ctx, complete(tx)) })
}

func absent(capability string) error {
	return fmt.Errorf("%w: the store has no %s", ErrStoreCapability, capability)
}

// noFiles is the FileStore of a store without files.
type noFiles struct{}

func (noFiles) InsertFile(context.Context, *File) error                      { return absent("FileStore") }
func (noFiles) FileByID(context.Context, int64) (*File, error)               { return nil, ErrNotFound }
func (noFiles) FilesByIDs(context.Context, []int64) ([]*File, error)         { return nil, nil }
func (noFiles) ListFiles(context.Context, FileQuery) ([]*File, error)        { return nil, nil }
func (noFiles) CountFiles(context.Context) (int, error)                      { return 0, nil }
func (noFiles) UpdateFile(context.Context, *File) error                      { return ErrNotFound }
func (noFiles) DeleteFile(context.Context, int64) error                      { return ErrNotFound }
func (noFiles) ClearProfilePicture(context.Context, int64) ([]string, error) { return nil, nil }
func (noFiles) AddFileDeletion(context.Context, FileDeletion) error          { return absent("FileStore") }
func (noFiles) RemoveFileDeletion(context.Context, string) error             { return nil }
func (noFiles) FileDeletions(context.Context, *FileDeletion, int) ([]FileDeletion, error) {
	return nil, nil
}

// noExternal is the ExternalStore of a store without third-party logins.
type noExternal struct{}

func (noExternal) InsertExternalIdentity(context.Context, *ExternalIdentity) error {
	return absent("ExternalStore")
}
func (noExternal) ExternalIdentity(context.Context, string, string) (*ExternalIdentity, error) {
	return nil, ErrNotFound
}
func (noExternal) ExternalIdentitiesByUser(context.Context, string) ([]*ExternalIdentity, error) {
	return nil, nil
}
func (noExternal) UpdateExternalIdentity(context.Context, *ExternalIdentity) error {
	return ErrNotFound
}
func (noExternal) DeleteExternalIdentity(context.Context, string, string) error { return ErrNotFound }
func (noExternal) InsertOAuthState(context.Context, *OAuthState) error {
	return absent("ExternalStore")
}
func (noExternal) TakeOAuthState(context.Context, []byte) (*OAuthState, error) {
	return nil, ErrNotFound
}
func (noExternal) DeleteExpiredOAuthStates(context.Context, time.Time) (int, error) { return 0, nil }

// noFlags is the FlagStore of a store without stored flags: every flag
// takes its default.
type noFlags struct{}

func (noFlags) FeatureFlags(context.Context) (FlagSet, error)      { return FlagSet{}, nil }
func (noFlags) FeatureFlagsVersion(context.Context) (int64, error) { return 0, nil }
func (noFlags) PutFeatureFlag(context.Context, string, Flag, time.Time) error {
	return absent("FlagStore")
}
func (noFlags) DeleteFeatureFlag(context.Context, string) error        { return nil }
func (noFlags) BumpFeatureFlagsVersion(context.Context) (int64, error) { return 0, nil }

// noLockout is the LockoutStore of a store without lockout counters (the
// lockout is off: New requires a LockoutStore otherwise).
type noLockout struct{}

func (noLockout) CountLoginAttempt(_ context.Context, _ string, _, windowStart time.Time) (LoginAttempts, error) {
	return LoginAttempts{WindowStart: windowStart}, nil
}
func (noLockout) LockAccount(context.Context, string, time.Time) error { return absent("LockoutStore") }
func (noLockout) ClearLoginFailures(context.Context, string) error     { return nil }
