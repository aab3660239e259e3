package main

import (
	"fmt"
	"io"
	"maps"
	"runtime"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// phaseJSON is one phase in the JSON line.
type phaseJSON struct {
	Workers     int            `json:"workers"`
	Seconds     float64        `json:"seconds"`
	OK          int64          `json:"ok"`
	Non2xx      map[int]int64  `json:"non_2xx"`
	Errors      int64          `json:"errors"`
	FirstError  string         `json:"first_error,omitempty"`
	Rate        float64        `json:"rate_per_s"`
	P50Ms       float64        `json:"p50_ms"`
	P99Ms       float64        `json:"p99_ms"`
	MaxMs       float64        `json:"max_ms"`
	CPUPerReqMs float64        `json:"server_cpu_per_req_ms,omitempty"`
	ServerCPUs  float64        `json:"server_cpu_s"`
	ClientCPUs  float64        `json:"client_cpu_s"`
	OtherCPUs   float64        `json:"other_cpu_s"`
	BusyPct     float64        `json:"box_busy_pct"`
	Extra       map[string]any `json:"extra,omitempty"`
}

// report is the run's JSON line.
type report struct {
	Time          string               `json:"time"`
	Label         string               `json:"label,omitempty"`
	GoVersion     string               `json:"go"`
	Cores         int                  `json:"cores"`
	LoadAvg       string               `json:"loadavg_at_start"`
	BcryptCost    int                  `json:"bcrypt_cost"`
	Hasher        string               `json:"hasher"` // the bcrypt_* figures below are this hasher's
	BcryptHashMs  float64              `json:"bcrypt_hash_ms"`
	BcryptLimit   float64              `json:"bcrypt_limit_per_s"`
	MePingRatio   float64              `json:"me_ping_ratio"`
	LoginPct      float64              `json:"login_pct_of_bcrypt_limit"`
	BrokenChains  int                  `json:"refresh_broken_chains"`
	Phases        map[string]phaseJSON `json:"phases"`
	Targets       []string             `json:"targets"`
	Missed        []string             `json:"missed"`
	StormP99Ms    float64              `json:"storm_me_p99_ms"`
	StormP50Ms    float64              `json:"storm_me_p50_ms"`
	StormLoginsPS float64              `json:"storm_logins_per_s"`
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

func toJSON(r *result) phaseJSON {
	return phaseJSON{
		Workers: r.Workers, Seconds: r.Elapsed.Seconds(), OK: r.OK, Non2xx: r.Non2xx, Errors: r.Errors,
		FirstError: r.FirstErr, Rate: r.Rate(), P50Ms: ms(r.Percentile(50)), P99Ms: ms(r.Percentile(99)),
		MaxMs: ms(r.Percentile(100)), CPUPerReqMs: ms(r.CPUPerRequest()),
		ServerCPUs: r.ServerCPU.Seconds(), ClientCPUs: r.ClientCPU.Seconds(), OtherCPUs: r.OtherCPU().Seconds(),
		BusyPct: r.BusyPct(),
	}
}

func newReport(o options, cores int, hash time.Duration, limit float64, broken int,
	ping, me, refresh, login, stormLogin, stormMe *result) *report {
	rep := &report{
		Time: time.Now().UTC().Format(time.RFC3339), Label: o.label, GoVersion: runtime.Version(),
		Cores: cores, BcryptCost: o.bcryptCost, Hasher: o.hasherName(), BcryptHashMs: ms(hash), BcryptLimit: limit,
		BrokenChains: broken,
		Phases: map[string]phaseJSON{
			"ping": toJSON(ping), "me": toJSON(me), "refresh": toJSON(refresh), "login": toJSON(login),
			"storm_login": toJSON(stormLogin), "storm_me": toJSON(stormMe),
		},
		StormP99Ms: ms(stormMe.Percentile(99)), StormP50Ms: ms(stormMe.Percentile(50)),
		StormLoginsPS: stormLogin.Rate(),
	}
	if ping.Rate() > 0 {
		rep.MePingRatio = me.Rate() / ping.Rate()
	}
	if limit > 0 {
		rep.LoginPct = 100 * login.Rate() / limit
	}

	check := func(ok bool, format string, args ...any) {
		s := fmt.Sprintf(format, args...)
		if ok {
			rep.Targets = append(rep.Targets, "met: "+s)
		} else {
			rep.Targets = append(rep.Targets, "MISSED: "+s)
			rep.Missed = append(rep.Missed, s)
		}
	}
	check(me.Rate() >= targetMeRate, "/user/me %.0f/s >= %d/s (5x GoTrue)", me.Rate(), targetMeRate)
	check(rep.MePingRatio >= targetMePingRatio, "/user/me / /ping = %.2f >= %.2f", rep.MePingRatio, targetMePingRatio)
	check(refresh.Rate() >= targetRefreshRate, "refresh %.0f/s >= %d/s", refresh.Rate(), targetRefreshRate)
	check(rep.LoginPct >= 100*targetLoginShare, "login %.1f/s = %.1f%% of the %s limit %.1f/s (>= %.0f%%)",
		login.Rate(), rep.LoginPct, o.hasher, limit, 100*targetLoginShare)
	check(stormMe.Percentile(99) < targetStormP99 && stormMe.OK > 0, "/user/me p99 during the login storm %.1f ms < %d ms",
		rep.StormP99Ms, targetStormP99.Milliseconds())
	for _, r := range []*result{ping, me, refresh, login, stormLogin, stormMe} {
		if n := r.Failed(); n > 0 {
			check(false, "%s: %d requests without a 2xx answer", r.Name, n)
		}
	}
	if broken > 0 {
		check(false, "%d refresh chains broken", broken)
	}
	return rep
}

// print writes the human-readable table.
func (rep *report) print(w io.Writer, results []*result) {
	fmt.Fprintf(w, "\n%s  %s  %s  %d cores (load average at start %s)  %s: %.1f ms/hash, limit %.1f logins/s\n\n",
		rep.Time, rep.Label, rep.GoVersion, rep.Cores, rep.LoadAvg, rep.Hasher, rep.BcryptHashMs, rep.BcryptLimit)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "phase\tworkers\tseconds\tok\trate/s\tp50 ms\tp99 ms\tmax ms\tsrv cpu/req ms\tcpu s srv/load/other\tbox busy\tfailed\t")
	for _, r := range results {
		cpu, split, busy := "-", "-", "-"
		if r.ServerCPU > 0 {
			cpu = fmt.Sprintf("%.3f", ms(r.CPUPerRequest()))
			split = fmt.Sprintf("%.1f/%.1f/%.1f", r.ServerCPU.Seconds(), r.ClientCPU.Seconds(), r.OtherCPU().Seconds())
		}
		if r.Machine.total > 0 {
			busy = fmt.Sprintf("%.0f%%", r.BusyPct())
		}
		fmt.Fprintf(tw, "%s\t%d\t%.1f\t%d\t%.1f\t%.2f\t%.2f\t%.2f\t%s\t%s\t%s\t%s\t\n",
			r.Name, r.Workers, r.Elapsed.Seconds(), r.OK, r.Rate(), ms(r.Percentile(50)), ms(r.Percentile(99)),
			ms(r.Percentile(100)), cpu, split, busy, failures(r))
	}
	_ = tw.Flush()
	fmt.Fprintf(w, "\n/user/me : /ping = %.2f   logins = %.1f%% of the hash limit   refresh chains broken: %d\n\n",
		rep.MePingRatio, rep.LoginPct, rep.BrokenChains)
	for _, t := range rep.Targets {
		fmt.Fprintln(w, t)
	}
	fmt.Fprintln(w)
}

// failures describes a phase's failures: "0", or "12 (503×10, err×2)".
func failures(r *result) string {
	n := r.Failed()
	if n == 0 {
		return "0"
	}
	var parts []string
	for _, s := range slices.Sorted(maps.Keys(r.Non2xx)) {
		parts = append(parts, fmt.Sprintf("%d×%d", s, r.Non2xx[s]))
	}
	if r.Errors > 0 {
		parts = append(parts, fmt.Sprintf("err×%d", r.Errors))
	}
	return fmt.Sprintf("%d (%s)", n, strings.Join(parts, ", "))
}
