package captcha

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"net/http"
	"net/netip"
	"strings"
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// A FailureCounter counts failed logins by key (a hashed login name, a
// client's address), for LoginPolicy.Failures. Implementations are safe
// for concurrent use; one shared by every instance of a service (in
// Redis, say) makes the count the service's rather than the process's.
type FailureCounter interface {
	// Failures returns the failures counted on key within the window.
	Failures(ctx context.Context, key string) (int, error)
	// AddFailure counts one more failure on key.
	AddFailure(ctx context.Context, key string) error
	// Reset forgets the failures of key.
	Reset(ctx context.Context, key string) error
}

// MemoryFailuresOptions configures NewMemoryFailures.
type MemoryFailuresOptions struct {
	// Window is how long a key's failures are remembered after its last
	// one. Default 15 minutes.
	Window time.Duration
	// MaxKeys bounds the keys remembered; the least recently used go
	// first. Default 100,000.
	MaxKeys int
}

// MemoryFailures is a FailureCounter in the process's memory (a
// golang-lru expirable cache): instances do not share it.
type MemoryFailures struct {
	mu    sync.Mutex
	cache *expirable.LRU[string, int]
}

// NewMemoryFailures returns an in-memory FailureCounter.
func NewMemoryFailures(o MemoryFailuresOptions) *MemoryFailures {
	if o.Window <= 0 {
		o.Window = 15 * time.Minute
	}
	if o.MaxKeys <= 0 {
		o.MaxKeys = 100_000
	}
	return &MemoryFailures{cache: expirable.NewLRU[string, int](o.MaxKeys, nil, o.Window)}
}

// Failures implements FailureCounter.
func (f *MemoryFailures) Failures(_ context.Context, key string) (int, error) {
	n, _ := f.cache.Peek(key)
	return n, nil
}

// AddFailure implements FailureCounter.
func (f *MemoryFailures) AddFailure(_ context.Context, key string) error {
	f.mu.Lock() // the read and the write are one step
	defer f.mu.Unlock()
	n, _ := f.cache.Peek(key)
	f.cache.Add(key, n+1)
	return nil
}

// Reset implements FailureCounter.
func (f *MemoryFailures) Reset(_ context.Context, key string) error {
	f.cache.Remove(key)
	return nil
}

// failureKeys returns the counter keys of a login request: its client's
// address (IPv6 by /64) and, when it names one, the login name, hashed
// after the Manager's normalisation (trimmed, case-folded).
func failureKeys(r *http.Request, in *httpadapter.Fields) (ip, account string) {
	if addr := usermgmt.ClientInfoFrom(r.Context()).IP; addr != "" {
		ip = "captcha:ip:" + addrKey(addr)
	}
	if name := strings.ToLower(strings.TrimSpace(in.Get("username"))); name != "" {
		sum := sha256.Sum256([]byte(name))
		account = "captcha:acct:" + hex.EncodeToString(sum[:12])
	}
	return ip, account
}

// addrKey is an address as a key: IPv6 by its /64, which one subscriber
// usually holds whole.
func addrKey(s string) string {
	a, err := netip.ParseAddr(s)
	if err != nil {
		return s
	}
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.Unmap().String()
}

// needed reports whether a login must carry a CAPTCHA: its client or its
// login name has failed Login.Failures times.
func (c *Captcha) needed(ctx context.Context, r *http.Request, in *httpadapter.Fields) (bool, error) {
	ip, acct := failureKeys(r, in)
	for _, k := range []string{ip, acct} {
		if k == "" {
			continue
		}
		n, err := c.cfg.Failures.Failures(ctx, k)
		if err != nil {
			return true, err
		}
		if n >= c.cfg.Login.Failures {
			return true, nil
		}
	}
	return false, nil
}

// after counts a failed login on its client and login name; a success
// forgets the login name's failures (not the client's: one account of
// one's own must not clear a guesser's address).
func (c *Captcha) after(r *http.Request, in *httpadapter.Fields, err error) {
	ip, acct := failureKeys(r, in)
	ctx := context.WithoutCancel(r.Context())
	var errs []error
	switch {
	case errors.Is(err, usermgmt.ErrInvalidLogin):
		for _, k := range []string{ip, acct} {
			if k != "" {
				errs = append(errs, c.cfg.Failures.AddFailure(ctx, k))
			}
		}
	case err == nil || errors.Is(err, usermgmt.ErrOTPRequired):
		if acct != "" {
			errs = append(errs, c.cfg.Failures.Reset(ctx, acct))
		}
	}
	c.counted(ctx, errors.Join(errs...))
}

// counted notes whether the failure counter answered: one warning when
// it stops (every login then needs a CAPTCHA), one line when it is back.
func (c *Captcha) counted(ctx context.Context, err error) {
	if err != nil && c.lost.CompareAndSwap(false, true) {
		c.log.WarnContext(ctx, "captcha: the failed-login counter fails; every login needs a CAPTCHA until it answers", "err", err)
	} else if err == nil && c.lost.CompareAndSwap(true, false) {
		c.log.InfoContext(ctx, "captcha: the failed-login counter answers again")
	}
}
