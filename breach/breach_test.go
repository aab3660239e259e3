package breach_test

import (
	"context"
	"crypto/sha1" // the range API's key
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/breach"
	"github.com/usermgmt/usermgmt/internal/testlog"
)

func sha1Hex(pw string) string {
	s := sha1.Sum([]byte(pw))
	return strings.ToUpper(hex.EncodeToString(s[:]))
}

// rangeServer is a local fake of the Pwned Passwords range API: it knows
// the passwords of breached (with their counts) and pads every answer
// with count-0 decoys, as the real one does with Add-Padding: true. It
// records every request.
type rangeServer struct {
	*httptest.Server
	mu       sync.Mutex
	breached map[string]int // SHA-1 hex → count
	requests []*http.Request
	status   int           // when not 0, every answer has this status
	body     string        // when not "", every answer is this body
	delay    time.Duration // every answer waits this long (or for the client to give up)
}

func newRangeServer(t *testing.T, breached map[string]int) *rangeServer {
	s := &rangeServer{breached: map[string]int{}}
	for pw, n := range breached {
		s.breached[sha1Hex(pw)] = n
	}
	s.Server = httptest.NewServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func (s *rangeServer) serve(w http.ResponseWriter, r *http.Request) {
	s.mu.Lock()
	s.requests = append(s.requests, r.Clone(context.Background()))
	status, body, delay := s.status, s.body, s.delay
	s.mu.Unlock()
	if delay > 0 {
		select {
		case <-time.After(delay):
		case <-r.Context().Done():
			return
		}
	}
	if status != 0 {
		http.Error(w, "unavailable", status)
		return
	}
	if body != "" {
		fmt.Fprint(w, body)
		return
	}
	prefix := strings.TrimPrefix(r.URL.Path, "/range/")
	if len(prefix) != 5 || strings.ToUpper(prefix) != prefix {
		http.Error(w, "The hash prefix was not in a valid format", http.StatusBadRequest)
		return
	}
	var b strings.Builder
	for h, n := range s.breached {
		if strings.HasPrefix(h, prefix) {
			fmt.Fprintf(&b, "%s:%d\r\n", h[5:], n)
		}
	}
	if r.Header.Get("Add-Padding") == "true" {
		for i := range 3 {
			fmt.Fprintf(&b, "%035X:0\r\n", i+1)
		}
	}
	fmt.Fprint(w, b.String())
}

func (s *rangeServer) got() []*http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]*http.Request(nil), s.requests...)
}

func (s *rangeServer) set(f func(s *rangeServer)) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f(s)
}

// clock is a controllable Options.Clock.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func newChecker(t *testing.T, s *rangeServer, o breach.Options) (*breach.Checker, *testlog.Buffer, *clock) {
	t.Helper()
	logs := &testlog.Buffer{}
	clk := &clock{t: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)}
	o.APIURL = s.URL + "/range/"
	o.Logger = logs.Logger()
	o.Clock = clk.now
	c, err := breach.New(o)
	if err != nil {
		t.Fatal(err)
	}
	return c, logs, clk
}

func check(c *breach.Checker, pw string) error {
	return c.CheckPassword(context.Background(), usermgmt.PasswordCheck{Password: pw, Username: "jane"})
}

func TestBreachedPasswordRefused(t *testing.T) {
	s := newRangeServer(t, map[string]int{"P@ssw0rd-2019": 4242, "Once-Leaked-1": 1})
	c, _, _ := newChecker(t, s, breach.Options{})
	err := check(c, "P@ssw0rd-2019")
	if !errors.Is(err, breach.ErrBreached) {
		t.Fatalf("breached password: %v, want ErrBreached", err)
	}
	if e := usermgmt.AsError(err); e.Status != 422 || e.Code != "password_breached" {
		t.Fatalf("error = %d %s, want 422 password_breached", e.Status, e.Code)
	}
	if err := check(c, "Once-Leaked-1"); !errors.Is(err, breach.ErrBreached) {
		t.Fatalf("seen once: %v, want ErrBreached (MinCount 1)", err)
	}
	if err := check(c, "Never-Seen-Before-7"); err != nil {
		t.Fatalf("unseen password: %v", err)
	}
	if n, err := c.Breached(context.Background(), "P@ssw0rd-2019"); n != 4242 || err != nil {
		t.Fatalf("Breached = %d, %v; want 4242", n, err)
	}
	// MinCount: a password seen fewer times passes.
	c2, _, _ := newChecker(t, s, breach.Options{MinCount: 10})
	if err := check(c2, "Once-Leaked-1"); err != nil {
		t.Fatalf("MinCount 10, seen once: %v", err)
	}
	if err := check(c2, "P@ssw0rd-2019"); !errors.Is(err, breach.ErrBreached) {
		t.Fatalf("MinCount 10, seen 4242 times: %v", err)
	}
}

// k-anonymity: each request carries the 5 first hex characters of the
// SHA-1 and nothing else of the password; it asks for padding.
func TestOnlyPrefixLeaves(t *testing.T) {
	s := newRangeServer(t, nil)
	c, _, _ := newChecker(t, s, breach.Options{})
	const pw = "Secret-Horse-42"
	if err := check(c, pw); err != nil {
		t.Fatal(err)
	}
	reqs := s.got()
	if len(reqs) != 1 {
		t.Fatalf("%d requests, want 1", len(reqs))
	}
	r, h := reqs[0], sha1Hex(pw)
	if r.Method != http.MethodGet || r.URL.Path != "/range/"+h[:5] || r.URL.RawQuery != "" {
		t.Fatalf("request %s %s, want GET /range/%s", r.Method, r.URL, h[:5])
	}
	if r.Header.Get("Add-Padding") != "true" || r.Header.Get("User-Agent") == "" {
		t.Fatalf("headers %v: want Add-Padding: true and a User-Agent", r.Header)
	}
	dump := r.URL.String() + fmt.Sprint(r.Header)
	if strings.Contains(dump, h[5:10]) || strings.Contains(strings.ToLower(dump), strings.ToLower(h[5:10])) || strings.Contains(dump, pw) {
		t.Fatalf("the request carries more than the prefix: %s", dump)
	}
}

// Answers are cached by prefix in an LRU, for CacheTTL.
func TestCache(t *testing.T) {
	s := newRangeServer(t, map[string]int{"Leaked-Pass-1": 3})
	c, _, clk := newChecker(t, s, breach.Options{CacheSize: 1, CacheTTL: time.Hour})
	for range 3 {
		if err := check(c, "Leaked-Pass-1"); !errors.Is(err, breach.ErrBreached) {
			t.Fatal(err)
		}
	}
	if n := len(s.got()); n != 1 {
		t.Fatalf("%d requests for one prefix, want 1 (cached)", n)
	}
	clk.advance(time.Hour)
	if err := check(c, "Leaked-Pass-1"); !errors.Is(err, breach.ErrBreached) {
		t.Fatal(err)
	}
	if n := len(s.got()); n != 2 {
		t.Fatalf("%d requests after the TTL, want 2", n)
	}
	// CacheSize 1: another prefix evicts the first.
	other := "Another-Prefix-9"
	if sha1Hex(other)[:5] == sha1Hex("Leaked-Pass-1")[:5] {
		t.Fatal("pick another password")
	}
	_ = check(c, other)
	_ = check(c, "Leaked-Pass-1")
	if n := len(s.got()); n != 4 {
		t.Fatalf("%d requests, want 4 (the LRU of one prefix evicted)", n)
	}
}

// Concurrent lookups of one prefix share one request.
func TestConcurrentLookupsShareOneRequest(t *testing.T) {
	s := newRangeServer(t, map[string]int{"Leaked-Pass-1": 3})
	s.delay = 50 * time.Millisecond
	c, _, _ := newChecker(t, s, breach.Options{})
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := check(c, "Leaked-Pass-1"); !errors.Is(err, breach.ErrBreached) {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	if n := len(s.got()); n != 1 {
		t.Fatalf("%d requests, want 1", n)
	}
}

// When the API cannot answer, the password is accepted, Unavailable
// counts the lookup, and one warning is logged per WarnEvery (the next
// one says how many failures were not logged).
func TestFailOpen(t *testing.T) {
	cases := map[string]func(s *rangeServer){
		"status 503":   func(s *rangeServer) { s.status = http.StatusServiceUnavailable },
		"status 429":   func(s *rangeServer) { s.status = http.StatusTooManyRequests },
		"garbage body": func(s *rangeServer) { s.body = "<html>maintenance</html>" },
		"bad count":    func(s *rangeServer) { s.body = strings.Repeat("0", 35) + ":many\r\n" },
		"long line":    func(s *rangeServer) { s.body = strings.Repeat("A", 1000) + ":1\r\n" },
		"timeout":      func(s *rangeServer) { s.delay = 5 * time.Second },
	}
	for name, fault := range cases {
		t.Run(name, func(t *testing.T) {
			s := newRangeServer(t, map[string]int{"Leaked-Pass-1": 3})
			s.set(fault)
			c, logs, clk := newChecker(t, s, breach.Options{Timeout: 100 * time.Millisecond, WarnEvery: time.Minute})
			start := time.Now()
			for i := range 5 {
				if err := check(c, fmt.Sprintf("Leaked-Pass-%d", i+1)); err != nil {
					t.Fatalf("lookup %d: %v, want nil (fail open)", i, err)
				}
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("5 failing lookups took %v (timeout 100 ms each)", d)
			}
			if n := c.Unavailable(); n != 5 {
				t.Fatalf("Unavailable = %d, want 5", n)
			}
			if w := logs.Lines("level=WARN", "breached-password check unavailable"); len(w) != 1 {
				t.Fatalf("%d warnings for 5 failures within a minute, want 1:\n%s", len(w), logs)
			}
			clk.advance(time.Minute)
			_ = check(c, "Leaked-Pass-1")
			w := logs.Lines("level=WARN", "breached-password check unavailable")
			if len(w) != 2 || !strings.Contains(w[1], "failures_not_logged=4") || !strings.Contains(w[1], "failures_total=6") {
				t.Fatalf("after a minute, warnings:\n%s", strings.Join(w, "\n"))
			}
			if strings.Contains(logs.String(), "Leaked-Pass") {
				t.Fatal("a password was logged")
			}
			// The service back: breached passwords are refused again.
			s.set(func(s *rangeServer) { s.status, s.body, s.delay = 0, "", 0 })
			if err := check(c, "Leaked-Pass-1"); !errors.Is(err, breach.ErrBreached) {
				t.Fatalf("service back: %v", err)
			}
		})
	}
}

// An unreachable endpoint fails open too.
func TestFailOpenUnreachable(t *testing.T) {
	s := newRangeServer(t, nil)
	c, logs, _ := newChecker(t, s, breach.Options{Timeout: 200 * time.Millisecond})
	s.Close()
	if err := check(c, "Any-Password-1"); err != nil {
		t.Fatalf("unreachable: %v", err)
	}
	if n, err := c.Breached(context.Background(), "Any-Password-1"); n != 0 || !errors.Is(err, breach.ErrUnavailable) {
		t.Fatalf("Breached = %d, %v; want ErrUnavailable", n, err)
	}
	if c.Unavailable() != 1 || len(logs.Lines("level=WARN")) != 1 {
		t.Fatalf("Unavailable = %d, logs:\n%s", c.Unavailable(), logs)
	}
}

// A request that ends while waiting is not failed open: the caller's
// context error comes back.
func TestCanceledRequest(t *testing.T) {
	s := newRangeServer(t, nil)
	s.delay = time.Second
	c, _, _ := newChecker(t, s, breach.Options{})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
	defer cancel()
	err := c.CheckPassword(ctx, usermgmt.PasswordCheck{Password: "Any-Password-1"})
	if !errors.Is(err, context.DeadlineExceeded) || c.Unavailable() != 0 {
		t.Fatalf("CheckPassword = %v, Unavailable = %d", err, c.Unavailable())
	}
}

func TestOptionsChecked(t *testing.T) {
	for _, u := range []string{"ftp://x/range/", "/range/", "http://"} {
		if _, err := breach.New(breach.Options{APIURL: u}); err == nil {
			t.Errorf("New(APIURL %q) accepted", u)
		}
	}
	if _, err := breach.New(breach.Options{}); err != nil {
		t.Errorf("New(zero) = %v", err)
	}
}
