package httpadapter_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"path"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Every answer the suite records through serve is checked against the
// OpenAPI document the same handler serves at /openapi.json, with
// kin-openapi (software nobody here wrote): the status must be declared by
// the operation itself (not only under "default", which is kept for the
// 5XX of bugs; an outage's 503 and 507 are the operation's own),
// and the body and declared headers must match their schemas. Requests
// the document does not describe (the hosted pages, the documentation,
// paths no route serves) are not checked; a handler that does not serve the
// document (a test's own mux) is not either.

// conformance holds the parsed documents, by the hash of their bytes, so
// that each distinct document (features, prefix) is loaded once.
var conformance struct {
	mu   sync.Mutex
	docs map[[32]byte]*specRouter
}

// specRouter is a loaded document and its router.
type specRouter struct {
	doc    *openapi3.T
	router routers.Router
	err    error
}

// conformanceFetches numbers the fetches of the document.
var conformanceFetches atomic.Uint32

// htmlDecoder registers, once, a decoder for text/html bodies (pages
// answered by API routes, such as the OAuth callback's), which kin-openapi
// has none of: the page is checked as the string it is.
var htmlDecoder sync.Once

// documentOf returns the document h serves, nil when it serves none.
func documentOf(h http.Handler) *specRouter {
	htmlDecoder.Do(func() { openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder) })
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(http.MethodGet, "/openapi.json", nil)
	// Each fetch comes from an address of its own (in 100.64.0.0/10, which
	// no test trusts as a proxy), so that it spends no client's rate limit.
	n := conformanceFetches.Add(1)
	req.RemoteAddr = netip.AddrFrom4([4]byte{100, 64 | byte(n>>16&0x3f), byte(n >> 8), byte(n)}).String() + ":9"
	h.ServeHTTP(rec, req)
	if rec.Code != http.StatusOK {
		return nil
	}
	data := rec.Body.Bytes()
	key := sha256.Sum256(data)
	conformance.mu.Lock()
	defer conformance.mu.Unlock()
	if sr, ok := conformance.docs[key]; ok {
		return sr
	}
	sr := loadSpec(data)
	if conformance.docs == nil {
		conformance.docs = map[[32]byte]*specRouter{}
	}
	conformance.docs[key] = sr
	return sr
}

// loadSpec parses and validates the document and builds its router.
func loadSpec(data []byte) *specRouter {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return &specRouter{err: fmt.Errorf("load the document: %w", err)}
	}
	if err := doc.Validate(context.Background()); err != nil {
		return &specRouter{err: fmt.Errorf("the document is not valid OpenAPI: %w", err)}
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return &specRouter{err: fmt.Errorf("route the document: %w", err)}
	}
	return &specRouter{doc: doc, router: r}
}

// checkConformance reports, through t, where the answer res to the request
// (method, target and header of req) departs from the document h serves.
func checkConformance(t testing.TB, h http.Handler, req *http.Request, res result) {
	t.Helper()
	if err := conformanceError(h, req, res); err != nil {
		t.Errorf("OpenAPI conformance of %s %s → %d: %v", req.Method, req.URL.RequestURI(), res.status, err)
	}
}

// conformanceError is checkConformance's verdict, nil when the answer
// conforms or the document does not describe the request.
func conformanceError(h http.Handler, req *http.Request, res result) error {
	if req.URL.Path == "/openapi.json" {
		return nil
	}
	sr := documentOf(h)
	if sr == nil {
		return nil
	}
	if sr.err != nil {
		return sr.err
	}
	route, params, err := sr.router.FindRoute(req)
	if err != nil {
		// The legacy router returns fresh RouteErrors with the sentinels'
		// reasons, which errors.Is cannot match.
		if re, ok := errors.AsType[*routers.RouteError](err); ok &&
			(re.Reason == routers.ErrPathNotFound.Error() || re.Reason == routers.ErrMethodNotAllowed.Error()) {
			return nil
		}
		return fmt.Errorf("find the route: %w", err)
	}
	if muxRedirect(req, res) {
		return nil
	}
	if err := undeclaredHeaders(route.Operation, res); err != nil {
		return fmt.Errorf("operation %s: %w", route.Operation.OperationID, err)
	}
	if res.status == 499 { // nginx's Client Closed Request, as httpadapter answers a canceled request
		// Written to a client that has already gone (a canceled request):
		// nobody reads it, and the document does not describe it.
		return nil
	}
	if declaredByOperation(res.status) && route.Operation.Responses.Status(res.status) == nil {
		return fmt.Errorf("operation %s does not declare status %d (body %s)", route.Operation.OperationID, res.status, res.body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 res.status,
		Header:                 res.header,
		Body:                   io.NopCloser(bytes.NewReader(res.body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("operation %s: %w (body %.300s)", route.Operation.OperationID, err, res.body)
	}
	return nil
}

// declaredByOperation reports whether an answer of status must be
// declared by its operation: every status but the 5XX of bugs, which
// "default" describes. The outages' 503 and 507 are not bugs.
func declaredByOperation(status int) bool {
	return status < 500 || status == http.StatusServiceUnavailable || status == http.StatusInsufficientStorage
}

// muxRedirect reports whether res is http.ServeMux's redirect of a path to
// its canonical form (the path with a trailing slash, or cleaned), which no
// operation answers.
func muxRedirect(req *http.Request, res result) bool {
	if res.status != http.StatusMovedPermanently && res.status != http.StatusTemporaryRedirect && res.status != http.StatusPermanentRedirect {
		return false
	}
	loc, err := url.Parse(res.header.Get("Location"))
	return err == nil && loc.Host == "" && loc.Path != req.URL.Path &&
		(loc.Path == req.URL.Path+"/" || loc.Path == path.Clean(req.URL.Path))
}

// genericHeaders are the response headers of HTTP itself (caching,
// content, security policy, CORS, cookies), which the document does not
// declare. Any other header an answer carries must be declared by its
// response in the document.
var genericHeaders = map[string]bool{
	"Allow": true, "Cache-Control": true, "Content-Disposition": true, "Content-Length": true,
	"Content-Security-Policy": true, "Content-Type": true, "Cross-Origin-Opener-Policy": true,
	"Cross-Origin-Resource-Policy": true, "Date": true, "Etag": true, "Last-Modified": true,
	"Permissions-Policy": true, "Referrer-Policy": true, "Set-Cookie": true, "Vary": true,
	"Www-Authenticate": true, "X-Content-Type-Options": true, "X-Frame-Options": true,
}

// undeclaredHeaders returns an error naming the headers of res that its
// response in op does not declare.
func undeclaredHeaders(op *openapi3.Operation, res result) error {
	r := op.Responses.Status(res.status)
	if r == nil {
		r = op.Responses.Default()
	}
	declared := map[string]bool{}
	if r != nil && r.Value != nil {
		for name := range r.Value.Headers {
			declared[http.CanonicalHeaderKey(name)] = true
		}
	}
	var missing []string
	for name := range res.header {
		if !genericHeaders[name] && !strings.HasPrefix(name, "Access-Control-") && !declared[name] {
			missing = append(missing, name)
		}
	}
	if missing != nil {
		slices.Sort(missing)
		return fmt.Errorf("status %d carries undeclared headers %v", res.status, missing)
	}
	return nil
}

// TestConformanceCatches shows the hook is not vacuous: an answer with an
// undeclared status, or a body of the wrong shape, is reported.
func TestConformanceCatches(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapterOptions(0))
	req := httptest.NewRequest(http.MethodGet, "/api/user/count", nil)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for _, tt := range []struct {
		name string
		res  result
	}{
		{"undeclared status", result{status: http.StatusTeapot, header: jsonHeader, body: []byte(`{"detail":"x","code":"y"}`)}},
		{"body of the wrong type", result{status: http.StatusOK, header: jsonHeader, body: []byte(`"many"`)}},
		{"error without its fields", result{status: http.StatusUnauthorized, header: jsonHeader, body: []byte(`{}`)}},
		{"an undeclared header", result{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}, "X-Secret-Cursor": {"1"}}, body: []byte("3")}},
		{"a rate-limit header of the wrong type", result{status: http.StatusOK, header: http.Header{"Content-Type": {"application/json"}, "Ratelimit-Remaining": {"many"}}, body: []byte("3")}},
	} {
		if err := conformanceError(e.h, req, tt.res); err == nil {
			t.Errorf("%s: %d %s passed the check", tt.name, tt.res.status, tt.res.body)
		}
	}
	good := result{status: http.StatusOK, header: jsonHeader, body: []byte(strconv.Itoa(3))}
	if err := conformanceError(e.h, req, good); err != nil {
		t.Errorf("a conforming answer was refused: %v", err)
	}
}

// TestConformanceOAuthResult: a provider login's token answer matches
// exactly one branch of OAuthResult, and so does a link's account.
func TestConformanceOAuthResult(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapterOptions(0))
	req := httptest.NewRequest(http.MethodGet, "/api/oauth/oidc/callback?state=s&code=c", nil)
	jsonHeader := http.Header{"Content-Type": {"application/json"}}
	for _, body := range []string{
		`{"access_token":"a","token_type":"bearer","refresh_token":"r","expires_in":900}`,
		`{"external_account_id":"sub","provider":"oidc","user_uuid":"u","username":"x","display_name":"","email":"","picture_url":""}`,
	} {
		if err := conformanceError(e.h, req, result{status: http.StatusOK, header: jsonHeader, body: []byte(body)}); err != nil {
			t.Errorf("%s: %v", body, err)
		}
	}
}
