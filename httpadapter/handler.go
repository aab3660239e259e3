package httpadapter

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
)

// New returns one http.Handler for the whole surface: the API under
// opts.Prefix and the root routes (/ping, /version). Mount it at "/" of the
// host's mux; the host's own routes registered beside it take precedence.
//
// Every request passes through the same global middleware, outermost first:
// with the Manager's OpenTelemetry providers (usermgmt.WithMeterProvider,
// WithTracerProvider) a server span continuing the request's traceparent
// and the request-duration histogram by route pattern (docs/metrics.md),
// panic recovery, the client's IP and user agent (usermgmt.WithClientInfo),
// a request log line (method, path without the query, status, duration),
// the body size limit, CORS (with Vary: Origin on every answer when
// opts.CORS lists origins) and the global rate limit (opts.RateLimit).
// Each route then bounds its body (Options.MaxBodyBytes;
// Config.MaxUploadBytes for uploads), applies its class's stricter rate
// limits (RouteLimitClasses) and, with opts.FeatureFlags, its feature flag
// (Route.Flag): matching is by the route, so the method counts. Then the
// route table (Routes) dispatches it;
// unknown paths get a JSON 404, known paths asked with another method a JSON
// 405 with Allow.
//
// Like http.ServeMux.Handle with a bad pattern, New panics when opts.Prefix
// cannot start a ServeMux pattern (it holds braces or spaces): that is a
// programming error, never a consequence of a request.
func New(m *usermgmt.Manager, opts Options) http.Handler {
	cfg := m.Config()
	opts = opts.withDefaults(cfg.Logger)
	h := &handler{
		m:      m,
		prefix: opts.Prefix,
		log:    opts.Logger,
		wire: wire{
			pictureBase: strings.TrimRight(cfg.BaseURL, "/") + opts.Prefix + "/user/",
			fileBase:    strings.TrimRight(cfg.BaseURL, "/") + opts.Prefix + "/file/",
		},
		maxBody:    opts.MaxBodyBytes,
		maxUpload:  cfg.MaxUploadBytes + uploadOverhead,
		version:    projectVersion(opts.Version),
		auth:       newAuthenticator(m, opts.CORS.credentialedOrigins()...),
		jwksMaxAge: opts.JWKSMaxAge,
	}
	fs := features(m)
	rs := routes(fs)
	if opts.Pages != nil {
		h.pages = newPages(h, *opts.Pages, pageWidgets(rs))
	}
	h.limits = newLimiter(m, opts.RateLimit, h.log)
	obs, err := newObserver(m)
	if err != nil {
		h.log.Warn("request metrics off: histogram not created", "err", err)
	}
	h.flags = opts.FeatureFlags
	h.callbackHTML = opts.OAuthCallbackHTML
	h.docs = newDocs(opts, h.version, fs)

	mux := http.NewServeMux()
	probe := http.NewServeMux() // the same routes without the fallback, to tell 404 from 405
	var methods []string
	unlimited := map[string]bool{} // the paths of Unlimited routes, for the global limit
	for _, rt := range rs {
		if rt.Page && h.pages == nil || rt.SwaggerUI && opts.SwaggerUI == nil {
			continue
		}
		pattern := rt.Method + " " + muxPath(rt.fullPath(opts.Prefix))
		serve := h.bind(rt)
		mux.Handle(pattern, serve)
		probe.Handle(pattern, serve)
		methods = append(methods, rt.Method)
		if rt.Unlimited {
			unlimited[rt.Method+" "+rt.fullPath(opts.Prefix)] = true
		}
		if rt.Method == http.MethodGet {
			methods = append(methods, http.MethodHead)
		}
	}
	mux.Handle("/", h.fallback(probe, methods, opts.Prefix))

	var next http.Handler = mux
	if obs != nil {
		next = notePattern(next)
	}
	next = h.limits.middleware(next, unlimited)
	next = newCORS(opts.CORS).middleware(next)
	next = logRequests(h.log)(next)
	next = withClientInfo(opts.TrustedProxies)(next)
	next = recoverPanics(h.log)(next)
	return obs.middleware(next)
}

// handler holds what the routes share.
type handler struct {
	m       *usermgmt.Manager
	prefix  string
	log     *slog.Logger
	wire    wire
	version string
	auth    *authenticator
	// maxBody bounds request bodies; maxUpload those of upload routes (a
	// feature's route may have its own bound: featureEndpoint).
	maxBody, maxUpload int64
	pages              *pages   // nil without Options.Pages
	limits             *limiter // nil: rate limits off
	flags              bool     // gate routes by their feature flags
	docs               *docs
	jwksMaxAge         time.Duration // Options.JWKSMaxAge
	callbackHTML       bool          // Options.OAuthCallbackHTML
}

// muxPath turns a route path into a ServeMux pattern path: a trailing slash
// matches only itself, as in FastAPI, not a subtree.
func muxPath(p string) string {
	if strings.HasSuffix(p, "/") {
		return p + "{$}"
	}
	return p
}

// bind returns the http.Handler serving rt, its body bounded by
// Options.MaxBodyBytes, for an upload route by Config.MaxUploadBytes
// plus room for the multipart framing, and for a feature's route with
// Endpoint.MaxBodyBytes by that (smaller or larger than the general
// limit).
func (h *handler) bind(rt route) http.Handler {
	limit := h.maxBody
	if rt.Upload {
		limit = max(limit, h.maxUpload)
	}
	if fe, ok := rt.ep.(featureEndpoint); ok && fe.maxBody > 0 {
		limit = fe.maxBody
	}
	var next http.Handler = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rt.ep.serve(h, w, r, rt.Auth)
	})
	if !rt.Page {
		next = withOTPPath(h.prefix, next) // otp.go: the challenge cookie's path
	}
	if len(rt.checks) > 0 {
		next = h.guarded(rt, next)
	}
	if h.flags {
		next = flagGate(h.m, h.auth, h.log, rt.Flag, next)
	}
	if sessionOnlyRoute(rt.Route) {
		next = markSessionOnly(next)
	}
	refuse := refusal(writeError)
	if rt.Page && h.pages != nil {
		refuse = h.pages.limited // a person at a form reads a page, not JSON
	}
	return limitBody(limit, h.log)(h.limits.route(rt.Route, next, refuse))
}

// fallback answers the requests no route matched: 405 with Allow when the
// path is served with other methods (those of the route table, tried on
// probe), 404 otherwise.
func (h *handler) fallback(probe *http.ServeMux, methods []string, prefix string) http.Handler {
	order := []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete}
	slices.SortStableFunc(methods, func(a, b string) int {
		ia, ib := slices.Index(order, a), slices.Index(order, b)
		if ia < 0 {
			ia = len(order)
		}
		if ib < 0 {
			ib = len(order)
		}
		if ia != ib {
			return ia - ib
		}
		return strings.Compare(a, b)
	})
	methods = slices.Compact(methods)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var allow []string
		for _, method := range methods {
			if method == r.Method {
				continue
			}
			alt := *r
			alt.Method = method
			if _, pattern := probe.Handler(&alt); pattern != "" {
				allow = append(allow, method)
			}
		}
		if len(allow) == 0 && h.pages != nil && acceptsHTML(r) && !underPrefix(r.URL.Path, prefix) {
			h.pages.notFoundPage(w, r) // a browser lost outside the API
			return
		}
		if len(allow) == 0 {
			writeError(w, r, h.log, errNotFound)
			return
		}
		w.Header().Set("Allow", strings.Join(allow, ", "))
		writeError(w, r, h.log, errMethodNotAllowed)
	})
}

// underPrefix reports whether path is the API's (always, when the API is
// served at the root).
func underPrefix(path, prefix string) bool {
	return prefix == "" || path == prefix || strings.HasPrefix(path, prefix+"/")
}

// fail answers err.
func (h *handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	noteAnswer(r, err)
	writeError(w, r, h.log, err)
}

// An endpoint is the behaviour of a route.
type endpoint interface {
	serve(h *handler, w http.ResponseWriter, r *http.Request, auth bool)
}

// op is the shape of every handler: decode and bound the input, then
// authenticate (when the route requires it), then call one Manager method
// as the caller, then encode the result. Decoding is pure (no Manager
// call), so no business rule can hide in it.
type op[In any] struct {
	decode func(r *http.Request) (In, error)
	call   func(h *handler, ctx context.Context, p *usermgmt.Principal, in In) (response, error)
}

func (o op[In]) serve(h *handler, w http.ResponseWriter, r *http.Request, auth bool) {
	in, err := o.decode(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var p *usermgmt.Principal
	ctx := r.Context()
	if auth {
		if cur, ok := CurrentPrincipal(ctx); ok { // the flag gate authenticated
			p = cur
		} else if p, ctx, err = h.auth.caller(w, r); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if err := runChecks(r); err != nil { // the Guards' (routeguard.go)
		h.fail(w, r, err)
		return
	}
	res, err := o.call(h, usermgmt.ContextWithCaller(ctx, p), p, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res.write(w, r, h.log)
}

// runsChecks marks the endpoints that run the Guards' checks themselves,
// between decoding and the Manager call.
func (op[In]) runsChecks() {}

// none is the input of routes that take none.
type none struct{}

func noInput(*http.Request) (none, error) { return none{}, nil }

// response is a successful answer.
type response struct {
	status int
	kind   responseKind
	json   any
	text   string
	raw    []byte      // kindRaw: the body, of type header's Content-Type
	header http.Header // extra headers, when not nil
}

type responseKind uint8

const (
	kindJSON responseKind = iota
	kindText
	kindEmpty
	kindRaw
)

// jsonOK answers 200 with v as JSON.
func jsonOK(v any) response { return response{status: http.StatusOK, kind: kindJSON, json: v} }

// textOK answers 200 with s as text/plain.
func textOK(s string) response { return response{status: http.StatusOK, kind: kindText, text: s} }

// empty answers status with no body.
func empty(status int) response { return response{status: status, kind: kindEmpty} }

func (res response) write(w http.ResponseWriter, r *http.Request, log *slog.Logger) {
	hdr := w.Header()
	setNoStore(hdr)
	for k, vs := range res.header {
		hdr[k] = vs
	}
	hdr.Set("X-Content-Type-Options", "nosniff")
	switch res.kind {
	case kindJSON:
		body, err := json.Marshal(res.json)
		if err != nil {
			writeError(w, r, log, usermgmt.ErrInternal.Wrap(err))
			return
		}
		hdr.Set("Content-Type", "application/json")
		hdr.Set("Content-Length", strconv.Itoa(len(body)))
		w.WriteHeader(res.status)
		_, _ = w.Write(body)
	case kindText:
		hdr.Set("Content-Type", "text/plain; charset=utf-8")
		hdr.Set("Content-Length", strconv.Itoa(len(res.text)))
		w.WriteHeader(res.status)
		_, _ = w.Write([]byte(res.text))
	case kindRaw:
		hdr.Set("Content-Length", strconv.Itoa(len(res.raw)))
		w.WriteHeader(res.status)
		_, _ = w.Write(res.raw)
	default:
		if res.status != http.StatusNoContent {
			hdr.Set("Content-Length", "0")
		}
		w.WriteHeader(res.status)
	}
}
