// Package breach refuses new passwords that have appeared in known data
// breaches, through a k-anonymity range API such as Have I Been Pwned's
// Pwned Passwords: only the first 5 hex characters of the password's
// SHA-1 leave the process, and the service answers every suffix it knows
// under that prefix (padded with decoys, Add-Padding: true), which the
// Checker compares locally.
//
// It is opt-in: a host that wants it passes a Checker to the core's
// password seam,
//
//	c, err := breach.New(breach.Options{})
//	m, err := usermgmt.New(cfg, usermgmt.WithPasswordChecker(c))
//
// and register, password reset, password change and a patch that sets a
// password then refuse a breached password with 422 password_breached
// (ErrBreached). The lookup has a timeout (2 s by default) and fails open:
// when the service cannot be reached or answers nonsense, the password is
// accepted, one warning is logged (at most one per Options.WarnEvery,
// however many requests fail) and Unavailable counts the lookup. Answers
// are kept in an LRU cache by prefix, so a popular prefix costs one
// request per Options.CacheTTL.
package breach

import (
	"bufio"
	"context"
	"crypto/sha1" // the range API is keyed by SHA-1; nothing here relies on its collision resistance
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	lru "github.com/hashicorp/golang-lru/v2"
	"golang.org/x/sync/singleflight"

	"github.com/usermgmt/usermgmt"
)

// DefaultAPIURL is Have I Been Pwned's range API; the prefix is appended.
const DefaultAPIURL = "https://api.pwnedpasswords.com/range/"

// ErrBreached is the refusal of a password seen in breaches: 422
// password_breached.
var ErrBreached = usermgmt.NewError(http.StatusUnprocessableEntity, "password_breached",
	"This password has appeared in a data breach, so attackers try it first: choose another one.")

// ErrUnavailable wraps every failure of a lookup (network, timeout,
// status, body): Breached returns it, CheckPassword fails open on it.
var ErrUnavailable = errors.New("breach: range API unavailable")

// Options configures a Checker; the zero value is ready to use.
type Options struct {
	// APIURL is the range endpoint; the 5-character prefix is appended
	// (so it ends with "/", or with "=" for a query parameter). Default
	// DefaultAPIURL.
	APIURL string
	// Timeout bounds one lookup. Default 2 s.
	Timeout time.Duration
	// Client sends the requests. Default a client of its own.
	Client *http.Client
	// UserAgent is sent with each request (the HIBP API asks for one).
	// Default "usermgmt-breach-check".
	UserAgent string
	// MinCount is how many breaches make a password refused. Default 1.
	MinCount int
	// CacheSize is how many prefixes' answers are kept (about 20 KB
	// each). Default 1024.
	CacheSize int
	// CacheTTL is how long an answer is kept. Default 24 h.
	CacheTTL time.Duration
	// WarnEvery is the least time between two warnings about the service
	// being unavailable. Default 1 minute.
	WarnEvery time.Duration
	// Logger receives those warnings. Default slog.Default().
	Logger *slog.Logger
	// Clock is the time source of the cache and the warnings. Default
	// time.Now.
	Clock func() time.Time
}

// Checker looks passwords up in the range API. It implements
// usermgmt.PasswordChecker and is safe for concurrent use.
type Checker struct {
	opts   Options
	base   string
	cache  *lru.Cache[string, *rangeAnswer]
	flight singleflight.Group

	unavailable atomic.Uint64
	mu          sync.Mutex
	lastWarn    time.Time
	muted       uint64 // failures since the last warning, not logged
}

// New checks opts and returns a Checker.
func New(opts Options) (*Checker, error) {
	if opts.APIURL == "" {
		opts.APIURL = DefaultAPIURL
	}
	u, err := url.Parse(opts.APIURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("breach: APIURL %q is not an absolute http(s) URL", opts.APIURL)
	}
	if opts.Timeout <= 0 {
		opts.Timeout = 2 * time.Second
	}
	if opts.Client == nil {
		opts.Client = &http.Client{}
	}
	if opts.UserAgent == "" {
		opts.UserAgent = "usermgmt-breach-check"
	}
	opts.MinCount = max(opts.MinCount, 1)
	if opts.CacheSize <= 0 {
		opts.CacheSize = 1024
	}
	if opts.CacheTTL <= 0 {
		opts.CacheTTL = 24 * time.Hour
	}
	if opts.WarnEvery <= 0 {
		opts.WarnEvery = time.Minute
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Clock == nil {
		opts.Clock = time.Now
	}
	cache, err := lru.New[string, *rangeAnswer](opts.CacheSize)
	if err != nil {
		return nil, fmt.Errorf("breach: %w", err)
	}
	return &Checker{opts: opts, base: opts.APIURL, cache: cache}, nil
}

// Unavailable counts the lookups that failed (and so failed open) since
// New: the metric to alert on.
func (c *Checker) Unavailable() uint64 { return c.unavailable.Load() }

// CheckPassword implements usermgmt.PasswordChecker: ErrBreached when the
// password was seen in at least MinCount breaches, nil otherwise, and nil
// too when the service cannot answer (fail open: one warning at most per
// WarnEvery, and Unavailable counts it).
func (c *Checker) CheckPassword(ctx context.Context, pc usermgmt.PasswordCheck) error {
	n, err := c.Breached(ctx, pc.Password)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err() // the request ended: nothing to fail open for
		}
		c.failedOpen(ctx, err)
		return nil
	}
	if n >= c.opts.MinCount {
		return ErrBreached
	}
	return nil
}

// failedOpen counts a failed lookup and logs it, unless a warning was
// logged less than WarnEvery ago (the next one says how many were not).
func (c *Checker) failedOpen(ctx context.Context, err error) {
	c.unavailable.Add(1)
	now := c.opts.Clock()
	c.mu.Lock()
	if !c.lastWarn.IsZero() && now.Sub(c.lastWarn) < c.opts.WarnEvery {
		c.muted++
		c.mu.Unlock()
		return
	}
	muted := c.muted
	c.lastWarn, c.muted = now, 0
	c.mu.Unlock()
	c.opts.Logger.WarnContext(ctx, "breached-password check unavailable: passwords accepted unchecked",
		"err", err, "failures_not_logged", muted, "failures_total", c.unavailable.Load())
}

// Breached returns how many times the range API has seen password (0:
// never), or an error matching ErrUnavailable.
func (c *Checker) Breached(ctx context.Context, password string) (int, error) {
	sum := sha1.Sum([]byte(password))
	digest := strings.ToUpper(hex.EncodeToString(sum[:]))
	prefix, suffix := digest[:5], digest[5:]
	a, err := c.answer(ctx, prefix)
	if err != nil {
		return 0, err
	}
	return a.count(suffix), nil
}

// answer returns the range of prefix, from the cache or the API (one
// request at a time per prefix).
func (c *Checker) answer(ctx context.Context, prefix string) (*rangeAnswer, error) {
	now := c.opts.Clock()
	if a, ok := c.cache.Get(prefix); ok && now.Sub(a.fetched) < c.opts.CacheTTL {
		return a, nil
	}
	ch := c.flight.DoChan(prefix, func() (any, error) {
		// The shared lookup has its own deadline, so that the first caller
		// ending early does not fail the others.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), c.opts.Timeout)
		defer cancel()
		a, err := c.fetch(ctx, prefix)
		if err != nil {
			return nil, err
		}
		a.fetched = now
		c.cache.Add(prefix, a)
		return a, nil
	})
	select {
	case r := <-ch:
		if r.Err != nil {
			return nil, r.Err
		}
		return r.Val.(*rangeAnswer), nil
	case <-ctx.Done():
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, ctx.Err())
	}
}

// maxBody bounds an answer: HIBP's padded ranges are about 40 KB.
const maxBody = 4 << 20

func (c *Checker) fetch(ctx context.Context, prefix string) (*rangeAnswer, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+prefix, nil)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	req.Header.Set("Add-Padding", "true")
	req.Header.Set("User-Agent", c.opts.UserAgent)
	resp, err := c.opts.Client.Do(req)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, io.LimitReader(resp.Body, 64<<10))
		return nil, fmt.Errorf("%w: status %d", ErrUnavailable, resp.StatusCode)
	}
	a, err := parseRange(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrUnavailable, err)
	}
	return a, nil
}

// rangeAnswer is one prefix's suffixes seen in breaches (the padding's
// zero counts dropped), sorted for binary search.
type rangeAnswer struct {
	suffixes []suffix
	counts   []uint32
	fetched  time.Time
}

// suffix is the 35 hex characters after the prefix, as 18 bytes (a
// leading zero nibble added).
type suffix [18]byte

func parseSuffix(s string) (suffix, bool) {
	var x suffix
	if len(s) != 35 {
		return x, false
	}
	_, err := hex.Decode(x[:], []byte("0"+s))
	return x, err == nil
}

// parseRange reads lines of SUFFIX:COUNT (CRLF or LF).
func parseRange(r io.Reader) (*rangeAnswer, error) {
	type entry struct {
		s suffix
		n uint32
	}
	var es []entry
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 256), 256)
	for line := 1; sc.Scan(); line++ {
		t := strings.TrimSpace(sc.Text())
		if t == "" {
			continue
		}
		hexPart, countPart, ok := strings.Cut(t, ":")
		s, okS := parseSuffix(strings.ToUpper(hexPart))
		n, errN := strconv.ParseUint(countPart, 10, 32)
		if !ok || !okS || errN != nil {
			return nil, fmt.Errorf("malformed line %d", line)
		}
		if n > 0 {
			es = append(es, entry{s, uint32(n)})
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("reading the range: %w", err)
	}
	slices.SortFunc(es, func(a, b entry) int { return slices.Compare(a.s[:], b.s[:]) })
	a := &rangeAnswer{suffixes: make([]suffix, len(es)), counts: make([]uint32, len(es))}
	for i, e := range es {
		a.suffixes[i], a.counts[i] = e.s, e.n
	}
	return a, nil
}

// count is how often the range saw the suffix (0: never).
func (a *rangeAnswer) count(hexSuffix string) int {
	s, ok := parseSuffix(hexSuffix)
	if !ok {
		return 0
	}
	i, found := slices.BinarySearchFunc(a.suffixes, s, func(e, t suffix) int { return slices.Compare(e[:], t[:]) })
	if !found {
		return 0
	}
	return int(a.counts[i])
}

var _ usermgmt.PasswordChecker = (*Checker)(nil)
