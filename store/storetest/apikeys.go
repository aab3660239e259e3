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
)

// The API-key feature's capability (keystore.Store).
var apiKeyCases = []testCase{
	{"RoundTrip", testAPIKeyRoundTrip},
	{"Unique", testAPIKeyUnique},
	{"Delete", testAPIKeyDelete},
	{"RecordUse", testAPIKeyRecordUse},
	{"Cascade", testAPIKeyCascade},
	{"InTx", testAPIKeyInTx},
}

func newAPIKey(user string, n int) *keystore.Key {
	k := &keystore.Key{
		ID: fmt.Sprintf("ak-%03d", n), UserUUID: user, Name: fmt.Sprintf("key %d", n),
		Prefix: fmt.Sprintf("um_pre%05d", n), Hash: []byte{0, 255, byte(n), 7, 9},
		Scopes: []string{"user:read", "file:create"}, CreatedBy: user,
		CreatedAt: t0.Add(time.Duration(n) * time.Minute),
	}
	if n%2 == 0 {
		exp := t0.Add(time.Duration(n) * time.Hour)
		k.ExpiresAt = &exp
	}
	return k
}

// wantAPIKey is k as a store returns it.
func wantAPIKey(k *keystore.Key) *keystore.Key {
	w := *k
	w.CreatedAt = stored(k.CreatedAt)
	for _, p := range []**time.Time{&w.ExpiresAt, &w.LastUsedAt} {
		if *p != nil {
			at := stored(**p)
			*p = &at
		}
	}
	if w.Scopes == nil {
		w.Scopes = []string{}
	}
	return &w
}

func checkAPIKey(t *testing.T, what string, got, want *keystore.Key) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil key", what)
	}
	checkUTC(t, what+" CreatedAt", got.CreatedAt)
	for _, p := range []*time.Time{got.ExpiresAt, got.LastUsedAt} {
		if p != nil {
			checkUTC(t, what+" time", *p)
		}
	}
	if w := wantAPIKey(want); !reflect.DeepEqual(got, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, w)
	}
}

func mustInsertAPIKeys(t *testing.T, st keystore.Store, keys ...*keystore.Key) {
	t.Helper()
	for _, k := range keys {
		if err := st.InsertAPIKey(context.Background(), k); err != nil {
			t.Fatalf("InsertAPIKey(%s): %v", k.ID, err)
		}
	}
}

func testAPIKeyRoundTrip(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	k1, k2, k3 := newAPIKey(a.UUID, 2), newAPIKey(a.UUID, 1), newAPIKey(b.UUID, 3)
	k3.Scopes = nil
	mustInsertAPIKeys(t, st, k1, k2, k3)
	got, err := st.APIKeyByPrefix(ctx, k1.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	checkAPIKey(t, "APIKeyByPrefix", got, k1)
	_, err = st.APIKeyByPrefix(ctx, "um_nothing")
	checkNotFound(t, "APIKeyByPrefix(unknown)", err)
	list, err := st.APIKeysByUser(ctx, a.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("APIKeysByUser = %d keys, want 2", len(list))
	}
	checkAPIKey(t, "APIKeysByUser[0] (oldest)", list[0], k2)
	checkAPIKey(t, "APIKeysByUser[1]", list[1], k1)
	list, err = st.APIKeysByUser(ctx, b.UUID)
	if err != nil || len(list) != 1 {
		t.Fatalf("APIKeysByUser(b) = %v, %v", list, err)
	}
	checkAPIKey(t, "APIKeysByUser(b)", list[0], k3)
	none, err := st.APIKeysByUser(ctx, newUser(3).UUID)
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("APIKeysByUser(no keys) = %#v, %v; want an empty slice", none, err)
	}
}

func testAPIKeyUnique(t *testing.T, st fullStore) {
	a := newUser(1)
	mustInsertUsers(t, st, a)
	mustInsertAPIKeys(t, st, newAPIKey(a.UUID, 1))
	samePrefix := newAPIKey(a.UUID, 2)
	samePrefix.Prefix = newAPIKey(a.UUID, 1).Prefix
	if err := st.InsertAPIKey(context.Background(), samePrefix); !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("InsertAPIKey(same prefix) = %v, want ErrConflict", err)
	}
	sameID := newAPIKey(a.UUID, 3)
	sameID.ID = "ak-001"
	if err := st.InsertAPIKey(context.Background(), sameID); !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("InsertAPIKey(same ID) = %v, want ErrConflict", err)
	}
	if err := st.InsertAPIKey(context.Background(), newAPIKey(newUser(7).UUID, 7)); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("InsertAPIKey(unknown user) = %v, want ErrNotFound", err)
	}
}

func testAPIKeyDelete(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	k := newAPIKey(a.UUID, 1)
	mustInsertAPIKeys(t, st, k)
	checkNotFound(t, "DeleteAPIKey(another's)", st.DeleteAPIKey(ctx, b.UUID, k.ID))
	if err := st.DeleteAPIKey(ctx, a.UUID, k.ID); err != nil {
		t.Fatal(err)
	}
	checkNotFound(t, "DeleteAPIKey(again)", st.DeleteAPIKey(ctx, a.UUID, k.ID))
	_, err := st.APIKeyByPrefix(ctx, k.Prefix)
	checkNotFound(t, "APIKeyByPrefix(deleted)", err)
}

func testAPIKeyRecordUse(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	k := newAPIKey(a.UUID, 1)
	mustInsertAPIKeys(t, st, k)
	at := t0.Add(3 * time.Hour)
	if err := st.RecordAPIKeyUse(ctx, k.ID, at, "203.0.113.9"); err != nil {
		t.Fatal(err)
	}
	got, err := st.APIKeyByPrefix(ctx, k.Prefix)
	if err != nil {
		t.Fatal(err)
	}
	k.LastUsedAt, k.LastUsedIP = &at, "203.0.113.9"
	checkAPIKey(t, "after RecordAPIKeyUse", got, k)
	checkNotFound(t, "RecordAPIKeyUse(unknown)", st.RecordAPIKeyUse(ctx, "ak-none", at, ""))
}

func testAPIKeyCascade(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	k := newAPIKey(a.UUID, 1)
	mustInsertAPIKeys(t, st, k)
	if err := st.DeleteUser(ctx, a.UUID); err != nil {
		t.Fatal(err)
	}
	_, err := st.APIKeyByPrefix(ctx, k.Prefix)
	checkNotFound(t, "APIKeyByPrefix(owner deleted)", err)
}

func testAPIKeyInTx(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	boom := errors.New("boom")
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ks, ok := tx.(keystore.Store)
		if !ok {
			return fmt.Errorf("the transaction's %T lacks keystore.Store", tx)
		}
		if err := ks.InsertAPIKey(ctx, newAPIKey(a.UUID, 1)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	_, err = st.APIKeyByPrefix(ctx, newAPIKey(a.UUID, 1).Prefix)
	checkNotFound(t, "APIKeyByPrefix(rolled back)", err)
}
