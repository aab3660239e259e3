package storetest

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

var userCases = []testCase{
	{"CreateAndGet", testCreateAndGet},
	{"FreshCopies", testFreshCopies},
	{"NilSlicesComeBackEmpty", testNilSlices},
	{"UpdateRoundTrip", testUpdateRoundTrip},
	{"Conflicts", testConflicts},
	{"UpdateConflicts", testUpdateConflicts},
	{"Delete", testDelete},
	{"ListOrderAndPages", testListUsers},
	{"ListOrderWithinASecond", testListSubSecond},
	{"ListLimits", testListLimits},
	{"UsersByUUIDs", testUsersByUUIDs},
	{"Count", testCount},
	{"TimesRoundTrip", testTimesRoundTrip},
	{"ContextCanceled", testContextCanceled},
}

func testCreateAndGet(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	u.Roles = []string{"user", "admin"}
	u.BlockedUUIDs = []string{newUser(7).UUID, newUser(8).UUID}
	u.OTPMethod = usermgmt.OTPAuthenticator
	u.OTPSecret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	u.IsExternalOnly = true
	u.EmailVerified = true
	mustInsertUsers(t, st, u)

	lookups := []struct {
		name string
		get  func() (*usermgmt.User, error)
	}{
		{"UserByUUID", func() (*usermgmt.User, error) { return st.UserByUUID(ctx, u.UUID) }},
		{"UserByUsername", func() (*usermgmt.User, error) { return st.UserByUsername(ctx, u.Username) }},
		{"UserByEmail", func() (*usermgmt.User, error) { return st.UserByEmail(ctx, u.Email) }},
		{"UserByEmail upper", func() (*usermgmt.User, error) { return st.UserByEmail(ctx, "USER001@EXAMPLE.COM") }},
		{"UserByEmail lower", func() (*usermgmt.User, error) { return st.UserByEmail(ctx, "user001@example.com") }},
	}
	for _, l := range lookups {
		got, err := l.get()
		if err != nil {
			t.Errorf("%s: %v", l.name, err)
			continue
		}
		checkUser(t, l.name, got, u)
	}

	misses := []struct {
		name string
		get  func() (*usermgmt.User, error)
	}{
		{"UserByUUID", func() (*usermgmt.User, error) { return st.UserByUUID(ctx, newUser(2).UUID) }},
		{"UserByUsername", func() (*usermgmt.User, error) { return st.UserByUsername(ctx, "user_002") }},
		{"UserByUsername other case", func() (*usermgmt.User, error) { return st.UserByUsername(ctx, "USER_001") }},
		{"UserByEmail", func() (*usermgmt.User, error) { return st.UserByEmail(ctx, "user002@example.com") }},
		{"UserByEmail prefix", func() (*usermgmt.User, error) { return st.UserByEmail(ctx, "user001@example") }},
	}
	for _, m := range misses {
		got, err := m.get()
		if got != nil {
			t.Errorf("%s: got %+v for a missing user", m.name, got)
		}
		checkNotFound(t, m.name, err)
	}
}

func testFreshCopies(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	u.Roles = []string{"user", "admin"}
	mustInsertUsers(t, st, u)
	want := wantUser(u)
	// The caller keeps and changes its own value after the insert.
	u.Roles[0] = "changed"
	*u.ProfilePictureID = 1

	a, err := st.UserByUUID(ctx, want.UUID)
	if err != nil {
		t.Fatal(err)
	}
	a.Roles[0] = "mutated"
	a.Username = "mutated"
	*a.ProfilePictureID = 2

	b, err := st.UserByUUID(ctx, want.UUID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, "second read", b, want)
}

func testNilSlices(t *testing.T, st fullStore) {
	u := newUser(1)
	u.Roles = nil
	u.BlockedUUIDs = nil
	u.ProfilePictureID = nil
	mustInsertUsers(t, st, u)
	got, err := st.UserByUUID(context.Background(), u.UUID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Roles == nil || len(got.Roles) != 0 || got.BlockedUUIDs == nil || len(got.BlockedUUIDs) != 0 {
		t.Errorf("Roles %#v, BlockedUUIDs %#v; want empty, non-nil", got.Roles, got.BlockedUUIDs)
	}
	if got.ProfilePictureID != nil {
		t.Errorf("ProfilePictureID = %d, want nil", *got.ProfilePictureID)
	}
}

func testUpdateRoundTrip(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u, newUser(2))

	changed := &usermgmt.User{
		UUID:             u.UUID,
		Username:         "renamed_user",
		DisplayName:      "Renamed_User",
		Email:            "New.Address@Example.org",
		EmailVerified:    !u.EmailVerified,
		PasswordHash:     "$2a$04$another",
		OTPMethod:        usermgmt.OTPEmail,
		OTPSecret:        "SECRETSECRETSECRETSECRETSECRETAB",
		Roles:            []string{"admin", "moderator"},
		Description:      "new description",
		IsExternalOnly:   true,
		IsActive:         false,
		BlockedUUIDs:     []string{newUser(2).UUID},
		ProfilePictureID: nil,
		CreatedAt:        u.CreatedAt.Add(-time.Hour),
		UpdatedAt:        u.UpdatedAt.Add(time.Hour + 123*time.Nanosecond),
	}
	if err := st.UpdateUser(ctx, changed); err != nil {
		t.Fatalf("UpdateUser: %v", err)
	}
	got, err := st.UserByUUID(ctx, u.UUID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, "after update", got, changed)

	if _, err := st.UserByUsername(ctx, u.Username); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("old username still found (err %v)", err)
	}
	if _, err := st.UserByEmail(ctx, u.Email); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("old email still found (err %v)", err)
	}
	if got, err := st.UserByEmail(ctx, "new.address@example.ORG"); err != nil || got.UUID != u.UUID {
		t.Errorf("UserByEmail(new address) = %v, %v", got, err)
	}
	// The other user is untouched.
	other, err := st.UserByUUID(ctx, newUser(2).UUID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, "other user", other, newUser(2))

	// Setting the picture again.
	pic := int64(42)
	changed.ProfilePictureID = &pic
	if err := st.UpdateUser(ctx, changed); err != nil {
		t.Fatal(err)
	}
	got, err = st.UserByUUID(ctx, u.UUID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, "after second update", got, changed)

	missing := newUser(3)
	checkNotFound(t, "UpdateUser(missing)", st.UpdateUser(ctx, missing))
	if n, _ := st.CountUsers(ctx); n != 2 {
		t.Errorf("UpdateUser of a missing user changed the count to %d", n)
	}
}

func testConflicts(t *testing.T, st fullStore) {
	ctx := context.Background()
	mustInsertUsers(t, st, newUser(1))
	existing := newUser(1)

	tests := []struct {
		name  string
		edit  func(u *usermgmt.User)
		field string
	}{
		{"same username", func(u *usermgmt.User) { u.Username = existing.Username }, "username"},
		{"same email", func(u *usermgmt.User) { u.Email = existing.Email }, "email"},
		{"email in other case", func(u *usermgmt.User) { u.Email = "uSeR001@eXaMpLe.CoM" }, "email"},
		{"same uuid", func(u *usermgmt.User) { u.UUID = existing.UUID }, "uuid"},
	}
	for i, tt := range tests {
		u := newUser(10 + i)
		tt.edit(u)
		checkConflict(t, tt.name, st.InsertUser(ctx, u), tt.field)
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
	got, err := st.UserByUUID(ctx, existing.UUID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, "existing user", got, existing)
}

func testUpdateConflicts(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)

	tests := []struct {
		name  string
		edit  func(u *usermgmt.User)
		field string
	}{
		{"username taken", func(u *usermgmt.User) { u.Username = a.Username }, "username"},
		{"email taken", func(u *usermgmt.User) { u.Email = a.Email }, "email"},
		{"email taken in other case", func(u *usermgmt.User) { u.Email = "USER001@example.com" }, "email"},
	}
	for _, tt := range tests {
		u := newUser(2)
		tt.edit(u)
		checkConflict(t, tt.name, st.UpdateUser(ctx, u), tt.field)
	}
	got, err := st.UserByUUID(ctx, b.UUID)
	if err != nil {
		t.Fatal(err)
	}
	checkUser(t, "user b", got, b)

	// A user may change the case of their own email.
	b.Email = "USER002@EXAMPLE.COM"
	if err := st.UpdateUser(ctx, b); err != nil {
		t.Errorf("changing the case of one's own email: %v", err)
	}
}

func testDelete(t *testing.T, st fullStore) {
	ctx := context.Background()
	u, other := newUser(1), newUser(2)
	mustInsertUsers(t, st, u, other)
	s1, s2, s3 := newSession("s1", u.UUID, 0), newSession("s2", u.UUID, 1), newSession("s3", other.UUID, 2)
	mustInsertSessions(t, st, s1, s2, s3)

	if err := st.DeleteUser(ctx, u.UUID); err != nil {
		t.Fatalf("DeleteUser: %v", err)
	}
	_, err := st.UserByUUID(ctx, u.UUID)
	checkNotFound(t, "UserByUUID after delete", err)
	for _, id := range []string{s1.ID, s2.ID} {
		_, err := st.SessionByID(ctx, id)
		checkNotFound(t, "SessionByID("+id+") after its user was deleted", err)
	}
	if _, err := st.SessionByID(ctx, s3.ID); err != nil {
		t.Errorf("another user's session: %v", err)
	}
	checkNotFound(t, "DeleteUser again", st.DeleteUser(ctx, u.UUID))

	// The username and the email are free again.
	again := newUser(3)
	again.Username, again.Email = u.Username, u.Email
	if err := st.InsertUser(ctx, again); err != nil {
		t.Errorf("reusing a deleted user's username and email: %v", err)
	}
	if n, _ := st.CountUsers(ctx); n != 2 {
		t.Errorf("CountUsers = %d, want 2", n)
	}
}

func testListUsers(t *testing.T, st fullStore) {
	ctx := context.Background()
	// Inserted out of order; users 3 and 4 share a creation time, so the
	// UUID decides between them.
	users := []*usermgmt.User{newUser(5), newUser(2), newUser(4), newUser(1), newUser(3)}
	users[2].CreatedAt = newUser(3).CreatedAt
	mustInsertUsers(t, st, users...)
	want := []string{newUser(1).UUID, newUser(2).UUID, newUser(3).UUID, newUser(4).UUID, newUser(5).UUID}

	tests := []struct {
		name string
		q    usermgmt.UserQuery
		want []string
	}{
		{"all", usermgmt.UserQuery{}, want},
		{"first page", usermgmt.UserQuery{Limit: 2}, want[:2]},
		{"second page", usermgmt.UserQuery{Offset: 2, Limit: 2}, want[2:4]},
		{"last page", usermgmt.UserQuery{Offset: 4, Limit: 2}, want[4:]},
		{"past the end", usermgmt.UserQuery{Offset: 5, Limit: 2}, nil},
		{"negative offset", usermgmt.UserQuery{Offset: -3, Limit: 3}, want[:3]},
		{"negative limit", usermgmt.UserQuery{Limit: -1}, want},
	}
	for _, tt := range tests {
		got, err := st.ListUsers(ctx, tt.q)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		if ids := uuidsOf(got); !slices.Equal(ids, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
		}
	}
	all, err := st.ListUsers(ctx, usermgmt.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	byUUID := map[string]*usermgmt.User{}
	for _, u := range users {
		byUUID[u.UUID] = u
	}
	for _, got := range all {
		checkUser(t, "listed "+got.Username, got, byUUID[got.UUID])
	}
}

func testListSubSecond(t *testing.T, st fullStore) {
	// Fractions of different lengths within one second, and the whole
	// second itself, inserted out of order.
	base := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	offsets := []time.Duration{
		500 * time.Millisecond, 0, 450 * time.Millisecond, 999999 * time.Microsecond,
		time.Microsecond, 50 * time.Millisecond, time.Second,
	}
	want := []string{newUser(1).UUID, newUser(4).UUID, newUser(5).UUID, newUser(2).UUID, newUser(0).UUID, newUser(3).UUID, newUser(6).UUID}
	for i, off := range offsets {
		u := newUser(i)
		u.CreatedAt = base.Add(off)
		mustInsertUsers(t, st, u)
	}
	got, err := st.ListUsers(context.Background(), usermgmt.UserQuery{})
	if err != nil {
		t.Fatal(err)
	}
	if ids := uuidsOf(got); !slices.Equal(ids, want) {
		t.Errorf("order %v, want %v", ids, want)
	}
}

func testListLimits(t *testing.T, st fullStore) {
	ctx := context.Background()
	const n = 1001
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		for i := range n {
			if err := tx.InsertUser(ctx, newUser(i)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		q    usermgmt.UserQuery
		want int
	}{
		{usermgmt.UserQuery{}, 100},
		{usermgmt.UserQuery{Limit: 1000}, 1000},
		{usermgmt.UserQuery{Limit: 5000}, 1000},
		{usermgmt.UserQuery{Offset: 1000, Limit: 5000}, 1},
	}
	for _, tt := range tests {
		got, err := st.ListUsers(ctx, tt.q)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != tt.want {
			t.Errorf("ListUsers(%+v) returned %d users, want %d", tt.q, len(got), tt.want)
		}
	}
	if c, err := st.CountUsers(ctx); err != nil || c != n {
		t.Errorf("CountUsers = %d, %v; want %d", c, err, n)
	}
}

func testUsersByUUIDs(t *testing.T, st fullStore) {
	ctx := context.Background()
	mustInsertUsers(t, st, newUser(1), newUser(2), newUser(3))
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"some", []string{newUser(3).UUID, "no-such-uuid", newUser(1).UUID}, []string{newUser(1).UUID, newUser(3).UUID}},
		{"duplicates", []string{newUser(2).UUID, newUser(2).UUID}, []string{newUser(2).UUID}},
		{"unknown only", []string{newUser(9).UUID}, nil},
		{"empty", []string{}, nil},
		{"nil", nil, nil},
	}
	for _, tt := range tests {
		got, err := st.UsersByUUIDs(ctx, tt.in)
		if err != nil {
			t.Errorf("%s: %v", tt.name, err)
			continue
		}
		ids := uuidsOf(got)
		slices.Sort(ids)
		if !slices.Equal(ids, tt.want) {
			t.Errorf("%s: got %v, want %v", tt.name, ids, tt.want)
		}
		for _, u := range got {
			if u.Username == "" || u.Email == "" {
				t.Errorf("%s: incomplete user %+v", tt.name, u)
			}
		}
	}
}

func testCount(t *testing.T, st fullStore) {
	ctx := context.Background()
	check := func(want int) {
		t.Helper()
		if n, err := st.CountUsers(ctx); err != nil || n != want {
			t.Errorf("CountUsers = %d, %v; want %d", n, err, want)
		}
	}
	check(0)
	mustInsertUsers(t, st, newUser(1), newUser(2), newUser(3))
	check(3)
	if err := st.DeleteUser(ctx, newUser(2).UUID); err != nil {
		t.Fatal(err)
	}
	check(2)
}

func testTimesRoundTrip(t *testing.T, st fullStore) {
	ctx := context.Background()
	times := []struct {
		name string
		t    time.Time
	}{
		{"nanoseconds in another zone", t0},
		{"exact microseconds", time.Date(2024, 2, 29, 23, 59, 59, 999999000, time.UTC)},
		{"whole second", time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)},
		{"negative zone", time.Date(2001, 9, 9, 1, 46, 40, 1000, time.FixedZone("UTC-9:30", -(9*3600+1800)))},
		{"unix epoch", time.Unix(0, 0)},
		{"far future", time.Date(2999, 12, 31, 23, 59, 59, 999999999, time.UTC)},
	}
	for i, tt := range times {
		u := newUser(i)
		u.CreatedAt, u.UpdatedAt = tt.t, tt.t.Add(time.Nanosecond)
		mustInsertUsers(t, st, u)
		got, err := st.UserByUUID(ctx, u.UUID)
		if err != nil {
			t.Fatal(err)
		}
		if !got.CreatedAt.Equal(stored(tt.t)) || !got.UpdatedAt.Equal(stored(tt.t.Add(time.Nanosecond))) {
			t.Errorf("%s: got %v / %v, want %v", tt.name, got.CreatedAt, got.UpdatedAt, stored(tt.t))
		}
		checkUTC(t, tt.name, got.CreatedAt)
	}
}

func testContextCanceled(t *testing.T, st fullStore) {
	mustInsertUsers(t, st, newUser(1))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := st.UserByUUID(ctx, newUser(1).UUID); !errors.Is(err, context.Canceled) {
		t.Errorf("UserByUUID with a canceled context: %v, want context.Canceled", err)
	}
	if err := st.InsertUser(ctx, newUser(2)); !errors.Is(err, context.Canceled) {
		t.Errorf("InsertUser with a canceled context: %v, want context.Canceled", err)
	}
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		t.Error("InTx ran fn with a canceled context")
		return nil
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("InTx with a canceled context: %v, want context.Canceled", err)
	}
	if n, err := st.CountUsers(context.Background()); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
}

func uuidsOf(users []*usermgmt.User) []string {
	var ids []string
	for _, u := range users {
		ids = append(ids, u.UUID)
	}
	return ids
}
