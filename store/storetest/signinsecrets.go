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
	"github.com/usermgmt/usermgmt/emaillogin/secretstore"
)

// The emaillogin feature's capability (secretstore.Store): one-time
// sign-in secrets.
var signinSecretCases = []testCase{
	{"RoundTrip", testSecretRoundTrip},
	{"NewestVoidsOlder", testSecretNewestVoidsOlder},
	{"NewestVoidsOlderParallel", testSecretPutParallel},
	{"Expiry", testSecretExpiry},
	{"TakenOnce", testSecretTakenOnce},
	{"Attempts", testSecretAttempts},
	{"AttemptsParallel", testSecretAttemptsParallel},
	{"DeleteOnce", testSecretDeleteOnce},
	{"SignUpAndCascade", testSecretSignUpCascade},
	{"InTx", testSecretInTx},
}

func newSecret(n int, kind, email, user string, expires time.Time) *secretstore.Secret {
	h := sha256.Sum256(fmt.Appendf(nil, "secret-%s-%d", kind, n))
	return &secretstore.Secret{ID: fmt.Sprintf("sec-%03d", n), Kind: kind, Email: email, UserUUID: user, Hash: h[:],
		RedirectURI: fmt.Sprintf("https://app.example.com/after/%d", n), CreatedAt: expires.Add(-15 * time.Minute), ExpiresAt: expires}
}

func checkSecret(t *testing.T, what string, got, want *secretstore.Secret) {
	t.Helper()
	if got == nil {
		t.Fatalf("%s: nil secret", what)
	}
	checkUTC(t, what+" CreatedAt", got.CreatedAt)
	checkUTC(t, what+" ExpiresAt", got.ExpiresAt)
	w := *want
	w.CreatedAt, w.ExpiresAt = stored(want.CreatedAt), stored(want.ExpiresAt)
	if !reflect.DeepEqual(got, &w) {
		t.Errorf("%s:\n got %+v\nwant %+v", what, got, &w)
	}
}

func mustPutSecrets(t *testing.T, st secretstore.Store, ss ...*secretstore.Secret) {
	t.Helper()
	for _, s := range ss {
		if err := st.PutSecret(context.Background(), s); err != nil {
			t.Fatalf("PutSecret(%s): %v", s.ID, err)
		}
	}
}

func wantNoSecret(t *testing.T, what string, s *secretstore.Secret, err error) {
	t.Helper()
	if !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("%s: %+v, %v; want ErrNotFound", what, s, err)
	}
}

func testSecretRoundTrip(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	link := newSecret(1, secretstore.KindLink, "a@example.com", a.UUID, t0.Add(time.Minute))
	code := newSecret(2, secretstore.KindCode, "a@example.com", a.UUID, t0.Add(time.Minute))
	code.RedirectURI, code.Attempts = "", 2
	mustPutSecrets(t, st, link, code)

	got, err := st.SecretByEmail(ctx, secretstore.KindCode, "a@example.com", t0)
	if err != nil {
		t.Fatal(err)
	}
	checkSecret(t, "SecretByEmail(code)", got, code)
	got, err = st.SecretByEmail(ctx, secretstore.KindLink, "a@example.com", t0)
	if err != nil {
		t.Fatal(err)
	}
	checkSecret(t, "SecretByEmail(link)", got, link)
	s, err := st.SecretByEmail(ctx, secretstore.KindLink, "b@example.com", t0)
	wantNoSecret(t, "SecretByEmail(other address)", s, err)

	// A hash is found only under its kind.
	s, err = st.TakeSecretByHash(ctx, secretstore.KindCode, link.Hash, t0)
	wantNoSecret(t, "TakeSecretByHash(link hash as a code)", s, err)
	got, err = st.TakeSecretByHash(ctx, secretstore.KindLink, link.Hash, t0)
	if err != nil {
		t.Fatal(err)
	}
	checkSecret(t, "TakeSecretByHash", got, link)
	s, err = st.TakeSecretByHash(ctx, secretstore.KindLink, link.Hash, t0)
	wantNoSecret(t, "second TakeSecretByHash", s, err)
	// The code is untouched by the link's take.
	if _, err := st.SecretByEmail(ctx, secretstore.KindCode, "a@example.com", t0); err != nil {
		t.Errorf("the code after the link was taken: %v", err)
	}
}

func testSecretNewestVoidsOlder(t *testing.T, st fullStore) {
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	mustInsertUsers(t, st, a, b)
	old := newSecret(1, secretstore.KindLink, "a@example.com", a.UUID, t0.Add(time.Minute))
	other := newSecret(2, secretstore.KindLink, "b@example.com", b.UUID, t0.Add(time.Minute))
	code := newSecret(3, secretstore.KindCode, "a@example.com", a.UUID, t0.Add(time.Minute))
	mustPutSecrets(t, st, old, other, code)
	if _, err := st.CountSecretAttempt(ctx, code.ID, 5, t0); err != nil {
		t.Fatal(err)
	}
	newer := newSecret(4, secretstore.KindLink, "a@example.com", a.UUID, t0.Add(2*time.Minute))
	newCode := newSecret(5, secretstore.KindCode, "a@example.com", a.UUID, t0.Add(2*time.Minute))
	mustPutSecrets(t, st, newer, newCode)

	s, err := st.TakeSecretByHash(ctx, secretstore.KindLink, old.Hash, t0)
	wantNoSecret(t, "the older link", s, err)
	got, err := st.SecretByEmail(ctx, secretstore.KindCode, "a@example.com", t0)
	if err != nil {
		t.Fatal(err)
	}
	checkSecret(t, "the newer code (its attempts start again)", got, newCode)
	for _, w := range []*secretstore.Secret{newer, other} {
		got, err := st.TakeSecretByHash(ctx, secretstore.KindLink, w.Hash, t0)
		if err != nil {
			t.Fatalf("take %s: %v", w.ID, err)
		}
		checkSecret(t, "take "+w.ID, got, w)
	}
}

// testSecretPutParallel: secrets stored at once for one address leave
// exactly one.
func testSecretPutParallel(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	const n = 8
	ss := make([]*secretstore.Secret, n)
	var wg sync.WaitGroup
	for i := range n {
		ss[i] = newSecret(i+1, secretstore.KindLink, "a@example.com", a.UUID, t0.Add(time.Minute))
		wg.Go(func() {
			if err := st.PutSecret(ctx, ss[i]); err != nil {
				t.Errorf("PutSecret: %v", err)
			}
		})
	}
	wg.Wait()
	found := 0
	for _, s := range ss {
		if _, err := st.TakeSecretByHash(ctx, secretstore.KindLink, s.Hash, t0); err == nil {
			found++
		} else if !errors.Is(err, usermgmt.ErrNotFound) {
			t.Fatal(err)
		}
	}
	if found != 1 {
		t.Errorf("%d of %d secrets stored at once for one address remain, want 1", found, n)
	}
}

func testSecretExpiry(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	exp := t0.Add(time.Minute)
	link := newSecret(1, secretstore.KindLink, "a@example.com", a.UUID, exp)
	code := newSecret(2, secretstore.KindCode, "a@example.com", a.UUID, exp)
	live := newSecret(3, secretstore.KindCode, "live@example.com", a.UUID, exp.Add(time.Hour))
	mustPutSecrets(t, st, link, code, live)

	s, err := st.SecretByEmail(ctx, secretstore.KindCode, "a@example.com", exp)
	wantNoSecret(t, "SecretByEmail at its expiry", s, err)
	n, err := st.CountSecretAttempt(ctx, code.ID, 5, exp)
	if !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("CountSecretAttempt at its expiry = %d, %v; want ErrNotFound", n, err)
	}
	s, err = st.TakeSecretByHash(ctx, secretstore.KindLink, link.Hash, exp)
	wantNoSecret(t, "TakeSecretByHash at its expiry", s, err)
	// The expired take removed it: even an earlier clock finds nothing.
	s, err = st.TakeSecretByHash(ctx, secretstore.KindLink, link.Hash, t0)
	wantNoSecret(t, "TakeSecretByHash after an expired take", s, err)

	removed, err := st.DeleteExpiredSecrets(ctx, exp)
	if err != nil || removed != 1 {
		t.Errorf("DeleteExpiredSecrets = %d, %v; want 1 (the code)", removed, err)
	}
	if _, err := st.SecretByEmail(ctx, secretstore.KindCode, "live@example.com", exp); err != nil {
		t.Errorf("a live secret after DeleteExpiredSecrets: %v", err)
	}
}

func testSecretTakenOnce(t *testing.T, st fullStore) {
	a := newUser(1)
	mustInsertUsers(t, st, a)
	s := newSecret(1, secretstore.KindLink, "a@example.com", a.UUID, t0.Add(time.Minute))
	mustPutSecrets(t, st, s)
	const n = 8
	wins := parallelWins(t, n, "TakeSecretByHash", func() error {
		_, err := st.TakeSecretByHash(context.Background(), secretstore.KindLink, s.Hash, t0)
		return err
	})
	if wins != 1 {
		t.Errorf("%d of %d parallel takes got the secret, want 1", wins, n)
	}
}

// parallelWins runs fn n times at once and returns how many calls
// succeeded; an error other than usermgmt.ErrNotFound fails t.
func parallelWins(t *testing.T, n int, what string, fn func() error) int {
	t.Helper()
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		wins int
	)
	for range n {
		wg.Go(func() {
			switch err := fn(); {
			case err == nil:
				mu.Lock()
				wins++
				mu.Unlock()
			case !errors.Is(err, usermgmt.ErrNotFound):
				t.Errorf("%s: %v", what, err)
			}
		})
	}
	wg.Wait()
	return wins
}

func testSecretAttempts(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	s := newSecret(1, secretstore.KindCode, "a@example.com", a.UUID, t0.Add(time.Minute))
	mustPutSecrets(t, st, s)
	for want := 1; want <= 3; want++ {
		got, err := st.CountSecretAttempt(ctx, s.ID, 3, t0)
		if err != nil || got != want {
			t.Fatalf("attempt %d: CountSecretAttempt = %d, %v", want, got, err)
		}
	}
	if got, err := st.CountSecretAttempt(ctx, s.ID, 3, t0); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("attempt beyond the limit: %d, %v; want ErrNotFound", got, err)
	}
	got, err := st.SecretByEmail(ctx, secretstore.KindCode, "a@example.com", t0)
	if err != nil || got.Attempts != 3 {
		t.Errorf("SecretByEmail after the attempts: %+v, %v; want Attempts 3", got, err)
	}
	if got, err := st.CountSecretAttempt(ctx, "sec-999", 3, t0); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Errorf("CountSecretAttempt(unknown) = %d, %v; want ErrNotFound", got, err)
	}
}

// testSecretAttemptsParallel: of parallel guesses at most the limit are
// counted.
func testSecretAttemptsParallel(t *testing.T, st fullStore) {
	a := newUser(1)
	mustInsertUsers(t, st, a)
	s := newSecret(1, secretstore.KindCode, "a@example.com", a.UUID, t0.Add(time.Minute))
	mustPutSecrets(t, st, s)
	const n, limit = 12, 5
	var (
		wg   sync.WaitGroup
		mu   sync.Mutex
		seen = map[int]bool{}
	)
	for range n {
		wg.Go(func() {
			got, err := st.CountSecretAttempt(context.Background(), s.ID, limit, t0)
			switch {
			case err == nil:
				mu.Lock()
				if seen[got] {
					t.Errorf("attempt count %d returned twice", got)
				}
				seen[got] = true
				mu.Unlock()
			case !errors.Is(err, usermgmt.ErrNotFound):
				t.Errorf("CountSecretAttempt: %v", err)
			}
		})
	}
	wg.Wait()
	if len(seen) != limit {
		t.Errorf("%d of %d parallel attempts counted, want %d", len(seen), n, limit)
	}
}

func testSecretDeleteOnce(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	s := newSecret(1, secretstore.KindCode, "a@example.com", a.UUID, t0.Add(time.Minute))
	mustPutSecrets(t, st, s)
	if ok, err := st.DeleteSecret(ctx, s.ID); err != nil || !ok {
		t.Fatalf("DeleteSecret = %v, %v; want true", ok, err)
	}
	if ok, err := st.DeleteSecret(ctx, s.ID); err != nil || ok {
		t.Errorf("second DeleteSecret = %v, %v; want false", ok, err)
	}
	got, err := st.SecretByEmail(ctx, secretstore.KindCode, "a@example.com", t0)
	wantNoSecret(t, "SecretByEmail after DeleteSecret", got, err)
}

// testSecretSignUpCascade: a sign-up link has no account; an account's
// secrets go with it.
func testSecretSignUpCascade(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	signup := newSecret(1, secretstore.KindLink, "new@example.com", "", t0.Add(time.Minute))
	mine := newSecret(2, secretstore.KindLink, "a@example.com", a.UUID, t0.Add(time.Minute))
	mustPutSecrets(t, st, signup, mine)
	if err := st.DeleteUser(ctx, a.UUID); err != nil {
		t.Fatal(err)
	}
	s, err := st.TakeSecretByHash(ctx, secretstore.KindLink, mine.Hash, t0)
	wantNoSecret(t, "the secret of a deleted user", s, err)
	got, err := st.TakeSecretByHash(ctx, secretstore.KindLink, signup.Hash, t0)
	if err != nil {
		t.Fatal(err)
	}
	checkSecret(t, "the sign-up link", got, signup)
}

// testSecretInTx: the transaction's Store has the capability, and a
// rollback leaves nothing.
func testSecretInTx(t *testing.T, st fullStore) {
	ctx := context.Background()
	a := newUser(1)
	mustInsertUsers(t, st, a)
	boom := errors.New("boom")
	err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
		ss, ok := tx.(secretstore.Store)
		if !ok {
			t.Fatalf("the transaction's Store (%T) lacks secretstore.Store", tx)
		}
		if err := ss.PutSecret(ctx, newSecret(1, secretstore.KindCode, "a@example.com", a.UUID, t0.Add(time.Minute))); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("InTx = %v, want boom", err)
	}
	s, err := st.SecretByEmail(ctx, secretstore.KindCode, "a@example.com", t0)
	wantNoSecret(t, "after a rollback", s, err)
}
