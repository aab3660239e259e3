package httpadapter

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"log/slog"
	"math"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
)

// RateLimitOptions configures the rate limits New applies; the Manager's
// Limiter (usermgmt.WithLimiter) decides.
type RateLimitOptions struct {
	// Enabled turns every limit on (the reference's RATE_LIMITER_ENABLED).
	Enabled bool
	// Global limits every request of one client (its IP, IPv6 by /64),
	// whatever the route, /ping and unknown paths included. Default
	// DefaultGlobalRate, the reference's 300 per 15 minutes.
	Global usermgmt.Rate
	// Classes overrides entries of DefaultLimitClasses: the stricter limits
	// of sensitive routes (RouteLimitClasses says which route is in which
	// class). A class rate with a zero Limit is not applied.
	Classes map[string]LimitClass
}

// LimitClass is the limits of one class of routes: per client IP and per
// target account (the username or email a login or password-reset request
// names).
type LimitClass struct {
	IP      usermgmt.Rate
	Account usermgmt.Rate
}

// DefaultGlobalRate is the reference's default global limit.
var DefaultGlobalRate = usermgmt.Rate{Limit: 300, Window: 15 * time.Minute}

// Limit classes of sensitive routes.
const (
	ClassLogin         = "login"
	ClassRegister      = "register"
	ClassOTP           = "otp"
	ClassPasswordReset = "password_reset"
	ClassMailSend      = "mail_send"
	// ClassAccount is the account page's forms that change the account
	// without a code or password of their own (profile, sessions,
	// providers, passkeys, deletion).
	ClassAccount = "account"
)

// DefaultLimitClasses are the class limits applied unless
// RateLimitOptions.Classes overrides them.
func DefaultLimitClasses() map[string]LimitClass {
	return map[string]LimitClass{
		ClassLogin:         {IP: usermgmt.Rate{Limit: 30, Window: 5 * time.Minute}, Account: usermgmt.Rate{Limit: 10, Window: 5 * time.Minute}},
		ClassRegister:      {IP: usermgmt.Rate{Limit: 10, Window: time.Hour}},
		ClassOTP:           {IP: usermgmt.Rate{Limit: 30, Window: 5 * time.Minute}},
		ClassPasswordReset: {IP: usermgmt.Rate{Limit: 10, Window: time.Hour}, Account: usermgmt.Rate{Limit: 5, Window: time.Hour}},
		ClassMailSend:      {IP: usermgmt.Rate{Limit: 10, Window: time.Hour}, Account: usermgmt.Rate{Limit: 5, Window: time.Hour}},
		ClassAccount:       {IP: usermgmt.Rate{Limit: 60, Window: 5 * time.Minute}},
	}
}

// routeLimitClasses maps route names (Route.Name) to their limit class.
// Names of routes not in the table are harmless: they apply once the route
// exists.
var routeLimitClasses = map[string]string{
	"login":                       ClassLogin,
	"register":                    ClassRegister,
	"login_otp":                   ClassOTP,
	"change_otp_method":           ClassOTP,
	"verify_email":                ClassOTP,
	"send_email_otp":              ClassMailSend,
	"resend_verification":         ClassMailSend,
	"request_password_request":    ClassMailSend,
	"forgot_password_request":     ClassPasswordReset,
	"forgot_password_request_get": ClassPasswordReset,
	"forgot_password_reset":       ClassPasswordReset,
	"forgot_password_reset_get":   ClassPasswordReset,
	"reset_password_reset":        ClassPasswordReset,
	"change_password":             ClassPasswordReset,
	"oauth_login":                 ClassLogin,
	"oauth_callback":              ClassLogin,

	// The hosted pages' forms call the same Manager methods, so they take
	// the same limits.
	"_login_post":                   ClassLogin,
	"_signin_post":                  ClassLogin,
	"_login_oauth":                  ClassLogin,
	"_register_post":                ClassRegister,
	"_signup_post":                  ClassRegister,
	"_otp_post":                     ClassOTP,
	"_forgot_password_request_post": ClassPasswordReset,
	"_forgot_password_reset_post":   ClassPasswordReset,
	"_reset_password_reset_post":    ClassPasswordReset,
	"_reset_password_request_post":  ClassMailSend,

	// The account page (pages_me.go, pages_passkey.go).
	"_account_profile_post":             ClassAccount,
	"_account_session_revoke_post":      ClassAccount,
	"_account_sessions_revoke_all_post": ClassAccount,
	"_account_unlink_post":              ClassAccount,
	"_account_delete_post":              ClassAccount,
	"_account_link":                     ClassLogin,
	"_account_two_factor_post":          ClassOTP,
	"_account_two_factor_email_post":    ClassMailSend,
	"_login_passkey_post":               ClassLogin,
	"_account_passkey_add_post":         ClassOTP,
	"_account_passkey_rename_post":      ClassAccount,
	"_account_passkey_remove_post":      ClassAccount,

	// Sign-in by mail (pages_email.go): the requests mail, as the API's.
	"_login_email_link_post": ClassMailSend,
	"_login_email_code_post": ClassMailSend,
	"_login_link_post":       ClassLogin,
	"_login_code_post":       ClassLogin,
}

// RouteLimitClasses returns a copy of the route name → limit class table.
func RouteLimitClasses() map[string]string {
	out := make(map[string]string, len(routeLimitClasses))
	for k, v := range routeLimitClasses {
		out[k] = v
	}
	return out
}

// accountFields are the request fields naming the target account, per
// route; they are read from the body (JSON or form) and the query.
var accountFields = map[string][]string{
	"login":                         {"username"},
	"forgot_password_request":       {"username", "email"},
	"forgot_password_request_get":   {"username", "email"},
	"_login_post":                   {"username"},
	"_signin_post":                  {"username"},
	"_forgot_password_request_post": {"username", "email"},
	"_login_email_link_post":        {"email"},
	"_login_email_code_post":        {"email"},
	"_login_code_post":              {"email"},
}

// maxAccountKeyLen bounds the account name a limit key is made of.
const maxAccountKeyLen = 320

// limiter applies the limits of RateLimitOptions.
type limiter struct {
	l       usermgmt.Limiter
	global  usermgmt.Rate
	classes map[string]LimitClass
	log     *slog.Logger
	refused refusals // counts refusals (telemetry.go)
}

func newLimiter(m *usermgmt.Manager, o RateLimitOptions, log *slog.Logger) *limiter {
	if !o.Enabled {
		return nil
	}
	lim := &limiter{l: m.Limiter(), global: o.Global, classes: DefaultLimitClasses(), log: log, refused: newRefusals(m)}
	if !lim.global.Valid() {
		lim.global = DefaultGlobalRate
	}
	for k, v := range o.Classes {
		lim.classes[k] = v
	}
	return lim
}

// ipKey is the client's address as a limit key: IPv6 clients by their /64,
// which one subscriber usually holds whole.
func ipKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	if a.Is6() && !a.Is4In6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

// accountKey hashes a normalised account name, so that no limiter store
// holds usernames or emails.
func accountKey(name string) string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(name))))
	return hex.EncodeToString(sum[:12])
}

// refusal answers a request the limiter refused, with err (ErrRateLimited
// or ErrLimiterUnavailable; Retry-After is set): writeError for the API,
// pages.limited for a page's form.
type refusal func(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error)

// check asks the limiter about key under rate; when it refuses (or cannot
// decide) it answers the request with refuse and returns false.
// class names the limit in the refusal counter.
func (lim *limiter) check(w http.ResponseWriter, r *http.Request, class, key string, rate usermgmt.Rate, refuse refusal) bool {
	if !rate.Valid() {
		return true
	}
	d, err := lim.l.Allow(r.Context(), key, rate)
	if err != nil {
		// No line per request: the limiter logs its outage once (the
		// Redis limiter when its breaker opens and closes), and
		// writeError logs this answer at DEBUG.
		w.Header().Set("Retry-After", "1")
		refuse(w, r, lim.log, usermgmt.ErrLimiterUnavailable.Wrap(err))
		return false
	}
	setRateHeaders(w.Header(), rate, d)
	if !d.Allowed {
		w.Header().Set("Retry-After", strconv.Itoa(seconds(d.RetryAfter)))
		lim.refused.add(r.Context(), class)
		refuse(w, r, lim.log, usermgmt.ErrRateLimited)
		return false
	}
	return true
}

// seconds rounds d up to whole seconds, at least 1.
func seconds(d time.Duration) int {
	return max(1, int(math.Ceil(d.Seconds())))
}

// setRateHeaders writes the RateLimit-* fields (IETF httpapi draft) of a
// decision; a stricter limit checked later overwrites them.
func setRateHeaders(h http.Header, rate usermgmt.Rate, d usermgmt.Decision) {
	h.Set("RateLimit-Limit", strconv.Itoa(d.Limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(max(0, d.Remaining)))
	h.Set("RateLimit-Reset", strconv.Itoa(seconds(d.Reset)))
	h.Set("RateLimit-Policy", strconv.Itoa(rate.Limit)+";w="+strconv.Itoa(seconds(rate.Window)))
}

// middleware applies the global limit to every request but those of
// unlimited ("METHOD /path" of the Unlimited routes; HEAD as GET).
func (lim *limiter) middleware(next http.Handler, unlimited map[string]bool) http.Handler {
	if lim == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		method := r.Method
		if method == http.MethodHead {
			method = http.MethodGet
		}
		if unlimited[method+" "+r.URL.Path] {
			next.ServeHTTP(w, r)
			return
		}
		ip := ipKey(usermgmt.ClientInfoFrom(r.Context()).IP)
		if lim.check(w, r, "global", "rl:global:"+ip, lim.global, writeError) {
			next.ServeHTTP(w, r)
		}
	})
}

// route applies the class limits of route name, by client IP and by the
// account the request names; refuse answers a refused request.
func (lim *limiter) route(rt Route, next http.Handler, refuse refusal) http.Handler {
	if lim == nil {
		return next
	}
	class, ok := routeLimitClasses[rt.Name]
	fields := accountFields[rt.Name]
	if !ok && rt.Limit != "" {
		class, ok, fields = rt.Limit, true, rt.LimitAccount
	}
	if !ok {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c := lim.classes[class]
		ip := ipKey(usermgmt.ClientInfoFrom(r.Context()).IP)
		if !lim.check(w, r, class, "rl:"+class+":ip:"+ip, c.IP, refuse) {
			return
		}
		if len(fields) > 0 && c.Account.Valid() {
			for _, acct := range requestAccounts(r, fields) {
				if !lim.check(w, r, class, "rl:"+class+":acct:"+accountKey(acct), c.Account, refuse) {
					return
				}
			}
		}
		next.ServeHTTP(w, r)
	})
}

// requestAccounts returns the non-empty values of the account fields,
// from the query and the body (JSON or form). The body, already bounded
// by the body-size limit, is read once and put back for the handler; one
// that cannot be read or decoded names no account (the handler reports
// it).
func requestAccounts(r *http.Request, names []string) []string {
	var out []string
	add := func(v string) {
		// As the Manager reads a login or an address: spaces around it do
		// not count, so padding cannot move a name to another bucket. A
		// value too long to name an account still counts, cut short.
		v = strings.ToLower(strings.TrimSpace(v))
		if v == "" {
			return
		}
		out = append(out, v[:min(len(v), maxAccountKeyLen)])
	}
	q := r.URL.Query()
	for _, n := range names {
		add(q.Get(n))
	}
	if r.Body == nil || r.Body == http.NoBody {
		return out
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		// Hand the handler what was read, then the same error (a body over
		// the size limit still answers 413).
		r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
		return out
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	if len(body) == 0 {
		return out
	}
	probe := r.Clone(r.Context())
	probe.Body = io.NopCloser(bytes.NewReader(body))
	f, err := ReadFields(probe, jsonOrForm)
	if err != nil {
		return out
	}
	for _, n := range names {
		if s, ok := f.String(n); ok {
			add(s)
		}
	}
	return out
}

// RateLimit limits a host's own routes to rate per client IP (the socket
// peer, or the IP New's middleware found behind trusted proxies), deciding
// with the Manager's Limiter; name separates the counters of different
// uses. A refused request gets 429 with Retry-After and RateLimit-* headers.
func RateLimit(m *usermgmt.Manager, name string, rate usermgmt.Rate) func(http.Handler) http.Handler {
	log := m.Config().Logger
	lim := &limiter{l: m.Limiter(), log: log, refused: newRefusals(m)}
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ip := usermgmt.ClientInfoFrom(r.Context()).IP
			if ip == "" {
				ip = clientIP(r, nil)
			}
			if lim.check(w, r, "host", "rl:host:"+name+":"+ipKey(ip), rate, writeError) {
				next.ServeHTTP(w, r)
			}
		})
	}
}

// errReader fails every read with err.
type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }
