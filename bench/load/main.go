// Command load drives a running examples/server over loopback and measures,
// in one run:
//
//  1. GET /ping and authenticated GET /api/user/me throughput at the same
//     concurrency (closed loop, keep-alive), and their ratio;
//  2. refresh-token rotations per second, each worker chaining the
//     rotations of its own session;
//  3. login throughput against the bcrypt limit of the machine, measured
//     in-process in the same run at the server's cost;
//  4. the latency of /api/user/me, sent at a fixed rate, while a login storm
//     runs.
//
// With -scenario reference it runs instead the reference service's k6
// iteration (register, logout, login, /user/me, pictures, deletion; see
// reference.go) and reports iterations and requests per second beside the
// reference's published figure.
//
// Every phase is bounded in time and in request count; only 127.0.0.1 is
// accepted as a target. It prints a table and then one JSON line. Use
// bench/run.sh, which builds and starts the server for it.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/signal"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/usermgmt/usermgmt/hashers"
)

// The benchmark's password satisfies the default policy.
const benchPassword = "Bench-Pass-2026!"

// Targets from the issue: /user/me at least 5× GoTrue's 1,900/s and half of
// /ping; 1,500 refreshes/s; logins within 10 % of the bcrypt limit; /user/me
// p99 under 50 ms during a login storm.
const (
	targetMeRate      = 5 * 1900
	targetMePingRatio = 0.5
	targetRefreshRate = 1500
	targetLoginShare  = 0.90
	targetStormP99    = 50 * time.Millisecond
)

// options are the command-line flags.
type options struct {
	target, prefix, label string
	concurrency           int
	duration              time.Duration
	refreshWorkers        int
	refreshDuration       time.Duration
	loginWorkers          int
	loginDuration         time.Duration
	stormLogins           int
	stormMeRate           float64
	stormDuration         time.Duration
	users                 int
	bcryptCost            int
	bcryptSamples         int
	hasher                string
	argon2                hashers.Argon2Params
	maxRequests           int64
	timeout               time.Duration
	pause                 time.Duration
	serverPID             int
	strict                bool
	scenario              string
	refVUs                int
	refDuration           time.Duration
	refSleep              time.Duration
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := 0
	if err := run(ctx, os.Args[1:], os.Stdout); err != nil && !errors.Is(err, flag.ErrHelp) {
		fmt.Fprintln(os.Stderr, "load:", err)
		code = 1
	}
	stop()
	os.Exit(code)
}

func parseFlags(args []string) (options, error) {
	var o options
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	fs.StringVar(&o.target, "target", "http://127.0.0.1:8000", "server base URL (127.0.0.1 only)")
	fs.StringVar(&o.prefix, "api", "/api", "API prefix (API_STR)")
	fs.StringVar(&o.label, "label", "", "free text recorded in the JSON line (database, commit ...)")
	fs.IntVar(&o.concurrency, "concurrency", 64, "workers for the /ping and /user/me phases")
	fs.DurationVar(&o.duration, "duration", 10*time.Second, "duration of the /ping and of the /user/me phase")
	fs.IntVar(&o.refreshWorkers, "refresh-workers", 64, "refresh workers (one session each)")
	fs.DurationVar(&o.refreshDuration, "refresh-duration", 10*time.Second, "duration of the refresh phase")
	fs.IntVar(&o.loginWorkers, "login-workers", 8, "workers for the login phase")
	fs.DurationVar(&o.loginDuration, "login-duration", 10*time.Second, "duration of the login phase")
	fs.IntVar(&o.stormLogins, "storm-logins", 32, "login workers during the storm")
	fs.Float64Var(&o.stormMeRate, "storm-me-rate", 100, "paced /user/me requests per second during the storm")
	fs.DurationVar(&o.stormDuration, "storm-duration", 10*time.Second, "duration of the storm phase")
	fs.IntVar(&o.users, "users", 8, "users registered for the run")
	fs.IntVar(&o.bcryptCost, "bcrypt-cost", 12, "the server's BCRYPT_COST (for the bcrypt limit)")
	fs.IntVar(&o.bcryptSamples, "bcrypt-samples", 5, "hashes timed to compute the limit (median)")
	fs.StringVar(&o.hasher, "hasher", hashers.Bcrypt, "the server's PASSWORD_HASHER (bcrypt or argon2id), for the hash limit")
	var m, t, p uint
	d := hashers.DefaultArgon2Params
	fs.UintVar(&m, "argon2-memory-kib", uint(d.MemoryKiB), "the server's ARGON2_MEMORY_KIB")
	fs.UintVar(&t, "argon2-time", uint(d.Time), "the server's ARGON2_TIME")
	fs.UintVar(&p, "argon2-threads", uint(d.Threads), "the server's ARGON2_THREADS")
	fs.Int64Var(&o.maxRequests, "max-requests", 5_000_000, "upper bound on requests per phase")
	fs.DurationVar(&o.timeout, "timeout", 15*time.Second, "per-request timeout")
	fs.DurationVar(&o.pause, "pause", 2*time.Second, "pause between phases")
	fs.IntVar(&o.serverPID, "server-pid", 0, "server process id, to report its CPU time per request (Linux)")
	fs.BoolVar(&o.strict, "strict", false, "exit non-zero when a target is missed")
	fs.StringVar(&o.scenario, "scenario", "phases", "phases (the throughput phases) or reference (the reference's k6 iteration)")
	fs.IntVar(&o.refVUs, "reference-vus", 1, "virtual users of the reference scenario")
	fs.DurationVar(&o.refDuration, "reference-duration", time.Minute, "duration of the reference scenario")
	fs.DurationVar(&o.refSleep, "reference-sleep", time.Second, "pause after each reference iteration (k6's sleep(1))")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if m > 4<<20 || t > 10 || p > 8 {
		return o, errors.New("-argon2-memory-kib, -argon2-time, -argon2-threads must be at most 4194304, 10, 8")
	}
	o.argon2 = hashers.Argon2Params{MemoryKiB: uint32(m), Time: uint32(t), Threads: uint8(p)}
	if o.hasher != hashers.Bcrypt && o.hasher != hashers.Argon2id {
		return o, fmt.Errorf("-hasher must be %s or %s, got %q", hashers.Bcrypt, hashers.Argon2id, o.hasher)
	}
	u, err := url.Parse(o.target)
	if err != nil || u.Scheme != "http" || u.Hostname() != "127.0.0.1" || u.Port() == "" || (u.Path != "" && u.Path != "/") {
		return o, fmt.Errorf("-target must be http://127.0.0.1:PORT, got %q", o.target)
	}
	o.target = strings.TrimRight(o.target, "/")
	if o.scenario != "phases" && o.scenario != "reference" {
		return o, fmt.Errorf("-scenario must be phases or reference, got %q", o.scenario)
	}
	if o.refSleep < 0 || o.refSleep > time.Minute {
		return o, errors.New("-reference-sleep must be between 0 and 1m")
	}
	for name, v := range map[string]int{
		"reference-vus": o.refVUs,
		"concurrency":   o.concurrency, "refresh-workers": o.refreshWorkers, "login-workers": o.loginWorkers,
		"storm-logins": o.stormLogins, "users": o.users, "bcrypt-samples": o.bcryptSamples,
	} {
		if v < 1 {
			return o, fmt.Errorf("-%s must be at least 1", name)
		}
	}
	for name, d := range map[string]time.Duration{
		"duration": o.duration, "refresh-duration": o.refreshDuration, "login-duration": o.loginDuration,
		"storm-duration": o.stormDuration, "timeout": o.timeout, "reference-duration": o.refDuration,
	} {
		if d <= 0 || d > 10*time.Minute {
			return o, fmt.Errorf("-%s must be between 0 and 10m", name)
		}
	}
	if o.stormMeRate <= 0 || o.stormMeRate > 10_000 || o.maxRequests < 1 {
		return o, errors.New("-storm-me-rate must be in (0, 10000] and -max-requests at least 1")
	}
	if o.bcryptCost < bcrypt.MinCost || o.bcryptCost > bcrypt.MaxCost {
		return o, fmt.Errorf("-bcrypt-cost must be in %d..%d", bcrypt.MinCost, bcrypt.MaxCost)
	}
	return o, nil
}

func run(ctx context.Context, args []string, stdout io.Writer) error {
	o, err := parseFlags(args)
	if err != nil {
		return err
	}
	maxConns := max(o.concurrency, o.refreshWorkers, o.stormLogins+64, o.loginWorkers) + 16
	a := newAPI(o.target, o.prefix, maxConns)
	lim := func(d time.Duration) limits {
		return limits{duration: d, maxRequests: o.maxRequests, timeout: o.timeout}
	}

	if status, err := a.ping(ctx); err != nil || !isOK(status) {
		return fmt.Errorf("server not answering GET /ping at %s (status %d): %v", o.target, status, err)
	}
	if o.scenario == "reference" {
		return runReference(ctx, o, newAPI(o.target, o.prefix, o.refVUs+4), stdout)
	}

	// The hash limit, measured while the server is idle.
	fmt.Fprintf(stdout, "measuring %s (%d samples) ...\n", o.hasherName(), o.bcryptSamples)
	hashTime, err := timeHash(o)
	if err != nil {
		return err
	}
	cores := runtime.NumCPU()
	loadAvg := readLoadAvg()
	bcryptLimit := float64(cores) / hashTime.Seconds()

	fmt.Fprintf(stdout, "setup: registering %d users, opening %d sessions ...\n", o.users, o.refreshWorkers)
	setupCtx, cancel := context.WithTimeout(ctx, 5*time.Minute)
	fx, err := setup(setupCtx, a, o.users, o.refreshWorkers)
	cancel()
	if err != nil {
		return fmt.Errorf("setup: %w", err)
	}
	cpu, self := cpuMeter{pid: o.serverPID}, cpuMeter{pid: os.Getpid()}

	phase := func(name string, f func() *result) *result {
		if ctx.Err() != nil {
			return &result{Name: name, Non2xx: map[int]int64{}}
		}
		time.Sleep(o.pause)
		fmt.Fprintf(stdout, "phase %s ...\n", name)
		c0, s0, m0 := cpu.read(), self.read(), readMachine()
		r := f()
		r.ServerCPU, r.ClientCPU = cpu.read()-c0, self.read()-s0
		r.Machine = readMachine().since(m0)
		return r
	}

	// 1. /ping and /user/me at the same concurrency.
	ping := phase("ping", func() *result {
		return closedLoop(ctx, "GET /ping", o.concurrency, lim(o.duration), func(ctx context.Context, _ int) (int, error) {
			return a.ping(ctx)
		})
	})
	me := phase("me", func() *result {
		return closedLoop(ctx, "GET /user/me", o.concurrency, lim(o.duration), func(ctx context.Context, w int) (int, error) {
			return a.me(ctx, fx.access[w%len(fx.access)])
		})
	})

	// 2. Refresh rotations: worker w owns session w and chains its rotations.
	var brokenMu sync.Mutex
	broken := 0
	chains := slices.Clone(fx.refresh)
	refresh := phase("refresh", func() *result {
		return closedLoop(ctx, "POST /auth/refresh", o.refreshWorkers, lim(o.refreshDuration), func(ctx context.Context, w int) (int, error) {
			if chains[w] == "" {
				return 0, errors.New("session chain broken by an earlier failure")
			}
			t, status, err := a.refresh(ctx, chains[w])
			switch {
			case err == nil && isOK(status) && t.RefreshToken != "":
				chains[w] = t.RefreshToken
			case status == 401 || status == 403:
				// The session is gone: the chain cannot continue.
				chains[w] = ""
				brokenMu.Lock()
				broken++
				brokenMu.Unlock()
			}
			return status, err
		})
	})

	// 3. Logins against the bcrypt limit.
	login := phase("login", func() *result {
		return closedLoop(ctx, "POST /auth/login", o.loginWorkers, lim(o.loginDuration), func(ctx context.Context, w int) (int, error) {
			_, status, err := a.login(ctx, fx.users[w%len(fx.users)], benchPassword)
			return status, err
		})
	})

	// 4. /user/me latency during a login storm.
	var stormLogin, stormMe *result
	phase("storm", func() *result {
		var wg sync.WaitGroup
		wg.Go(func() {
			stormLogin = closedLoop(ctx, "storm: POST /auth/login", o.stormLogins, lim(o.stormDuration), func(ctx context.Context, w int) (int, error) {
				_, status, err := a.login(ctx, fx.users[w%len(fx.users)], benchPassword)
				return status, err
			})
		})
		wg.Go(func() {
			stormMe = openLoop(ctx, "storm: GET /user/me (paced)", o.stormMeRate, 1000, lim(o.stormDuration), func(ctx context.Context, _ int) (int, error) {
				return a.me(ctx, fx.access[0])
			})
		})
		wg.Wait()
		return stormLogin // carries the CPU figures of the whole storm
	})
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("interrupted: %w", err)
	}

	rep := newReport(o, cores, hashTime, bcryptLimit, broken, ping, me, refresh, login, stormLogin, stormMe)
	rep.LoadAvg = loadAvg
	rep.print(stdout, []*result{ping, me, refresh, login, stormLogin, stormMe})
	enc := json.NewEncoder(stdout) // one line
	enc.SetEscapeHTML(false)
	if err := enc.Encode(rep); err != nil {
		return err
	}
	if o.strict && len(rep.Missed) > 0 {
		return fmt.Errorf("targets missed: %s", strings.Join(rep.Missed, "; "))
	}
	return nil
}

// fixture is what setup prepared.
type fixture struct {
	users   []string // usernames, all with benchPassword
	access  []string // one access token per user (for /user/me)
	refresh []string // one refresh token per refresh worker
}

// setup registers the users of this run (fresh names, so a reused database
// is fine) and opens one session per refresh worker.
func setup(ctx context.Context, a *api, nUsers, nSessions int) (*fixture, error) {
	id := make([]byte, 3)
	if _, err := rand.Read(id); err != nil {
		return nil, err
	}
	run := hex.EncodeToString(id)
	fx := &fixture{users: make([]string, nUsers), access: make([]string, nUsers), refresh: make([]string, nSessions)}

	if err := parallel(ctx, nUsers, 4, func(ctx context.Context, i int) error {
		name := fmt.Sprintf("bench_%s_%03d", run, i)
		t, status, err := a.register(ctx, name, name+"@example.com", benchPassword)
		if err != nil || !isOK(status) || t.AccessToken == "" {
			return fmt.Errorf("register %s: status %d: %v", name, status, err)
		}
		fx.users[i], fx.access[i] = name, t.AccessToken
		return nil
	}); err != nil {
		return nil, err
	}
	if err := parallel(ctx, nSessions, 8, func(ctx context.Context, i int) error {
		name := fx.users[i%nUsers]
		t, status, err := a.login(ctx, name, benchPassword)
		if err != nil || !isOK(status) || t.RefreshToken == "" {
			return fmt.Errorf("login %s: status %d, refresh token %t: %v", name, status, t.RefreshToken != "", err)
		}
		fx.refresh[i] = t.RefreshToken
		return nil
	}); err != nil {
		return nil, err
	}
	return fx, nil
}

// parallel runs f for 0..n-1 with at most width at once and returns the
// first error.
func parallel(ctx context.Context, n, width int, f func(ctx context.Context, i int) error) error {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var (
		wg    sync.WaitGroup
		once  sync.Once
		first error
		sem   = make(chan struct{}, width)
	)
	for i := range n {
		select {
		case sem <- struct{}{}:
		case <-ctx.Done():
		}
		if ctx.Err() != nil {
			break
		}
		wg.Go(func() {
			defer func() { <-sem }()
			if err := f(ctx, i); err != nil {
				once.Do(func() { first = err; cancel() })
			}
		})
	}
	wg.Wait()
	if first != nil {
		return first
	}
	return ctx.Err()
}

// timeHash returns the median time of one hash with the server's hasher
// (bcrypt at its cost, or argon2id at its parameters), on one core.
func timeHash(o options) (time.Duration, error) {
	hash := func() error {
		_, err := bcrypt.GenerateFromPassword([]byte(benchPassword), o.bcryptCost)
		return err
	}
	if o.hasher == hashers.Argon2id {
		h, err := hashers.New(hashers.Options{Algorithm: hashers.Argon2id, Argon2: o.argon2, MaxConcurrent: 1,
			MemoryBudget: max(256<<20, uint64(o.argon2.MemoryKiB)<<10)})
		if err != nil {
			return 0, err
		}
		hash = func() error {
			_, err := h.Hash(context.Background(), benchPassword)
			return err
		}
	}
	ts := make([]time.Duration, o.bcryptSamples)
	for i := range ts {
		t0 := time.Now()
		if err := hash(); err != nil {
			return 0, fmt.Errorf("%s: %w", o.hasher, err)
		}
		ts[i] = time.Since(t0)
	}
	slices.Sort(ts)
	return ts[len(ts)/2], nil
}

// hasherName describes the server's hasher: "bcrypt cost 12",
// "argon2id m=19456,t=2,p=1".
func (o options) hasherName() string {
	if o.hasher == hashers.Argon2id {
		a := o.argon2
		return fmt.Sprintf("argon2id m=%d,t=%d,p=%d", a.MemoryKiB, a.Time, a.Threads)
	}
	return fmt.Sprintf("bcrypt cost %d", o.bcryptCost)
}

// readLoadAvg returns the 1, 5 and 15 minute load averages ("" when
// unknown): a busy box before the run makes the figures pessimistic.
func readLoadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// machine is the CPU time of the whole box, from /proc/stat.
type machine struct {
	busy, total time.Duration
}

// readMachine reads the aggregate "cpu" line of /proc/stat (zero when it
// cannot).
func readMachine() machine {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return machine{}
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	if len(f) < 5 || f[0] != "cpu" {
		return machine{}
	}
	var m machine
	for i, v := range f[1:] {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return machine{}
		}
		d := time.Duration(n) * time.Second / clockTicks
		if i < 8 { // user nice system idle iowait irq softirq steal; guest is inside user
			m.total += d
			if i != 3 && i != 4 {
				m.busy += d
			}
		}
	}
	return m
}

func (m machine) since(m0 machine) machine {
	return machine{busy: m.busy - m0.busy, total: m.total - m0.total}
}

// cpuMeter reads a process's CPU time (user + system) from /proc.
type cpuMeter struct{ pid int }

// clockTicks is USER_HZ, the unit of /proc/<pid>/stat times (100 on Linux).
const clockTicks = 100

func (c cpuMeter) read() time.Duration {
	if c.pid <= 0 {
		return 0
	}
	b, err := os.ReadFile("/proc/" + strconv.Itoa(c.pid) + "/stat")
	if err != nil {
		return 0
	}
	// Fields after the command name, which is in parentheses: state is
	// field 3, utime 14 and stime 15.
	i := strings.LastIndexByte(string(b), ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:]))
	if len(f) < 13 {
		return 0
	}
	utime, err1 := strconv.ParseInt(f[11], 10, 64)
	stime, err2 := strconv.ParseInt(f[12], 10, 64)
	if err1 != nil || err2 != nil {
		return 0
	}
	return time.Duration(utime+stime) * time.Second / clockTicks
}
