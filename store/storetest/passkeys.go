package storetest

import (
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/passkey/credstore"
)

// The passkey feature's capability (credstore.Store).
var passkeyCases = []testCase{
	{"RoundTrip", testPasskeyRoundTrip},
	{"CredentialIDUnique", testPasskeyCredentialIDUnique},
	{"RenameAndDelete", testPasskeyRenameDelete},
	{"RecordUse", testPasskeyRecordUse},
	{"RecordUseRace", testPasskeyRecordUseRace},
	{"Cascade", testPasskeyCascade},
	{"InTx", testPasskeyInTx},
	{"Ceremonies", testPasskeyCeremonies},
	{"CeremonyTakenOnce", testPasskeyCeremonyTakenOnce},
}

func newPasskey(user string, n int) *credstore.Passkey {
	return &credstore.Passkey{
		ID: fmt.Sprintf("pk-%03d", n), UserUUID: user, CredentialID: []byte{0, 255, byte(n), 7},
		Name: fmt.Sprintf("key %d", n), PublicKey: []byte{0xa5, 1, 2, byte(n)}, SignCount: uint32(n),
		AAGUID: []byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, byte(n)}, Transports: []string{"usb", "hybrid"},
		AttestationFormat: "none", UserVerified: n%2 == 0, BackupEligible: true, BackedUp: n%3 == 0,
		CreatedAt: t0.Add(time.Duration(n) * time.Minute),
	}
}

// wantPasskey is p as a store returns it.
func wantPasskey(p *credstore.Passkey) *credstore.Passkey {
	w := *p
	w.CreatedAt = stored(p.CreatedAt)
	if p.LastUsedAt != nil {
		at := stored(*p.LastUsedAt)
		w.LastUsedAt = &at
	}
	if w.Transports == nil {
		w.Transports = []string{}
	}
	return &w
}

func checkPasskey(t *testing.T, what string, got, want *credstore.Passkey) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil passkey", what)
	}
	checkUTC(t, what+" CreatedAt", got.CreatedAt)
	if got.LastUsedAt != nil {
		checkUTC(t, what+" LastUsedAt", *got.LastUsedAt)
	}
	if w := wantPasskey(want); !reflect.DeepEqual(got, w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, w)
	}
}

func mustInsertPasskeys(t *testing.T, st credstore.Store, ps ...*credstore.Passkey) {
	t.Helper()
	for _, p := range ps {
		if err := st.InsertPasskey(context.Background(), p); err != nil {
			t.Fatalf("InsertPasskey(%s): %v", p.ID, err)
		}
	}
}

func testPasskeyRoundTrip(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	p1, p2, p3 := newPasskey(a.UUID, 2), newPasskey(a.UUID, 1), newPasskey(b.UUID, 3)
	p2.Transports = nil
	mustInsertPasskeys(t, st, p1, p2, p3)

	got, err := st.PasskeyByCredentialID(ctx, p1.CredentialID)
	if err != nil {
		t.Fatal(err)
	}
	checkPasskey(t, "PasskeyByCredentialID", got, p1)
	if _, err := st.PasskeyByCredentialID(ctx, []byte("unknown")); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("PasskeyByCredentialID(unknown) = %v, want ErrNotFound", err)
	}

	list, err := st.PasskeysByUser(ctx, a.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 {
		t.Fatalf("PasskeysByUser: %d passkeys, want 2", len(list))
	}
	checkPasskey(t, "PasskeysByUser[0] (oldest)", list[0], p2)
	checkPasskey(t, "PasskeysByUser[1]", list[1], p1)
	none, err := st.PasskeysByUser(ctx, newUser(9).UUID)
	if err != nil || none == nil || len(none) != 0 {
		t.Errorf("PasskeysByUser(no passkeys) = %v, %v; want an empty slice", none, err)
	}
}

func testPasskeyCredentialIDUnique(t *testing.T, st fullStore) {
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	mustInsertPasskeys(t, st, newPasskey(a.UUID, 1))
	dup := newPasskey(b.UUID, 1)
	dup.ID = "pk-other"
	if err := st.InsertPasskey(context.Background(), dup); !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("InsertPasskey(same credential ID) = %v, want ErrConflict", err)
	}
	same := newPasskey(a.UUID, 2)
	same.ID = "pk-001"
	if err := st.InsertPasskey(context.Background(), same); !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("InsertPasskey(same ID) = %v, want ErrConflict", err)
	}
	if err := st.InsertPasskey(context.Background(), newPasskey(newUser(7).UUID, 7)); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("InsertPasskey(unknown user) = %v, want ErrNotFound", err)
	}
}

func testPasskeyRenameDelete(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	p := newPasskey(a.UUID, 1)
	mustInsertPasskeys(t, st, p)
	if err := st.RenamePasskey(ctx, b.UUID, p.ID, "stolen"); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("RenamePasskey(another user) = %v, want ErrNotFound", err)
	}
	if err := st.RenamePasskey(ctx, a.UUID, p.ID, "laptop"); err != nil {
		t.Fatal(err)
	}
	p.Name = "laptop"
	got, err := st.PasskeyByCredentialID(ctx, p.CredentialID)
	if err != nil {
		t.Fatal(err)
	}
	checkPasskey(t, "after rename", got, p)
	if err := st.DeletePasskey(ctx, b.UUID, p.ID); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("DeletePasskey(another user) = %v, want ErrNotFound", err)
	}
	if err := st.DeletePasskey(ctx, a.UUID, p.ID); err != nil {
		t.Fatal(err)
	}
	if err := st.DeletePasskey(ctx, a.UUID, p.ID); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("DeletePasskey(twice) = %v, want ErrNotFound", err)
	}
	if err := st.RenamePasskey(ctx, a.UUID, p.ID, "x"); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("RenamePasskey(deleted) = %v, want ErrNotFound", err)
	}
}

func testPasskeyRecordUse(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	p := newPasskey(a.UUID, 1) // counter 1, UV false, BS false
	zero := newPasskey(a.UUID, 2)
	zero.SignCount, zero.UserVerified = 0, true
	mustInsertPasskeys(t, st, p, zero)
	at := t0.Add(time.Hour)

	for _, c := range []struct {
		name  string
		count uint32
		want  bool
	}{{"same counter", 1, false}, {"lower counter", 0, false}, {"higher counter", 5, true}, {"replayed counter", 5, false}} {
		ok, err := st.RecordPasskeyUse(ctx, credstore.PasskeyUse{ID: p.ID, SignCount: c.count, BackedUp: true, UserVerified: true, UsedAt: at})
		if err != nil || ok != c.want {
			t.Errorf("RecordPasskeyUse(%s) = %v, %v; want %v", c.name, ok, err, c.want)
		}
	}
	p.SignCount, p.BackedUp, p.UserVerified, p.LastUsedAt = 5, true, true, &at
	got, err := st.PasskeyByCredentialID(ctx, p.CredentialID)
	if err != nil {
		t.Fatal(err)
	}
	checkPasskey(t, "after use", got, p)

	// An authenticator without a counter (always 0) is recorded each time;
	// UserVerified, once true, stays true.
	for i := range 2 {
		ok, err := st.RecordPasskeyUse(ctx, credstore.PasskeyUse{ID: zero.ID, SignCount: 0, UsedAt: at.Add(time.Duration(i) * time.Second)})
		if err != nil || !ok {
			t.Errorf("RecordPasskeyUse(zero counter, #%d) = %v, %v; want true", i, ok, err)
		}
	}
	last := at.Add(time.Second)
	zero.LastUsedAt, zero.BackedUp = &last, false
	got, err = st.PasskeyByCredentialID(ctx, zero.CredentialID)
	if err != nil {
		t.Fatal(err)
	}
	checkPasskey(t, "zero counter after use", got, zero)
	if ok, err := st.RecordPasskeyUse(ctx, credstore.PasskeyUse{ID: "pk-gone", SignCount: 9, UsedAt: at}); ok || !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("RecordPasskeyUse(unknown) = %v, %v; want false, ErrNotFound", ok, err)
	}
}

// testPasskeyRecordUseRace: of parallel assertions with the same counter,
// exactly one is recorded.
func testPasskeyRecordUseRace(t *testing.T, st fullStore) {
	a := newUser(1)
	mustInsertUsers(t, st, a)
	p := newPasskey(a.UUID, 1)
	mustInsertPasskeys(t, st, p)
	const n = 8
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range n {
		wg.Go(func() {
			ok, err := st.RecordPasskeyUse(context.Background(), credstore.PasskeyUse{ID: p.ID, SignCount: 2, UsedAt: t0})
			if err != nil {
				t.Errorf("RecordPasskeyUse: %v", err)
			}
			if ok {
				mu.Lock()
				wins++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	if wins != 1 {
		t.Errorf("%d of %d parallel uses with the same counter were recorded, want 1", wins, n)
	}
}

func testPasskeyCascade(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	p := newPasskey(a.UUID, 1)
	mustInsertPasskeys(t, st, p)
	if err := st.DeleteUser(ctx, a.UUID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.PasskeyByCredentialID(ctx, p.CredentialID); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("passkey of a deleted user: %v, want ErrNotFound", err)
	}
}

// testPasskeyInTx: the transaction's Store has the capability, and a
// rollback leaves nothing.
func testPasskeyInTx(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	boom := errors.New("boom")
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ps, ok := tx.(credstore.Store)
		if !ok {
			t.Fatalf("the transaction's Store (%T) lacks credstore.Store", tx)
		}
		if err := ps.InsertPasskey(ctx, newPasskey(a.UUID, 1)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	if ps, err := st.PasskeysByUser(ctx, a.UUID); err != nil || len(ps) != 0 {
		t.Errorf("after a rollback: %d passkeys, %v; want none", len(ps), err)
	}
}

func newCeremony(n int, kind, user string, expires time.Time) *credstore.Ceremony {
	h := sha256.Sum256(fmt.Appendf(nil, "ceremony-%d", n))
	return &credstore.Ceremony{IDHash: h[:], Kind: kind, UserUUID: user, Session: fmt.Appendf(nil, `{"challenge":"c%d"}`, n),
		CreatedAt: expires.Add(-5 * time.Minute), ExpiresAt: expires}
}

func testPasskeyCeremonies(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	live := newCeremony(1, credstore.KindRegister, a.UUID, t0.Add(5*time.Minute))
	old := newCeremony(2, credstore.KindLogin, "", t0)
	older := newCeremony(3, credstore.KindLogin, "", t0.Add(-time.Minute))
	for _, c := range []*credstore.Ceremony{live, old, older} {
		if err := st.InsertCeremony(ctx, c); err != nil {
			t.Fatalf("InsertCeremony: %v", err)
		}
	}
	if err := st.InsertCeremony(ctx, newCeremony(1, credstore.KindLogin, "", t0)); !errors.Is(err, usermgmt.ErrConflict) {
		t.Errorf("InsertCeremony(same ID) = %v, want ErrConflict", err)
	}
	// Expired at now: not taken, and gone.
	if _, err := st.TakeCeremony(ctx, old.IDHash, t0); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("TakeCeremony(expired) = %v, want ErrNotFound", err)
	}
	if n, err := st.DeleteExpiredCeremonies(ctx, t0); err != nil || n != 1 {
		t.Errorf("DeleteExpiredCeremonies = %d, %v; want 1 (the expired one not yet taken)", n, err)
	}
	got, err := st.TakeCeremony(ctx, live.IDHash, t0)
	if err != nil {
		t.Fatal(err)
	}
	want := *live
	want.CreatedAt, want.ExpiresAt = stored(live.CreatedAt), stored(live.ExpiresAt)
	checkUTC(t, "CreatedAt", got.CreatedAt)
	checkUTC(t, "ExpiresAt", got.ExpiresAt)
	if !reflect.DeepEqual(got, &want) {
		t.Errorf("TakeCeremony:\n got %+v\nwant %+v", got, &want)
	}
	if _, err := st.TakeCeremony(ctx, live.IDHash, t0); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("TakeCeremony(twice) = %v, want ErrNotFound", err)
	}
}

// testPasskeyCeremonyTakenOnce: of parallel takes (two instances finishing
// one ceremony), exactly one gets it.
func testPasskeyCeremonyTakenOnce(t *testing.T, st fullStore) {
	c := newCeremony(1, credstore.KindLogin, "", t0.Add(time.Minute))
	if err := st.InsertCeremony(context.Background(), c); err != nil {
		t.Fatal(err)
	}
	const n = 8
	wins := parallelWins(t, n, "TakeCeremony", func() error {
		_, err := st.TakeCeremony(context.Background(), c.IDHash, t0)
		return err
	})
	if wins != 1 {
		t.Errorf("%d of %d parallel takes got the ceremony, want 1", wins, n)
	}
}
