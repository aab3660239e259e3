package storetest

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

var concurrencyCases = []testCase{
	{"OneUsername", func(t *testing.T, st fullStore) {
		testRace(t, st, "username", func(u *usermgmt.User, i int) { u.Username = "contested" })
	}},
	{"OneEmailInManyCases", func(t *testing.T, st fullStore) {
		testRace(t, st, "email", func(u *usermgmt.User, i int) { u.Email = mixCase("contested@example.com", i) })
	}},
	{"OneRotation", testRotationRace},
}

// racers is how many goroutines contend in each race.
const racers = 20

// testRace runs racers InsertUsers at once whose users edit makes clash on
// field: exactly one wins, the others get a conflict on field.
func testRace(t *testing.T, st usermgmt.Store, field string, edit func(u *usermgmt.User, i int)) {
	ctx := context.Background()
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			u := newUser(i)
			edit(u, i)
			<-start
			errs[i] = st.InsertUser(ctx, u)
		}()
	}
	close(start)
	wg.Wait()

	wins := 0
	for i, err := range errs {
		if err == nil {
			wins++
			continue
		}
		checkConflict(t, fmt.Sprintf("racer %d", i), err, field)
	}
	if wins != 1 {
		t.Errorf("%d inserts succeeded, want exactly 1", wins)
	}
	if n, err := st.CountUsers(ctx); err != nil || n != 1 {
		t.Errorf("CountUsers = %d, %v; want 1", n, err)
	}
}

// mixCase upper-cases the letters of s selected by the bits of i.
func mixCase(s string, i int) string {
	var b strings.Builder
	for j, r := range s {
		if i>>(j%8)&1 == 1 {
			r = []rune(strings.ToUpper(string(r)))[0]
		}
		b.WriteRune(r)
	}
	return b.String()
}

// testRotationRace rotates one session from the same generation in racers
// goroutines: exactly one rotation applies.
func testRotationRace(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	mustInsertSessions(t, st, newSession("sess-1", u.UUID, 0))

	changed := make([]bool, racers)
	errs := make([]error, racers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			to := usermgmt.SessionRotation{
				Generation:  1,
				RefreshHash: []byte{byte(i)},
				RotatedAt:   t0.Add(time.Duration(i) * time.Second),
				ExpiresAt:   t0.Add(time.Hour),
			}
			<-start
			changed[i], errs[i] = st.RotateSession(ctx, "sess-1", 0, to)
		}()
	}
	close(start)
	wg.Wait()

	winner := -1
	for i := range racers {
		if errs[i] != nil {
			t.Errorf("racer %d: %v", i, errs[i])
		}
		if changed[i] {
			if winner >= 0 {
				t.Errorf("racers %d and %d both rotated generation 0", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no rotation applied")
	}
	s, err := st.SessionByID(ctx, "sess-1")
	if err != nil {
		t.Fatal(err)
	}
	if s.Generation != 1 || len(s.RefreshHash) != 1 || s.RefreshHash[0] != byte(winner) {
		t.Errorf("session %+v does not hold the winner's (%d) rotation", s, winner)
	}
}
