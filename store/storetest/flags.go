package storetest

import (
	"context"
	"encoding/json"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

var flagCases = []testCase{
	{"PutDeleteAndVersion", testFlags},
}

var lockoutCases = []testCase{
	{"CountWindowLockClear", testLockout},
	{"ParallelCountsAreExact", testLockoutParallel},
	{"UnknownUser", func(t *testing.T, st fullStore) {
		_, err := st.CountLoginAttempt(context.Background(), newUser(9).UUID, t0, t0.Add(-time.Minute))
		checkNotFound(t, "CountLoginAttempt of no user", err)
	}},
}

func testFlags(t *testing.T, st fullStore) {
	ctx := context.Background()
	v0, err := st.FeatureFlagsVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	set, err := st.FeatureFlags(ctx)
	if err != nil || len(set) != 0 {
		t.Fatalf("FeatureFlags of a new store = %v, %v", set, err)
	}
	half := 0.5
	if err := st.PutFeatureFlag(ctx, "A", usermgmt.BoolFlag(false), t0); err != nil {
		t.Fatal(err)
	}
	if err := st.PutFeatureFlag(ctx, "B", usermgmt.RuleFlag(usermgmt.FlagRule{PercentageOfUsers: &half, UserRoles: []string{"admin"}}), t0); err != nil {
		t.Fatal(err)
	}
	if err := st.PutFeatureFlag(ctx, "A", usermgmt.BoolFlag(true), t0); err != nil { // replaces
		t.Fatal(err)
	}
	if err := st.PutFeatureFlag(ctx, "C", usermgmt.RuleFlag(), t0); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteFeatureFlag(ctx, "C"); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteFeatureFlag(ctx, "missing"); err != nil {
		t.Fatalf("DeleteFeatureFlag of a missing flag: %v", err)
	}
	set, err = st.FeatureFlags(ctx)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := json.Marshal(set)
	if want := `{"A":true,"B":[{"percentageOfUsers":0.5,"userRoles":["admin"]}]}`; string(got) != want {
		t.Errorf("FeatureFlags = %s, want %s", got, want)
	}
	for i := int64(1); i <= 3; i++ {
		v, err := st.BumpFeatureFlagsVersion(ctx)
		if err != nil || v != v0+i {
			t.Fatalf("BumpFeatureFlagsVersion = %d, %v; want %d", v, err, v0+i)
		}
	}
	if v, err := st.FeatureFlagsVersion(ctx); err != nil || v != v0+3 {
		t.Fatalf("FeatureFlagsVersion = %d, %v; want %d", v, err, v0+3)
	}
}

func testLockout(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	count := func(now time.Time, want int) usermgmt.LoginAttempts {
		t.Helper()
		a, err := st.CountLoginAttempt(ctx, u.UUID, now, now.Add(-10*time.Minute))
		if err != nil {
			t.Fatal(err)
		}
		if a.Failures != want {
			t.Fatalf("failures = %d, want %d", a.Failures, want)
		}
		checkUTC(t, "WindowStart", a.WindowStart)
		return a
	}
	a := count(t0, 1)
	if !a.WindowStart.Equal(stored(t0)) || !a.LockedUntil.IsZero() {
		t.Fatalf("first attempt: %+v", a)
	}
	count(t0.Add(time.Minute), 2)
	count(t0.Add(2*time.Minute), 3)
	// Past the window the count restarts.
	a = count(t0.Add(11*time.Minute), 1)
	if !a.WindowStart.Equal(stored(t0.Add(11 * time.Minute))) {
		t.Fatalf("window start %v", a.WindowStart)
	}
	// Locked: attempts are not counted while the lock lasts.
	until := t0.Add(30 * time.Minute)
	if err := st.LockAccount(ctx, u.UUID, until); err != nil {
		t.Fatal(err)
	}
	a = count(t0.Add(12*time.Minute), 0)
	if !a.LockedUntil.Equal(stored(until)) {
		t.Fatalf("locked until %v, want %v", a.LockedUntil, stored(until))
	}
	count(t0.Add(13*time.Minute), 0)
	// After the lock, counting goes on from zero.
	count(t0.Add(31*time.Minute), 1)
	if err := st.ClearLoginFailures(ctx, u.UUID); err != nil {
		t.Fatal(err)
	}
	a = count(t0.Add(32*time.Minute), 1)
	if !a.LockedUntil.IsZero() {
		t.Fatalf("cleared account still locked: %+v", a)
	}
	// Deleting the user deletes the counter.
	if err := st.DeleteUser(ctx, u.UUID); err != nil {
		t.Fatal(err)
	}
}

func testLockoutParallel(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	const n = 50
	seen := make([]bool, n+1)
	var mu sync.Mutex
	var wg sync.WaitGroup
	for range n {
		wg.Go(func() {
			a, err := st.CountLoginAttempt(ctx, u.UUID, t0, t0.Add(-time.Hour))
			if err != nil {
				t.Error(err)
				return
			}
			mu.Lock()
			defer mu.Unlock()
			if a.Failures < 1 || a.Failures > n || seen[a.Failures] {
				t.Errorf("count %d returned twice or out of range", a.Failures)
				return
			}
			seen[a.Failures] = true
		})
	}
	wg.Wait()
}
