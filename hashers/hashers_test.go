package hashers

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

// vector is one line of testdata/vectors.tsv, made by testdata/gen.sh with
// tools independent of this package.
type vector struct{ format, password, hash string }

func readVectors(t testing.TB) []vector {
	t.Helper()
	f, err := os.Open("testdata/vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var vs []vector
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 3 {
			t.Fatalf("bad vector line %q", sc.Text())
		}
		v := vector{p[0], p[1], p[2]}
		if v.format == SchemeFirebaseScrypt {
			v.hash = firebaseFromExport(t, v.hash)
		}
		vs = append(vs, v)
	}
	return vs
}

// firebaseFromExport turns gen.sh's Firebase fields (what its console and
// export show) into the stored form, through FirebaseParams.Encode.
func firebaseFromExport(t testing.TB, s string) string {
	t.Helper()
	get := func(k string) string {
		for _, f := range strings.Split(s, ";") {
			if strings.HasPrefix(f, k+"=") {
				return f[len(k)+1:]
			}
		}
		t.Fatalf("no %s in %q", k, s)
		return ""
	}
	var rounds, memcost int
	if _, err := fmt.Sscan(get("rounds"), &rounds); err != nil {
		t.Fatal(err)
	}
	if _, err := fmt.Sscan(get("memcost"), &memcost); err != nil {
		t.Fatal(err)
	}
	enc, err := FirebaseParams{SignerKey: get("signer"), SaltSeparator: get("separator"), Rounds: rounds, MemCost: memcost}.
		Encode(get("salt"), get("hash"))
	if err != nil {
		t.Fatal(err)
	}
	return enc
}

func newTest(t testing.TB, o Options) *Hasher {
	t.Helper()
	h, err := New(o)
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// Every hash made by an independent tool verifies with its password, and
// not with another; each is in the scheme its tool names, and needs a
// rehash to argon2id unless it is one of the current parameters.
func TestIndependentVectors(t *testing.T) {
	ctx := context.Background()
	h := newTest(t, Options{Algorithm: Argon2id, MaxConcurrent: 2})
	vs := readVectors(t)
	seen := map[string]int{}
	for _, v := range vs {
		seen[v.format]++
		if err := h.ValidateHash(v.hash); err != nil {
			t.Errorf("%s: ValidateHash(%s) = %v", v.format, v.hash, err)
			continue
		}
		if got := h.Scheme(v.hash); got != v.format {
			t.Errorf("Scheme(%s) = %q, want %q", v.hash, got, v.format)
		}
		if err := h.Compare(ctx, v.hash, v.password); err != nil {
			t.Errorf("%s: Compare(%s, %q) = %v", v.format, v.hash, v.password, err)
		}
		if err := h.Compare(ctx, v.hash, v.password+"x"); !errors.Is(err, usermgmt.ErrWrongPassword) {
			t.Errorf("%s: Compare(%s, wrong) = %v, want ErrWrongPassword", v.format, v.hash, err)
		}
		current := strings.HasPrefix(v.hash, "$argon2id$v=19$m=19456,t=2,p=1$")
		if got := h.NeedsRehash(v.hash); got == current {
			t.Errorf("NeedsRehash(%s) = %v", v.hash, got)
		}
	}
	for _, f := range []string{SchemeArgon2id, SchemeArgon2i, SchemeBcrypt, SchemeScrypt, SchemeFirebaseScrypt, SchemePBKDF2SHA256} {
		if seen[f] == 0 {
			t.Errorf("no vector of %s", f)
		}
	}
	for _, prefix := range []string{"$2a$", "$2b$", "$2y$"} {
		found := false
		for _, v := range vs {
			found = found || strings.HasPrefix(v.hash, prefix)
		}
		if !found {
			t.Errorf("no bcrypt vector %s", prefix)
		}
	}
}

// New hashes are PHC strings of the configured parameters (or bcrypt of
// the configured cost), verify, and need no rehash; a weaker one does.
func TestHashRoundTrip(t *testing.T) {
	ctx := context.Background()
	a := newTest(t, Options{Algorithm: Argon2id})
	s, err := a.Hash(ctx, "Tr0ub4dor&3")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(s, "$argon2id$v=19$m=19456,t=2,p=1$") || len(s) != len("$argon2id$v=19$m=19456,t=2,p=1$")+22+1+43 {
		t.Errorf("argon2id hash = %s", s)
	}
	if err := a.Compare(ctx, s, "Tr0ub4dor&3"); err != nil {
		t.Error(err)
	}
	if a.NeedsRehash(s) {
		t.Error("a fresh hash needs a rehash")
	}
	s2, _ := a.Hash(ctx, "Tr0ub4dor&3")
	if s2 == s {
		t.Error("two hashes share a salt")
	}
	stronger := newTest(t, Options{Algorithm: Argon2id, Argon2: Argon2Params{MemoryKiB: 32 << 10, Time: 3}})
	if !stronger.NeedsRehash(s) {
		t.Error("a hash of weaker parameters needs no rehash")
	}
	weakerCfg := newTest(t, Options{Algorithm: Argon2id, Argon2: Argon2Params{MemoryKiB: 8 << 10, Time: 1}})
	if weakerCfg.NeedsRehash(s) {
		t.Error("a hash of stronger parameters than configured needs a rehash")
	}
	if _, err := a.Hash(ctx, strings.Repeat("x", usermgmt.MaxPasswordBytes+1)); !errors.Is(err, usermgmt.ErrPasswordTooLong) {
		t.Errorf("long password: %v", err)
	}

	b := newTest(t, Options{Algorithm: Bcrypt, BcryptCost: 5})
	bs, err := b.Hash(ctx, "Tr0ub4dor&3")
	if err != nil || !strings.HasPrefix(bs, "$2a$05$") {
		t.Fatalf("bcrypt hash = %s, %v", bs, err)
	}
	if b.NeedsRehash(bs) || !b.NeedsRehash(s) || !a.NeedsRehash(bs) {
		t.Error("NeedsRehash across formats")
	}
	if err := b.Compare(ctx, s, "Tr0ub4dor&3"); err != nil {
		t.Errorf("bcrypt-configured hasher does not verify argon2id: %v", err)
	}
	if !newTest(t, Options{Algorithm: Bcrypt, BcryptCost: 6}).NeedsRehash(bs) {
		t.Error("lower bcrypt cost needs no rehash")
	}
	if b.NeedsRehash("not a hash") != true {
		t.Error("unknown format needs no rehash")
	}
}

// Absurd, truncated and foreign hashes are refused by ValidateHash and by
// Compare, quickly and with the right error.
func TestBadHashes(t *testing.T) {
	h := newTest(t, Options{})
	vs := readVectors(t)
	cases := []struct {
		hash string
		want error
	}{
		{"", ErrUnknownFormat},
		{"plaintext", ErrUnknownFormat},
		{"$1$abc$def", ErrUnknownFormat},
		{"$argon2d$v=19$m=4096,t=3,p=1$c29tZXNhbHQ$aGFzaGhhc2hoYXNo", ErrUnknownFormat},
		{"$2x$05$abcdefghijklmnopqrstuujyowYzwa5GTkdJQ1hID4j4yIozDs7U.", ErrUnknownFormat},
		{"$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHR2YWx1ZQ$POzBpd2z+GmuLn1ZTFr1R4tdvZ1IrZEDwzLs2/RrYnc", ErrParameters},
		{"$argon2id$v=19$m=19456,t=4000000000,p=1$c29tZXNhbHR2YWx1ZQ$POzBpd2z+GmuLn1ZTFr1R4tdvZ1IrZEDwzLs2/RrYnc", ErrParameters},
		{"$argon2id$v=19$m=19456,t=2,p=0$c29tZXNhbHR2YWx1ZQ$POzBpd2z+GmuLn1ZTFr1R4tdvZ1IrZEDwzLs2/RrYnc", ErrParameters},
		{"$argon2id$v=16$m=19456,t=2,p=1$c29tZXNhbHR2YWx1ZQ$POzBpd2z+GmuLn1ZTFr1R4tdvZ1IrZEDwzLs2/RrYnc", ErrParameters},
		{"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHR2YWx1ZQ", ErrMalformedHash},
		{"$argon2id$v=19$m=19456,t=2,p=1$c29tZXNh*HR2YWx1ZQ$POzBpd2z", ErrMalformedHash},
		{"$argon2id$v=19$m=19456,m=19456,t=2,p=1$c29tZXNhbHR2YWx1ZQ$POzBpd2z+GmuLn1ZTFr1R4tdvZ1IrZEDwzLs2/RrYnc", ErrMalformedHash},
		{"$argon2id$v=19$m=019456,t=2,p=1$c29tZXNhbHR2YWx1ZQ$POzBpd2z+GmuLn1ZTFr1R4tdvZ1IrZEDwzLs2/RrYnc", ErrMalformedHash},
		{"$argon2id$v=19$m=19456,t=2,p=1,x=1$c29tZXNhbHR2YWx1ZQ$POzBpd2z+GmuLn1ZTFr1R4tdvZ1IrZEDwzLs2/RrYnc", ErrMalformedHash},
		{"$2b$31$0123456789ABCDEFGHIJKupb5UqG1Hv51Waxiq1a2YwqGBvVz7lj2", ErrParameters},
		{"$2b$03$0123456789ABCDEFGHIJKupb5UqG1Hv51Waxiq1a2YwqGBvVz7lj2", ErrParameters},
		{"$2b$06$0123456789ABCDEFGHIJKupb5UqG1Hv51Waxiq1a2YwqGBvVz7lj", ErrMalformedHash},
		{"$2b$06$0123456789ABCDEFGHIJKupb5UqG1Hv51Waxiq1a2YwqGBvVz7l!2", ErrMalformedHash},
		{"$scrypt$ln=32,r=8,p=1$c2l4dGVlbiBieXRlIHNsdA$drLlVfOgNBI1bxdr8bnU7oABU9Kxy+B2qLFFQfxZ0yE", ErrParameters},
		{"$scrypt$ln=20,r=8,p=1$c2l4dGVlbiBieXRlIHNsdA$drLlVfOgNBI1bxdr8bnU7oABU9Kxy+B2qLFFQfxZ0yE", ErrParameters},
		{"$scrypt$ln=15,r=8$c2l4dGVlbiBieXRlIHNsdA$drLlVfOgNBI1bxdr8bnU7oABU9Kxy+B2qLFFQfxZ0yE", ErrMalformedHash},
		{"pbkdf2_sha256$1000000000$abcdefgh$p3NZRV0NHH67TuUdsdSRsB4cClXXexderu16rFkn19I=", ErrParameters},
		{"pbkdf2_sha256$36000$abcdefgh$p3NZRV0NHH67TuUdsdSRsB4cClXXexderu16rFkn19", ErrMalformedHash},
		{"pbkdf2_sha256$36000$abcdefgh", ErrMalformedHash},
		{"pbkdf2_sha256$-1$abcdefgh$p3NZRV0NHH67TuUdsdSRsB4cClXXexderu16rFkn19I=", ErrMalformedHash},
		{"$firebase-scrypt$r=8,ln=40$QQ==$Bw==$QUFBQUFBQUFBQUFBQUFBQQ==$QUFBQUFBQUFBQUFBQUFBQQ==", ErrParameters},
		{"$firebase-scrypt$r=8,ln=14$QQ==$Bw==$QUFBQUFBQUFBQUFBQUFBQQ==$QUFBQQ==", ErrParameters},
		{"$firebase-scrypt$r=8,ln=14$QQ==$Bw==$QUFBQUFBQUFBQUFBQUFBQQ==", ErrMalformedHash},
		{"$" + strings.Repeat("a", 2000), ErrMalformedHash},
	}
	ctx := context.Background()
	// Every vector cut short: refused as malformed, or (when the cut
	// leaves a shorter but well-formed hash) no longer matching.
	for _, v := range vs {
		cut := v.hash[:len(v.hash)-5]
		err := h.ValidateHash(cut)
		if err == nil {
			err = h.Compare(ctx, cut, v.password)
			// scrypt's output ends in PBKDF2, so a shorter key is a
			// prefix of the longer one and still proves the password.
			if v.format == SchemeScrypt && err == nil {
				continue
			}
			if !errors.Is(err, usermgmt.ErrWrongPassword) {
				t.Errorf("truncated %s matches or fails oddly: %v", cut, err)
			}
		} else if !errors.Is(err, ErrMalformedHash) && !errors.Is(err, ErrParameters) {
			t.Errorf("truncated %s: %v", cut, err)
		}
	}
	for _, c := range cases {
		start := time.Now()
		err := h.ValidateHash(c.hash)
		if !errors.Is(err, c.want) {
			t.Errorf("ValidateHash(%.70s) = %v, want %v", c.hash, err, c.want)
		}
		if cerr := h.Compare(ctx, c.hash, "pw"); cerr == nil || errors.Is(cerr, usermgmt.ErrWrongPassword) {
			t.Errorf("Compare(%.70s) = %v, want a format error", c.hash, cerr)
		}
		if d := time.Since(start); d > time.Second {
			t.Errorf("refusing %.40s took %v", c.hash, d)
		}
	}
}

// New refuses options out of bounds, and argon2id's concurrency over the
// memory budget.
func TestOptionsChecked(t *testing.T) {
	for _, o := range []Options{
		{Algorithm: "md5"},
		{BcryptCost: 31},
		{Argon2: Argon2Params{MemoryKiB: 4 << 20}},
		{Argon2: Argon2Params{Time: 100}},
		{MaxConcurrent: 16, MemoryBudget: 128 << 20}, // 16 × 19 MiB > 128 MiB
		{Argon2: Argon2Params{KeyLen: 4}},
	} {
		if _, err := New(o); err == nil {
			t.Errorf("New(%+v) accepted", o)
		}
	}
	if _, err := New(Options{MaxConcurrent: 16, MemoryBudget: 128 << 20, Algorithm: Bcrypt}); err != nil {
		t.Errorf("bcrypt needs no argon2 budget: %v", err)
	}
}

// One semaphore bounds every algorithm: with its slots taken, Hash and
// Compare of any format wait and give up with the context.
func TestSemaphore(t *testing.T) {
	h := newTest(t, Options{Algorithm: Argon2id, MaxConcurrent: 3, MemoryBudget: 60 << 20})
	if err := h.cpu.Acquire(context.Background(), 3); err != nil {
		t.Fatal(err)
	}
	vs := readVectors(t)
	for _, v := range append(vs[:0:0], vs[0], vs[3], vs[len(vs)-1]) {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		if err := h.Compare(ctx, v.hash, v.password); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("Compare(%s) with no slot = %v", v.format, err)
		}
		cancel()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	if _, err := h.Hash(ctx, "pw"); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("Hash with no slot = %v", err)
	}
	h.cpu.Release(3)
	// A computation that gave up holds nothing: all of the budget is free.
	if !h.mem.TryAcquire(60 << 20) {
		t.Fatal("memory left taken after the waits gave up")
	}
	h.mem.Release(60 << 20)
}
