package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"slices"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

var sessionCases = []testCase{
	{"InsertAndGet", testInsertSession},
	{"RotateCompareAndSwap", testRotateSession},
	{"Revoke", testRevokeSession},
	{"RevokeUserSessions", testRevokeUserSessions},
	{"SessionsByUser", testSessionsByUser},
}

// newSession returns a session of user created n minutes after t0, valid
// for 30 days.
func newSession(id, user string, n int) *usermgmt.Session {
	h := sha256.Sum256([]byte("refresh " + id))
	created := t0.Add(time.Duration(n) * time.Minute)
	return &usermgmt.Session{
		ID:              id,
		UserUUID:        user,
		Generation:      0,
		RefreshHash:     h[:],
		PrevRefreshHash: nil,
		SealedSuccessor: []byte("sealed " + id),
		CreatedAt:       created,
		RotatedAt:       created,
		ExpiresAt:       created.Add(30 * 24 * time.Hour),
		IP:              "203.0.113.7",
		UserAgent:       "storetest/1.0",
	}
}

func mustInsertSessions(t *testing.T, st usermgmt.Store, sessions ...*usermgmt.Session) {
	t.Helper()
	for _, s := range sessions {
		if err := st.InsertSession(context.Background(), s); err != nil {
			t.Fatalf("InsertSession(%s): %v", s.ID, err)
		}
	}
}

// checkSession fails t unless got is want as stored. Byte slices compare by
// content (nil and empty are the same).
func checkSession(t *testing.T, what string, got, want *usermgmt.Session) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: got nil session", what)
	}
	for _, tm := range []time.Time{got.CreatedAt, got.RotatedAt, got.ExpiresAt} {
		checkUTC(t, what, tm)
	}
	if got.RevokedAt != nil {
		checkUTC(t, what+" RevokedAt", *got.RevokedAt)
	}
	ok := got.ID == want.ID && got.UserUUID == want.UserUUID && got.Generation == want.Generation &&
		bytes.Equal(got.RefreshHash, want.RefreshHash) &&
		bytes.Equal(got.PrevRefreshHash, want.PrevRefreshHash) &&
		bytes.Equal(got.SealedSuccessor, want.SealedSuccessor) &&
		got.CreatedAt.Equal(stored(want.CreatedAt)) &&
		got.RotatedAt.Equal(stored(want.RotatedAt)) &&
		got.ExpiresAt.Equal(stored(want.ExpiresAt)) &&
		(got.RevokedAt == nil) == (want.RevokedAt == nil) &&
		(got.RevokedAt == nil || got.RevokedAt.Equal(stored(*want.RevokedAt))) &&
		got.IP == want.IP && got.UserAgent == want.UserAgent
	if !ok {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, want)
	}
}

func testInsertSession(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	s := newSession("sess-1", u.UUID, 0)
	s.PrevRefreshHash = []byte{0, 1, 2, 255}
	mustInsertSessions(t, st, s)

	got, err := st.SessionByID(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSession(t, "SessionByID", got, s)
	// A fresh copy: changing it changes nothing stored.
	got.RefreshHash[0] ^= 0xff
	again, err := st.SessionByID(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSession(t, "second read", again, s)

	_, err = st.SessionByID(ctx, "no-such-session")
	checkNotFound(t, "SessionByID(missing)", err)

	checkConflict(t, "duplicate session ID", st.InsertSession(ctx, newSession(s.ID, u.UUID, 5)), "id")
	checkNotFound(t, "session of a missing user", st.InsertSession(ctx, newSession("sess-2", newUser(2).UUID, 0)))

	// A revoked session is stored and returned as such.
	at := t0.Add(time.Hour)
	r := newSession("sess-3", u.UUID, 1)
	r.RevokedAt = &at
	mustInsertSessions(t, st, r)
	got, err = st.SessionByID(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSession(t, "revoked session", got, r)
}

func testRotateSession(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	s := newSession("sess-1", u.UUID, 0)
	mustInsertSessions(t, st, s)

	rotation := func(gen int64) usermgmt.SessionRotation {
		h := sha256.Sum256([]byte{byte(gen)})
		return usermgmt.SessionRotation{
			Generation:      gen,
			RefreshHash:     h[:],
			PrevRefreshHash: []byte{byte(gen - 1)},
			SealedSuccessor: []byte{0xAA, byte(gen)},
			RotatedAt:       t0.Add(time.Duration(gen) * time.Hour),
			ExpiresAt:       t0.Add(time.Duration(gen)*time.Hour + 30*24*time.Hour),
		}
	}
	apply := func(s *usermgmt.Session, r usermgmt.SessionRotation) *usermgmt.Session {
		c := *s
		c.Generation, c.RefreshHash, c.PrevRefreshHash, c.SealedSuccessor = r.Generation, r.RefreshHash, r.PrevRefreshHash, r.SealedSuccessor
		c.RotatedAt, c.ExpiresAt = r.RotatedAt, r.ExpiresAt
		return &c
	}

	steps := []struct {
		name    string
		id      string
		from    int64
		to      usermgmt.SessionRotation
		changed bool
	}{
		{"first rotation", s.ID, 0, rotation(1), true},
		{"stale generation", s.ID, 0, rotation(9), false},
		{"second rotation", s.ID, 1, rotation(2), true},
		{"replay of the first", s.ID, 1, rotation(8), false},
		{"future generation", s.ID, 3, rotation(7), false},
		{"missing session", "no-such-session", 0, rotation(1), false},
	}
	want := s
	for _, step := range steps {
		changed, err := st.RotateSession(ctx, step.id, step.from, step.to)
		if err != nil {
			t.Fatalf("%s: %v", step.name, err)
		}
		if changed != step.changed {
			t.Errorf("%s: changed = %v, want %v", step.name, changed, step.changed)
		}
		if changed {
			want = apply(want, step.to)
		}
		got, err := st.SessionByID(ctx, s.ID)
		if err != nil {
			t.Fatal(err)
		}
		checkSession(t, step.name, got, want)
	}

	// A revoked session never rotates.
	if err := st.RevokeSession(ctx, s.ID, t0.Add(5*time.Hour)); err != nil {
		t.Fatal(err)
	}
	changed, err := st.RotateSession(ctx, s.ID, 2, rotation(3))
	if err != nil || changed {
		t.Errorf("rotating a revoked session: changed %v, err %v; want false, nil", changed, err)
	}
	got, err := st.SessionByID(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Generation != 2 {
		t.Errorf("revoked session rotated to generation %d", got.Generation)
	}
}

func testRevokeSession(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	s, other := newSession("sess-1", u.UUID, 0), newSession("sess-2", u.UUID, 1)
	mustInsertSessions(t, st, s, other)

	first := t0.Add(time.Hour)
	if err := st.RevokeSession(ctx, s.ID, first); err != nil {
		t.Fatal(err)
	}
	if err := st.RevokeSession(ctx, s.ID, first.Add(time.Hour)); err != nil {
		t.Errorf("revoking a revoked session: %v, want nil", err)
	}
	got, err := st.SessionByID(ctx, s.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := *s
	want.RevokedAt = &first
	checkSession(t, "revoked session keeps its first revocation time", got, &want)
	if got.Active(first) {
		t.Error("revoked session is Active")
	}

	got, err = st.SessionByID(ctx, other.ID)
	if err != nil {
		t.Fatal(err)
	}
	checkSession(t, "other session", got, other)

	checkNotFound(t, "RevokeSession(missing)", st.RevokeSession(ctx, "no-such-session", first))
}

func testRevokeUserSessions(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	earlier := t0.Add(-time.Hour)
	revoked := newSession("a-revoked", a.UUID, 0)
	revoked.RevokedAt = &earlier
	mustInsertSessions(t, st,
		newSession("a-1", a.UUID, 1), newSession("a-2", a.UUID, 2), revoked,
		newSession("b-1", b.UUID, 3))

	at := t0.Add(2 * time.Hour)
	ids, err := st.RevokeUserSessions(ctx, a.UUID, at)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(ids)
	if want := []string{"a-1", "a-2"}; !slices.Equal(ids, want) {
		t.Errorf("RevokeUserSessions returned %v, want %v", ids, want)
	}
	wantRevokedAt := map[string]time.Time{"a-1": at, "a-2": at, "a-revoked": earlier}
	for id, wantAt := range wantRevokedAt {
		s, err := st.SessionByID(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if s.RevokedAt == nil || !s.RevokedAt.Equal(stored(wantAt)) {
			t.Errorf("%s: RevokedAt %v, want %v", id, s.RevokedAt, stored(wantAt))
		}
	}
	if s, err := st.SessionByID(ctx, "b-1"); err != nil || s.RevokedAt != nil {
		t.Errorf("another user's session: %+v, %v; want not revoked", s, err)
	}

	ids, err = st.RevokeUserSessions(ctx, a.UUID, at)
	if err != nil || len(ids) != 0 {
		t.Errorf("second RevokeUserSessions = %v, %v; want none", ids, err)
	}
	ids, err = st.RevokeUserSessions(ctx, newUser(9).UUID, at)
	if err != nil || len(ids) != 0 {
		t.Errorf("RevokeUserSessions(unknown user) = %v, %v; want none", ids, err)
	}
}

func testSessionsByUser(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	now := t0.Add(24 * time.Hour)

	old, recent := newSession("a-old", a.UUID, 1), newSession("a-recent", a.UUID, 60)
	expired := newSession("a-expired", a.UUID, 30)
	expired.ExpiresAt = now.Add(-time.Microsecond)
	expiresNow := newSession("a-expires-now", a.UUID, 31)
	expiresNow.ExpiresAt = now
	revokedAt := t0.Add(time.Hour)
	revoked := newSession("a-revoked", a.UUID, 40)
	revoked.RevokedAt = &revokedAt
	mustInsertSessions(t, st, old, recent, expired, expiresNow, revoked, newSession("b-1", b.UUID, 50))

	got, err := st.SessionsByUser(ctx, a.UUID, now)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 2 {
		t.Fatalf("SessionsByUser returned %d sessions, want 2 (%+v)", len(got), got)
	}
	checkSession(t, "newest first", got[0], recent)
	checkSession(t, "then older", got[1], old)

	later, err := st.SessionsByUser(ctx, a.UUID, recent.ExpiresAt)
	if err != nil || len(later) != 0 {
		t.Errorf("SessionsByUser after every expiry = %v, %v; want none", later, err)
	}
	none, err := st.SessionsByUser(ctx, newUser(9).UUID, now)
	if err != nil || len(none) != 0 {
		t.Errorf("SessionsByUser(unknown user) = %v, %v; want none", none, err)
	}
}
