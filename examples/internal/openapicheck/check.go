package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path"
	"slices"
	"strings"
	"sync"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/legacy"
)

// Answer is an answer the suite recorded: the request's method, target and
// header, and the answer's status, header and body, with the test that
// recorded it and the name of the document that answered it.
type Answer struct {
	Test      string      `json:"test"`
	Doc       string      `json:"doc"`
	Method    string      `json:"method"`
	Target    string      `json:"target"`
	ReqHeader http.Header `json:"req_header"`
	Status    int         `json:"status"`
	Header    http.Header `json:"header"`
	Body      []byte      `json:"body"`
}

// checker checks answers, loading each document once.
type checker struct {
	load func(name string) ([]byte, error)
	docs map[string]*spec
}

// spec is a loaded document and its router, or why it could not be loaded.
type spec struct {
	doc    *openapi3.T
	router routers.Router
	err    error
}

// htmlDecoder registers, once, a decoder for text/html bodies (pages
// answered by API routes, such as the OAuth callback's), which kin-openapi
// has none of: the page is checked as the string it is.
var htmlDecoder sync.Once

func newChecker(load func(name string) ([]byte, error)) *checker {
	htmlDecoder.Do(func() { openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder) })
	return &checker{load: load, docs: map[string]*spec{}}
}

// spec returns the loaded document name.
func (c *checker) spec(name string) *spec {
	if s, ok := c.docs[name]; ok {
		return s
	}
	data, err := c.load(name)
	s := &spec{err: err}
	if err == nil {
		s = loadSpec(data)
	}
	c.docs[name] = s
	return s
}

// loadSpec parses and validates the document and builds its router.
func loadSpec(data []byte) *spec {
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(data)
	if err != nil {
		return &spec{err: fmt.Errorf("load the document: %w", err)}
	}
	if err := doc.Validate(context.Background()); err != nil {
		return &spec{err: fmt.Errorf("the document is not valid OpenAPI: %w", err)}
	}
	r, err := legacy.NewRouter(doc)
	if err != nil {
		return &spec{err: fmt.Errorf("route the document: %w", err)}
	}
	return &spec{doc: doc, router: r}
}

// check returns where the answer a departs from its document: nil when it
// conforms or the document does not describe the request. The status must
// be declared by the operation itself (not only under "default", which is
// kept for 5XX), and the body and declared headers must match their
// schemas.
func (c *checker) check(a Answer) error {
	s := c.spec(a.Doc)
	if s.err != nil {
		return s.err
	}
	req := httptest.NewRequest(a.Method, a.Target, nil)
	for k, v := range a.ReqHeader {
		req.Header[k] = v
	}
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		// The legacy router returns fresh RouteErrors with the sentinels'
		// reasons, which errors.Is cannot match.
		if re, ok := errors.AsType[*routers.RouteError](err); ok &&
			(re.Reason == routers.ErrPathNotFound.Error() || re.Reason == routers.ErrMethodNotAllowed.Error()) {
			return nil
		}
		return fmt.Errorf("find the route: %w", err)
	}
	if muxRedirect(req, a) {
		return nil
	}
	if err := undeclaredHeaders(route.Operation, a); err != nil {
		return fmt.Errorf("operation %s: %w", route.Operation.OperationID, err)
	}
	if a.Status == 499 { // nginx's Client Closed Request, as httpadapter answers a canceled request
		// Written to a client that has already gone (a canceled request):
		// nobody reads it, and the document does not describe it.
		return nil
	}
	if a.Status < 500 && route.Operation.Responses.Status(a.Status) == nil {
		return fmt.Errorf("operation %s does not declare status %d (body %s)", route.Operation.OperationID, a.Status, a.Body)
	}
	in := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 a.Status,
		Header:                 a.Header,
		Body:                   io.NopCloser(bytes.NewReader(a.Body)),
		Options: &openapi3filter.Options{
			IncludeResponseStatus: true,
			MultiError:            true,
			AuthenticationFunc:    openapi3filter.NoopAuthenticationFunc,
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
		return fmt.Errorf("operation %s: %w (body %.300s)", route.Operation.OperationID, err, a.Body)
	}
	return nil
}

// muxRedirect reports whether a is http.ServeMux's redirect of a path to
// its canonical form (the path with a trailing slash, or cleaned), which no
// operation answers.
func muxRedirect(req *http.Request, a Answer) bool {
	if a.Status != http.StatusMovedPermanently && a.Status != http.StatusTemporaryRedirect && a.Status != http.StatusPermanentRedirect {
		return false
	}
	loc, err := url.Parse(a.Header.Get("Location"))
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

// undeclaredHeaders returns an error naming the headers of a that its
// response in op does not declare.
func undeclaredHeaders(op *openapi3.Operation, a Answer) error {
	r := op.Responses.Status(a.Status)
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
	for name := range a.Header {
		if !genericHeaders[name] && !strings.HasPrefix(name, "Access-Control-") && !declared[name] {
			missing = append(missing, name)
		}
	}
	if missing != nil {
		slices.Sort(missing)
		return fmt.Errorf("status %d carries undeclared headers %v", a.Status, missing)
	}
	return nil
}
