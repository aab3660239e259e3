package hashers

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/crypto/scrypt"
)

// tryAcquire is acquire with a context that gives up at once when the
// semaphores are full.
func tryAcquire(h *Hasher, mem uint64) error {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	return h.acquire(ctx, mem)
}

// The memory semaphore's weight is a computation's exact need: with a
// budget of 3 MiB, 2 MiB and 1 MiB run side by side (a slot-sized share
// of the budget, 1.5 MiB, would have made the first take both slots), and
// one byte more waits until one of them is released.
func TestMemoryBudgetExact(t *testing.T) {
	const mib = 1 << 20
	h := newTest(t, Options{Algorithm: Bcrypt, BcryptCost: 4, MaxConcurrent: 4, MemoryBudget: 3 * mib,
		Argon2: Argon2Params{MemoryKiB: 64, Time: 1}})
	if err := tryAcquire(h, 2*mib); err != nil {
		t.Fatalf("2 MiB of 3: %v", err)
	}
	if err := tryAcquire(h, mib); err != nil {
		t.Fatalf("1 MiB more, 3 of 3: %v", err)
	}
	if err := tryAcquire(h, 1); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("1 byte over the budget = %v, want it to wait", err)
	}
	// bcrypt and PBKDF2 need no memory: they still get the free slots.
	if err := tryAcquire(h, 0); err != nil {
		t.Fatalf("no memory, slot 3 of 4: %v", err)
	}
	if err := tryAcquire(h, 0); err != nil {
		t.Fatalf("no memory, slot 4 of 4: %v", err)
	}
	if err := tryAcquire(h, 0); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a fifth computation = %v, want it to wait", err)
	}
	h.release(0)
	// A waiter for memory holds no slot: with the budget full, the slot
	// freed above stays free for bcrypt.
	if err := tryAcquire(h, mib); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("1 MiB with the budget full = %v, want it to wait", err)
	}
	if err := tryAcquire(h, 0); err != nil {
		t.Fatalf("bcrypt after a memory waiter gave up: %v", err)
	}
	h.release(2 * mib)
	if err := tryAcquire(h, 2*mib); err != nil {
		t.Fatalf("2 MiB after 2 MiB were released: %v", err)
	}
	if err := h.acquire(context.Background(), 3*mib+1); !errors.Is(err, ErrParameters) {
		t.Fatalf("more than the whole budget = %v, want ErrParameters at once", err)
	}
}

// Concurrent verifications of imported memory-hard hashes never hold
// more than the budget together: 6 argon2id verifications of 1 MiB and 6
// scrypt ones of 1 MiB + 3 KiB under a 2.5 MiB budget, with 8 slots.
func TestMemoryBudgetUnderLoad(t *testing.T) {
	const budget = 5 << 19 // 2.5 MiB
	h := newTest(t, Options{Algorithm: Bcrypt, BcryptCost: 4, MaxConcurrent: 8, MemoryBudget: budget,
		Argon2: Argon2Params{MemoryKiB: 64, Time: 1}})
	a, err := New(Options{Algorithm: Argon2id, Argon2: Argon2Params{MemoryKiB: 1024, Time: 1}})
	if err != nil {
		t.Fatal(err)
	}
	argonHash, err := a.Hash(context.Background(), "pw")
	if err != nil {
		t.Fatal(err)
	}
	// ln=13, r=1, p=1: 128·1·(8192+3) bytes.
	salt := []byte("saltsalt")
	key, err := scrypt.Key([]byte("pw"), salt, 1<<13, 1, 1, 32)
	if err != nil {
		t.Fatal(err)
	}
	scryptHashStr := fmt.Sprintf("$scrypt$ln=13,r=1,p=1$%s$%s", phcEncode(salt), phcEncode(key))
	hashes := map[string]uint64{argonHash: 1 << 20, scryptHashStr: scryptMemory(13, 1, 1)}
	var inUse, peak atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		hash := argonHash
		if i%2 == 1 {
			hash = scryptHashStr
		}
		mem := hashes[hash]
		wg.Add(1)
		go func() {
			defer wg.Done()
			// The same acquire Compare takes, with the accounting around the
			// computation.
			if err := h.acquire(context.Background(), mem); err != nil {
				errs <- err
				return
			}
			n := inUse.Add(int64(mem))
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			s, err := h.parse(hash)
			if err == nil && !s.verify([]byte("pw")) {
				err = fmt.Errorf("%.30s did not verify", hash)
			}
			inUse.Add(-int64(mem))
			h.release(mem)
			if err != nil {
				errs <- err
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if p := peak.Load(); p > budget || p < 2<<20 {
		t.Fatalf("peak memory in flight = %d, want 2 MiB..%d (two at a time)", p, budget)
	}
	// And through Compare itself, all of them at once.
	var wg2 sync.WaitGroup
	for range 6 {
		wg2.Add(1)
		go func() {
			defer wg2.Done()
			if err := h.Compare(context.Background(), scryptHashStr, "pw"); err != nil {
				t.Error(err)
			}
		}()
	}
	wg2.Wait()
}

// A hash whose computation could never fit the budget is refused by
// ValidateHash (so an import refuses its row) and by Compare, at once,
// instead of waiting for memory that never comes.
func TestOverBudgetHashRefused(t *testing.T) {
	h := newTest(t, Options{Algorithm: Bcrypt, BcryptCost: 4, MemoryBudget: 8 << 20, MaxConcurrent: 1,
		Argon2: Argon2Params{MemoryKiB: 64, Time: 1}})
	// 8 MiB for argon2 is inside Limits.MaxMemory (clipped to the budget);
	// scrypt ln=13, r=8 has V = 8 MiB, also inside it, but needs 8 MiB +
	// 3 KiB in all.
	for hash, ok := range map[string]bool{
		"$argon2id$v=19$m=8192,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA": true,
		"$argon2id$v=19$m=8193,t=1,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA": false,
		"$scrypt$ln=12,r=8,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA":         true,
		"$scrypt$ln=13,r=8,p=1$c2FsdHNhbHQ$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA":         false,
	} {
		err := h.ValidateHash(hash)
		if ok != (err == nil) || (!ok && !errors.Is(err, ErrParameters)) {
			t.Errorf("ValidateHash(%.30s) = %v, want ok=%v", hash, err, ok)
		}
		if !ok && !strings.Contains(err.Error(), "budget") && !strings.Contains(err.Error(), "outside") {
			t.Errorf("ValidateHash(%.30s) = %v: the message should say why", hash, err)
		}
		if !ok {
			start := time.Now()
			if err := h.Compare(context.Background(), hash, "pw"); !errors.Is(err, ErrParameters) {
				t.Errorf("Compare(%.30s) = %v, want ErrParameters", hash, err)
			}
			if d := time.Since(start); d > 100*time.Millisecond {
				t.Errorf("refusing took %v", d)
			}
		}
	}
}
