// Package storetest is the conformance suite of usermgmt.Store: every
// implementation runs it from its tests and must pass all of it. The core
// contract's cases always run; those of each capability (usermgmt.FileStore,
// ExternalStore, FlagStore, LockoutStore, dump.Store, credstore.Store,
// keystore.Store, secretstore.Store, orgstore.Store) run when the store
// implements it, and Run logs the capabilities it did not find.
//
//	func TestConformance(t *testing.T) {
//		storetest.Run(t, func(t *testing.T) usermgmt.Store {
//			st, err := mystore.Open(...) // a new, empty store
//			if err != nil {
//				t.Fatal(err)
//			}
//			return st
//		})
//	}
package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey/keystore"
	"github.com/usermgmt/usermgmt/dbtools/dump"
	"github.com/usermgmt/usermgmt/emaillogin/secretstore"
	"github.com/usermgmt/usermgmt/org/orgstore"
	"github.com/usermgmt/usermgmt/passkey/credstore"
)

// Run runs the whole suite. Each case runs in parallel on a store of its
// own: open must return a new, empty Store, which Run closes when the case
// ends.
func Run(t *testing.T, open func(t *testing.T) usermgmt.Store) {
	groups := []struct {
		name  string
		cases []testCase
		// needs reports whether a store has the group's capability;
		// nil for the core contract.
		needs func(usermgmt.Store) bool
	}{
		{"Users", userCases, nil},
		{"Sessions", sessionCases, nil},
		{"Audit", auditCases, nil},
		{"Files", fileCases, has[usermgmt.FileStore]},
		{"External", externalCases, has[usermgmt.ExternalStore]},
		{"InTx", txCases, nil},
		{"Concurrency", concurrencyCases, nil},
		{"Security", securityCases, nil},
		{"Flags", flagCases, has[usermgmt.FlagStore]},
		{"Lockout", lockoutCases, has[usermgmt.LockoutStore]},
		{"AdminSearch", adminSearchCases, nil},
		{"Passkeys", passkeyCases, has[credstore.Store]},
		{"APIKeys", apiKeyCases, has[keystore.Store]},
		{"SignInSecrets", signinSecretCases, has[secretstore.Store]},
		{"Organizations", orgCases, has[orgstore.Store]},
		{"Dump", dumpCases, func(st usermgmt.Store) bool { return has[dump.Store](st) && has[usermgmt.FlagStore](st) }},
	}
	probe := open(t)
	if err := probe.Close(); err != nil {
		t.Errorf("Close: %v", err)
	}
	for _, g := range groups {
		if g.needs != nil && !g.needs(probe) {
			t.Logf("storetest: %T lacks the capability of the %s cases; they do not apply", probe, g.name)
			continue
		}
		t.Run(g.name, func(t *testing.T) {
			for _, c := range g.cases {
				t.Run(c.name, func(t *testing.T) {
					t.Parallel()
					st := open(t)
					t.Cleanup(func() {
						if err := st.Close(); err != nil {
							t.Errorf("Close: %v", err)
						}
					})
					c.run(t, full(st))
				})
			}
		})
	}
}

// fullStore is a store with every capability the suite tests. A case
// calls only the methods of its group's capability, and a group runs
// only on a store that has it.
type fullStore interface {
	usermgmt.Store
	usermgmt.FileStore
	usermgmt.ExternalStore
	usermgmt.FlagStore
	usermgmt.LockoutStore
	dump.Store
	credstore.Store
	keystore.Store
	secretstore.Store
	orgstore.Store
}

// partial is a store lacking some capabilities: their methods are those of
// nil interfaces, never called (see fullStore).
type partial struct {
	usermgmt.Store
	usermgmt.FileStore
	usermgmt.ExternalStore
	usermgmt.FlagStore
	usermgmt.LockoutStore
	dumpStore
	passkeyStore
	apiKeyStore
	signinSecretStore
	orgStore
}

// dumpStore names dump.Store apart from usermgmt.Store in partial.
type dumpStore = dump.Store

// passkeyStore names credstore.Store apart from usermgmt.Store in partial.
type passkeyStore = credstore.Store

// apiKeyStore names keystore.Store apart from usermgmt.Store in partial.
type apiKeyStore = keystore.Store

// signinSecretStore names secretstore.Store apart from usermgmt.Store in
// partial.
type signinSecretStore = secretstore.Store

// orgStore names orgstore.Store apart from usermgmt.Store in partial.
type orgStore = orgstore.Store

func (p partial) InTx(ctx context.Context, fn func(ctx context.Context, tx usermgmt.Store) error) error {
	return p.Store.InTx(ctx, fn)
}

func (p partial) Close() error { return p.Store.Close() }

func has[T any](st usermgmt.Store) bool {
	_, ok := st.(T)
	return ok
}

// hasPasskeys reports whether st has the passkey capability (a partial
// store lacking it embeds a nil credstore.Store).
func hasPasskeys(st fullStore) bool {
	if p, ok := st.(partial); ok {
		return p.passkeyStore != nil
	}
	return true
}

// hasAPIKeys reports whether st has the API-key capability (a partial
// store lacking it embeds a nil keystore.Store).
func hasAPIKeys(st fullStore) bool {
	if p, ok := st.(partial); ok {
		return p.apiKeyStore != nil
	}
	return true
}

// full returns st as a fullStore.
func full(st usermgmt.Store) fullStore {
	if f, ok := st.(fullStore); ok {
		return f
	}
	p := partial{Store: st}
	p.FileStore, _ = st.(usermgmt.FileStore)
	p.ExternalStore, _ = st.(usermgmt.ExternalStore)
	p.FlagStore, _ = st.(usermgmt.FlagStore)
	p.LockoutStore, _ = st.(usermgmt.LockoutStore)
	p.dumpStore, _ = st.(dump.Store)
	p.passkeyStore, _ = st.(credstore.Store)
	p.apiKeyStore, _ = st.(keystore.Store)
	p.signinSecretStore, _ = st.(secretstore.Store)
	p.orgStore, _ = st.(orgstore.Store)
	return p
}

// testCase is one behaviour checked on a fresh store.
type testCase struct {
	name string
	run  func(t *testing.T, st fullStore)
}

// t0 is the suite's reference time: nanoseconds and a non-UTC zone, so that
// truncation and normalisation are exercised everywhere.
var t0 = time.Date(2025, 3, 14, 15, 9, 26, 535897932, time.FixedZone("UTC+2", 2*3600))

// stored is t as a store returns it: UTC, microsecond precision.
func stored(t time.Time) time.Time { return t.UTC().Truncate(time.Microsecond) }

// newUser returns a complete user numbered n, created n minutes after t0.
func newUser(n int) *usermgmt.User {
	pic := int64(1000 + n)
	return &usermgmt.User{
		UUID:             fmt.Sprintf("00000000-0000-4000-8000-%012d", n),
		Username:         fmt.Sprintf("user_%03d", n),
		DisplayName:      fmt.Sprintf("User_%03d", n),
		Email:            fmt.Sprintf("User%03d@Example.com", n),
		EmailVerified:    n%2 == 0,
		PasswordHash:     "$2a$04$hash" + fmt.Sprint(n),
		OTPMethod:        usermgmt.OTPNone,
		OTPSecret:        "",
		Roles:            []string{"user"},
		Description:      "description of user " + fmt.Sprint(n),
		IsExternalOnly:   false,
		IsActive:         true,
		BlockedUUIDs:     []string{},
		ProfilePictureID: &pic,
		CreatedAt:        t0.Add(time.Duration(n) * time.Minute),
		UpdatedAt:        t0.Add(time.Duration(n)*time.Minute + time.Second),
	}
}

// wantUser is u as a store returns it.
func wantUser(u *usermgmt.User) *usermgmt.User {
	w := *u
	w.Roles = append([]string{}, u.Roles...)
	w.BlockedUUIDs = append([]string{}, u.BlockedUUIDs...)
	if u.ProfilePictureID != nil {
		id := *u.ProfilePictureID
		w.ProfilePictureID = &id
	}
	w.CreatedAt = stored(u.CreatedAt)
	w.UpdatedAt = stored(u.UpdatedAt)
	return &w
}

// checkUser fails t unless got is want (as stored).
func checkUser(t *testing.T, what string, got, want *usermgmt.User) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil user", what)
	}
	w := wantUser(want)
	checkUTC(t, what+" CreatedAt", got.CreatedAt)
	checkUTC(t, what+" UpdatedAt", got.UpdatedAt)
	if got.Roles == nil || got.BlockedUUIDs == nil {
		t.Errorf("%s: nil slices: Roles %#v, BlockedUUIDs %#v", what, got.Roles, got.BlockedUUIDs)
	}
	if !reflect.DeepEqual(got, w) {
		t.Errorf("%s:\n got %s\nwant %s", what, showUser(got), showUser(w))
	}
}

func showUser(u *usermgmt.User) string {
	pic := "nil"
	if u.ProfilePictureID != nil {
		pic = fmt.Sprint(*u.ProfilePictureID)
	}
	c := *u
	c.ProfilePictureID = nil
	return fmt.Sprintf("%+v ProfilePictureID=%s", c, pic)
}

// checkUTC fails t unless tm is in UTC.
func checkUTC(t *testing.T, what string, tm time.Time) {
	t.Helper()
	if tm.Location() != time.UTC {
		t.Errorf("%s: location %v, want UTC", what, tm.Location())
	}
}

// mustInsertUsers inserts users or fails t.
func mustInsertUsers(t *testing.T, st usermgmt.Store, users ...*usermgmt.User) {
	t.Helper()
	for _, u := range users {
		if err := st.InsertUser(context.Background(), u); err != nil {
			t.Fatalf("InsertUser(%s): %v", u.Username, err)
		}
	}
}

// checkNotFound fails t unless err matches usermgmt.ErrNotFound.
func checkNotFound(t *testing.T, what string, err error) {
	t.Helper()
	if !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("%s: error %v, want ErrNotFound", what, err)
	}
}

// checkConflict fails t unless err is a conflict on field.
func checkConflict(t *testing.T, what string, err error, field string) {
	t.Helper()
	if !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("%s: error %v, want ErrConflict", what, err)
		return
	}
	var e *usermgmt.Error
	if !errors.As(err, &e) {
		t.Errorf("%s: %v is not a *usermgmt.Error", what, err)
		return
	}
	if got := e.Params["field"]; got != field {
		t.Errorf("%s: conflict on %v, want %q (error %v)", what, got, field, err)
	}
}

// mustFull returns st as a fullStore, failing t unless it has every
// capability.
func mustFull(t *testing.T, st usermgmt.Store) fullStore {
	t.Helper()
	f, ok := st.(fullStore)
	if !ok {
		t.Fatalf("%T lacks a capability the case needs (see fullStore)", st)
	}
	return f
}
