package httpadapter_test

import (
	"context"
	"log/slog"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/store/anydb"
)

// discardMailer accepts every message and keeps none, so that a long
// benchmark does not grow a list of messages.
type discardMailer struct{}

func (discardMailer) Send(context.Context, mail.Message) error { return nil }

// newTimingEnv is a Manager with mailer (the paths under test only do
// their work when mail can be sent) on a fresh database of the backend,
// served with the rate limits off and nothing logged.
func newTimingEnv(b *testing.B, be backend, mailer usermgmt.Mailer) *env {
	b.Helper()
	ctx := context.Background()
	st, err := anydb.Open(ctx, be.dsn(b))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = st.Close() })
	clock := newFakeClock()
	quiet := slog.New(slog.DiscardHandler)
	m, err := usermgmt.New(usermgmt.Config{
		Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BaseURL: baseURL,
		BcryptCost: 4, ContactEmail: "support@example.com", Clock: clock.Now, Logger: quiet,
		AccountSecurity: usermgmt.AccountSecurity{ProjectName: "Test Project", FrontendURL: "https://app.example.com"},
	}, usermgmt.WithMailer(mailer), usermgmt.WithResolver(fakeResolver{}))
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = m.Close() })
	return &env{t: b, m: m, h: httpadapter.New(m, httpadapter.Options{Logger: quiet}), clock: clock, logs: &syncBuffer{}}
}

// pairTiming times two requests alternately, one of each per iteration, so
// that both see the same load of a shared machine, and reports the mean and
// the median of each and the differences (b-a), in microseconds.
func pairTiming(b *testing.B, e *env, nameA, nameB string, build func(which int) request, want int) {
	b.Helper()
	var times [2][]time.Duration
	b.ReportAllocs()
	for b.Loop() {
		for which := range 2 {
			r := build(which).build(b)
			rec := httptest.NewRecorder()
			start := time.Now()
			e.h.ServeHTTP(rec, r)
			d := time.Since(start)
			if rec.Code != want {
				b.Fatalf("%s %s = %d %s", r.Method, r.URL, rec.Code, rec.Body)
			}
			times[which] = append(times[which], d)
		}
	}
	us := func(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }
	mean := func(ds []time.Duration) time.Duration {
		var sum time.Duration
		for _, d := range ds {
			sum += d
		}
		return sum / time.Duration(len(ds))
	}
	median := func(ds []time.Duration) time.Duration {
		s := slices.Clone(ds)
		slices.Sort(s)
		return s[len(s)/2]
	}
	ma, mb := mean(times[0]), mean(times[1])
	pa, pb := median(times[0]), median(times[1])
	b.ReportMetric(us(ma), nameA+"-mean-µs")
	b.ReportMetric(us(mb), nameB+"-mean-µs")
	b.ReportMetric(us(mb-ma), "diff-mean-µs")
	b.ReportMetric(us(pa), nameA+"-median-µs")
	b.ReportMetric(us(pb), nameB+"-median-µs")
	b.ReportMetric(us(pb-pa), "diff-median-µs")
}

// BenchmarkForgotPasswordTiming compares POST
// /api/auth/forgot-password/request for a known account and for an
// unknown one, by username and by email, on each backend: the answer must
// not tell them apart by its time either.
func BenchmarkForgotPasswordTiming(b *testing.B) {
	for _, be := range backends {
		for _, by := range []string{"username", "email"} {
			b.Run(be.name+"/"+by, func(b *testing.B) {
				forgotTiming(b, be, by)
			})
		}
	}
}

func forgotTiming(b *testing.B, be backend, by string) {
	e := newTimingEnv(b, be, discardMailer{})
	e.register("known_user")
	logins := [2]string{"known_user", "nobody_here"}
	if by == "email" {
		logins = [2]string{"known_user@example.com", "nobody_here@example.com"}
	}
	pairTiming(b, e, "known", "unknown", func(which int) request {
		return request{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{by: logins[which]}}
	}, 200)
}

// BenchmarkLoginTiming compares a wrong password for a known account with
// a login of an unknown account (both 401 invalid_credentials), on each
// backend.
func BenchmarkLoginTiming(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			e := newTimingEnv(b, be, discardMailer{})
			e.register("known_user")
			logins := [2]string{"known_user", "nobody_here"}
			pairTiming(b, e, "known", "unknown", func(which int) request {
				return request{method: "POST", path: "/api/auth/login", form: url.Values{
					"grant_type": {"password"}, "username": {logins[which]}, "password": {"Wr0ng-password!"},
				}}
			}, 401)
		})
	}
}

// BenchmarkResetTiming compares the reset step (POST
// /api/auth/forgot-password/reset) with a spent link and with a link that
// never existed (both 401 invalid_token), on each backend.
func BenchmarkResetTiming(b *testing.B) {
	for _, be := range backends {
		b.Run(be.name, func(b *testing.B) {
			mem := &mail.Memory{}
			e := newTimingEnv(b, be, mem)
			e.register("known_user")
			e.do(request{method: "POST", path: "/api/auth/forgot-password/request", json: map[string]string{"username": "known_user"}}).wantStatus(b, 200)
			var spent string
			for spent == "" {
				msg, err := mem.Next(context.Background())
				if err != nil {
					b.Fatal(err)
				}
				if strings.Contains(msg.Subject, "Reset your password") {
					_, spent = mailToken(b, msg)
				}
			}
			e.do(request{method: "POST", path: "/api/auth/forgot-password/reset", form: url.Values{
				"token": {spent}, "new_password": {newPassword}, "confirm_password": {newPassword},
			}}).wantStatus(b, 200)
			unknown := strings.Repeat("A", len(spent))
			tokens := [2]string{spent, unknown}
			pairTiming(b, e, "spent", "unknown", func(which int) request {
				return request{method: "POST", path: "/api/auth/forgot-password/reset", form: url.Values{
					"token": {tokens[which]}, "new_password": {newPassword}, "confirm_password": {newPassword},
				}}
			}, 401)
		})
	}
}
