package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"fmt"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

var externalCases = []testCase{
	{"Identities", testExternalIdentities},
	{"IdentityCascade", testExternalCascade},
	{"OAuthStates", testOAuthStates},
}

func newIdentity(provider, subject, user string, n int) *usermgmt.ExternalIdentity {
	at := t0.Add(time.Duration(n) * time.Minute)
	return &usermgmt.ExternalIdentity{
		Provider: provider, Subject: subject, UserUUID: user,
		Username: "handle" + subject, DisplayName: "Handle " + subject, Email: subject + "@example.com",
		PictureURL: "https://cdn.example.com/" + subject + ".png", Tokens: []byte{1, 0, 255, byte(n)},
		CreatedAt: at, UpdatedAt: at.Add(time.Second),
	}
}

func checkIdentity(t *testing.T, what string, got, want *usermgmt.ExternalIdentity) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil identity", what)
	}
	checkUTC(t, what+" CreatedAt", got.CreatedAt)
	checkUTC(t, what+" UpdatedAt", got.UpdatedAt)
	if got.Provider != want.Provider || got.Subject != want.Subject || got.UserUUID != want.UserUUID ||
		got.Username != want.Username || got.DisplayName != want.DisplayName || got.Email != want.Email ||
		got.PictureURL != want.PictureURL || !bytes.Equal(got.Tokens, want.Tokens) ||
		!got.CreatedAt.Equal(stored(want.CreatedAt)) || !got.UpdatedAt.Equal(stored(want.UpdatedAt)) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testExternalIdentities(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	gh := newIdentity("github", "42", a.UUID, 1)
	gg := newIdentity("google", "g-1", a.UUID, 2)
	for _, x := range []*usermgmt.ExternalIdentity{gh, gg} {
		if err := st.InsertExternalIdentity(ctx, x); err != nil {
			t.Fatalf("InsertExternalIdentity(%s): %v", x.Provider, err)
		}
	}
	got, err := st.ExternalIdentity(ctx, "github", "42")
	if err != nil {
		t.Fatal(err)
	}
	checkIdentity(t, "ExternalIdentity", got, gh)
	got.Tokens[0] = 9 // a fresh copy
	_, err = st.ExternalIdentity(ctx, "github", "43")
	checkNotFound(t, "ExternalIdentity(missing)", err)
	_, err = st.ExternalIdentity(ctx, "gitlab", "42")
	checkNotFound(t, "ExternalIdentity(other provider)", err)

	// The same provider account twice, and a second account of a provider.
	checkConflict(t, "linked elsewhere", st.InsertExternalIdentity(ctx, newIdentity("github", "42", b.UUID, 3)), "external_identity")
	checkConflict(t, "second github of a user", st.InsertExternalIdentity(ctx, newIdentity("github", "77", a.UUID, 3)), "external_provider")
	checkNotFound(t, "identity of a missing user", st.InsertExternalIdentity(ctx, newIdentity("gitlab", "1", newUser(9).UUID, 3)))
	// The same subject at another provider is another account.
	if err := st.InsertExternalIdentity(ctx, newIdentity("gitlab", "42", b.UUID, 4)); err != nil {
		t.Fatal(err)
	}

	list, err := st.ExternalIdentitiesByUser(ctx, a.UUID)
	if err != nil || len(list) != 2 {
		t.Fatalf("ExternalIdentitiesByUser = %d, %v", len(list), err)
	}
	checkIdentity(t, "by user #0", list[0], gh)
	checkIdentity(t, "by user #1", list[1], gg)
	if none, err := st.ExternalIdentitiesByUser(ctx, newUser(9).UUID); err != nil || none == nil || len(none) != 0 {
		t.Errorf("identities of nobody = %#v, %v", none, err)
	}

	up := *gh
	up.Username, up.Email, up.PictureURL, up.Tokens = "renamed", "", "", []byte{2}
	up.UpdatedAt = t0.Add(time.Hour)
	up.CreatedAt = t0.Add(-time.Hour) // not written
	if err := st.UpdateExternalIdentity(ctx, &up); err != nil {
		t.Fatal(err)
	}
	got, _ = st.ExternalIdentity(ctx, "github", "42")
	up.CreatedAt = gh.CreatedAt
	checkIdentity(t, "after update", got, &up)
	missing := newIdentity("github", "404", a.UUID, 0)
	checkNotFound(t, "update missing", st.UpdateExternalIdentity(ctx, missing))

	if err := st.DeleteExternalIdentity(ctx, a.UUID, "github"); err != nil {
		t.Fatal(err)
	}
	checkNotFound(t, "delete again", st.DeleteExternalIdentity(ctx, a.UUID, "github"))
	checkNotFound(t, "delete another user's", st.DeleteExternalIdentity(ctx, a.UUID, "gitlab"))
	_, err = st.ExternalIdentity(ctx, "github", "42")
	checkNotFound(t, "deleted identity", err)
	// The account is free again.
	if err := st.InsertExternalIdentity(ctx, newIdentity("github", "42", b.UUID, 5)); err != nil {
		t.Fatal(err)
	}
}

func testExternalCascade(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	if err := st.InsertExternalIdentity(ctx, newIdentity("github", "1", u.UUID, 0)); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteUser(ctx, u.UUID); err != nil {
		t.Fatal(err)
	}
	_, err := st.ExternalIdentity(ctx, "github", "1")
	checkNotFound(t, "identity of a deleted user", err)
}

func stateHash(n int) []byte {
	h := sha256.Sum256([]byte(fmt.Sprint("state ", n)))
	return h[:]
}

func testOAuthStates(t *testing.T, st fullStore) {
	ctx := context.Background()
	cookie := sha256.Sum256([]byte("cookie"))
	states := []*usermgmt.OAuthState{
		{StateHash: stateHash(1), CookieHash: cookie[:], Provider: "github", RedirectURI: "https://app.example.com/x",
			CreatedAt: t0, ExpiresAt: t0.Add(10 * time.Minute)},
		// A link ticket: no cookie yet, a user.
		{StateHash: stateHash(2), Provider: "google", UserUUID: newUser(1).UUID, CreatedAt: t0, ExpiresAt: t0.Add(5 * time.Minute)},
		{StateHash: stateHash(3), CookieHash: cookie[:], Provider: "github", CreatedAt: t0, ExpiresAt: t0.Add(20 * time.Minute)},
	}
	for _, s := range states {
		if err := st.InsertOAuthState(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	checkConflict(t, "duplicate state", st.InsertOAuthState(ctx, states[0]), "state")

	for i, want := range states[:2] {
		got, err := st.TakeOAuthState(ctx, want.StateHash)
		if err != nil {
			t.Fatal(err)
		}
		checkUTC(t, "ExpiresAt", got.ExpiresAt)
		if !bytes.Equal(got.StateHash, want.StateHash) || !bytes.Equal(got.CookieHash, want.CookieHash) ||
			got.Provider != want.Provider || got.UserUUID != want.UserUUID || got.RedirectURI != want.RedirectURI ||
			!got.CreatedAt.Equal(stored(want.CreatedAt)) || !got.ExpiresAt.Equal(stored(want.ExpiresAt)) {
			t.Errorf("state %d:\n got %+v\nwant %+v", i, got, want)
		}
		// Taken once.
		_, err = st.TakeOAuthState(ctx, want.StateHash)
		checkNotFound(t, "second take", err)
	}
	_, err := st.TakeOAuthState(ctx, stateHash(9))
	checkNotFound(t, "unknown state", err)

	for _, s := range []*usermgmt.OAuthState{
		{StateHash: stateHash(4), Provider: "x", CreatedAt: t0, ExpiresAt: t0.Add(time.Minute)},
		{StateHash: stateHash(5), Provider: "x", CreatedAt: t0, ExpiresAt: t0.Add(2 * time.Minute)},
	} {
		if err := st.InsertOAuthState(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	n, err := st.DeleteExpiredOAuthStates(ctx, t0.Add(2*time.Minute))
	if err != nil || n != 2 {
		t.Fatalf("DeleteExpiredOAuthStates = %d, %v; want 2", n, err)
	}
	if _, err := st.TakeOAuthState(ctx, stateHash(3)); err != nil {
		t.Errorf("a live state was purged: %v", err)
	}
}
