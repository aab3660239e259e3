package httpadapter

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"slices"
)

// The guard seam: a feature that checks the requests of routes, its own or
// the core's, before their handler calls the Manager (a CAPTCHA, say),
// without the core or this package knowing what it checks.
//
// For each route of the table, New asks every Guard among the Manager's
// features for a Check. A route's checks run after its rate limits, its
// feature flag, the decoding of its input and the authentication of its
// caller (for a hosted page's form: after the origin and form-token
// checks), just before the one Manager call; a check's error is answered
// as the route answers the Manager's (JSON for the API, the form's page
// again for a page). Then, once the handler has answered, each check's
// After learns the outcome.

// A Guard is a feature with HTTP routes (Feature: its Endpoints may be
// none) that checks the requests of routes.
type Guard interface {
	Feature
	// GuardRoute returns the check of rt, nil to leave the route alone.
	// New (and OpenAPI) call it once per route of the table.
	GuardRoute(rt Route) *Check
}

// A Check is what a Guard does on one route.
type Check struct {
	// Before checks a request, given its input: the fields of its body
	// (JSON or form), or of its query when it has no body. A body that
	// does not decode gives empty fields (the route's decoder has
	// answered it already). A non-nil error refuses the request: the
	// route answers it (a *usermgmt.Error with its status; anything else
	// is a 500).
	Before func(r *http.Request, in *Fields) error
	// After, when set, learns how a request that Before let through
	// ended, with the same fields: err is nil when the handler succeeded,
	// else the error it answered (the Manager's, such as
	// usermgmt.ErrInvalidLogin).
	After func(r *http.Request, in *Fields, err error)
	// Statuses are the statuses Before may answer, declared in the
	// route's OpenAPI operation (400 for a failed check).
	Statuses []int
	// Params are the header or query parameters Before reads, declared
	// in the route's OpenAPI operation.
	Params []Param
	// Widget, for a hosted page's form, is what the form shows for the
	// check (a CAPTCHA's element and script); nil shows nothing.
	Widget *Widget
}

// A Widget is what a hosted page's form shows for a Check: the element
// a provider's script renders into (the "captcha" template of the pages,
// pages/captcha.html), and the origins the pages' Content-Security-Policy
// then allows.
type Widget struct {
	// ScriptURL is the provider's script, loaded async.
	ScriptURL string
	// Class is the class of the element the script renders into
	// ("cf-turnstile").
	Class string
	// SiteKey is the provider's public key of the site.
	SiteKey string
	// Action, when set, names the form's action to the provider
	// (data-action).
	Action string
	// Invisible is true for a score-based check with no element to show
	// (reCAPTCHA v3): the pages' script asks the provider for a token as
	// the form is sent, into the hidden field captcha_token.
	Invisible bool
	// Origins are the provider's origins, added to the pages' script-src,
	// frame-src, style-src and connect-src.
	Origins []string
}

// guards returns the features of fs that guard routes.
func guards(fs []Feature) []Guard {
	var gs []Guard
	for _, f := range fs {
		if g, ok := f.(Guard); ok {
			gs = append(gs, g)
		}
	}
	return gs
}

// withChecks asks gs for the checks of every route of rs, recording them
// on the route and adding their statuses to its Statuses.
func withChecks(rs []route, gs []Guard) []route {
	if len(gs) == 0 {
		return rs
	}
	for i := range rs {
		for _, g := range gs {
			c := g.GuardRoute(rs[i].Route)
			if c == nil || c.Before == nil {
				continue
			}
			rs[i].checks = append(rs[i].checks, c)
			for _, s := range c.Statuses {
				if s != rs[i].Status && !containsInt(rs[i].Statuses, s) {
					rs[i].Statuses = append(append([]int(nil), rs[i].Statuses...), s)
				}
			}
		}
	}
	return rs
}

func containsInt(xs []int, x int) bool {
	for _, v := range xs {
		if v == x {
			return true
		}
	}
	return false
}

// guardState is the checks of one request, on its context: the body read
// for them, whether they ran, and the error the request was answered with.
type guardState struct {
	checks []*Check
	body   []byte // nil: none, or it could not be read
	in     *Fields
	ran    bool  // Before ran (and let the request through)
	err    error // the error answered, nil for a success
}

type guardKey struct{}

// guarded wraps next, the handler of a route with checks: the body is
// read (already bounded) and put back for the handler, the state goes on
// the context for runChecks, and After is called at the end. The
// endpoints of Handle and the core's handlers run the checks after
// decoding, the pages' forms after their token check; any other endpoint
// has them run here, first.
func (h *handler) guarded(rt route, next http.Handler) http.Handler {
	ep := rt.ep
	if fe, ok := ep.(featureEndpoint); ok {
		ep = fe.endpoint
	}
	_, inside := ep.(interface{ runsChecks() })
	inside = inside || rt.Page && rt.Method == http.MethodPost // pages.form runs them
	checks := rt.checks
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		st := &guardState{checks: checks}
		if r.Body != nil && r.Body != http.NoBody {
			body, err := io.ReadAll(r.Body)
			if err != nil {
				// Hand the handler what was read, then the same error
				// (a body over the limit still answers 413).
				r.Body = io.NopCloser(io.MultiReader(bytes.NewReader(body), errReader{err}))
			} else {
				st.body = body
				r.Body = io.NopCloser(bytes.NewReader(body))
			}
		}
		r = r.WithContext(context.WithValue(r.Context(), guardKey{}, st))
		if !inside {
			if err := runChecks(r); err != nil {
				h.fail(w, r, err)
				return
			}
		}
		next.ServeHTTP(w, r)
		if !st.ran {
			return
		}
		for _, c := range st.checks {
			if c.After != nil {
				c.After(r, st.in, st.err)
			}
		}
	})
}

// runChecks runs the Before of the request's checks, if it has any and
// they have not run; the first error refuses the request.
func runChecks(r *http.Request) error {
	st, ok := r.Context().Value(guardKey{}).(*guardState)
	if !ok || st.ran {
		return nil
	}
	in := checkInput(r, st.body)
	st.in = in
	for _, c := range st.checks {
		if err := c.Before(r, in); err != nil {
			st.err = err
			return err
		}
	}
	st.ran = true
	return nil
}

// checkInput decodes the fields a check reads: the body's, else the
// query's; empty when neither decodes.
func checkInput(r *http.Request, body []byte) *Fields {
	if len(bytes.TrimSpace(body)) > 0 {
		probe := r.Clone(r.Context())
		probe.Body = io.NopCloser(bytes.NewReader(body))
		if f, err := ReadFields(probe, jsonOrForm); err == nil {
			return f
		}
		return &Fields{form: url.Values{}}
	}
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		q = url.Values{}
	}
	return &Fields{form: q}
}

// noteAnswer records err as the error a guarded request was answered with.
func noteAnswer(r *http.Request, err error) {
	if st, ok := r.Context().Value(guardKey{}).(*guardState); ok && st.ran {
		st.err = err
	}
}

// Get returns the string value of a field, "" when it is absent or not a
// string: what a Check reads of a request's fields. It records no
// problem (Err stays as it was).
func (f *Fields) Get(name string) string {
	if f == nil {
		return ""
	}
	raw, v, ok := f.raw(name)
	if !ok {
		return ""
	}
	if raw == nil {
		return v
	}
	var s string
	if err := json.Unmarshal(raw, &s); err != nil {
		return ""
	}
	return s
}

// formPages names the page each hosted form is on, by the form's route.
var formPages = map[string]string{
	"_login_post":                   "login",
	"_signin_post":                  "login",
	"_register_post":                "register",
	"_signup_post":                  "register",
	"_otp_post":                     "otp",
	"_forgot_password_request_post": "forgot",
	"_forgot_password_reset_post":   "reset",
	"_reset_password_request_post":  "resetrequest",
	"_reset_password_reset_post":    "change",
}

// pageWidgets returns the widgets of the pages' forms, by page: those of
// the checks of the forms' routes.
func pageWidgets(rs []route) map[string]*Widget {
	ws := map[string]*Widget{}
	for _, rt := range rs {
		page, ok := formPages[rt.Name]
		if !ok || !rt.Page {
			continue
		}
		for _, c := range rt.checks {
			if c.Widget != nil {
				ws[page] = c.Widget
			}
		}
	}
	return ws
}

// widgetOrigins returns the origins the widgets load from, each once, in
// a stable order.
func widgetOrigins(ws map[string]*Widget) []string {
	var out []string
	for _, w := range ws {
		for _, o := range w.Origins {
			if !slices.Contains(out, o) {
				out = append(out, o)
			}
		}
	}
	slices.Sort(out)
	return out
}

// pagesCSP is the pages' Content-Security-Policy: this origin only,
// forms posted to formAction, and the widgets' origins (a CAPTCHA's
// script, frames and styles) when there are any.
func pagesCSP(formAction string, origins []string) string {
	extra := ""
	for _, o := range origins {
		extra += " " + o
	}
	csp := "default-src 'none'; script-src 'self'" + extra + "; style-src 'self'" + extra +
		"; img-src 'self'; connect-src 'self'" + extra + "; "
	if extra != "" {
		csp += "frame-src" + extra + "; "
	}
	return csp + "form-action " + formAction + "; frame-ancestors 'none'; base-uri 'none'"
}

// checkParams returns the OpenAPI parameters the checks of a route read.
func checkParams(checks []*Check) []any {
	var out []any
	for _, c := range checks {
		for _, q := range c.Params {
			out = append(out, paramObject(param{name: q.Name, in: q.In, required: q.Required, desc: q.Description, schema: q.Schema}))
		}
	}
	return out
}
