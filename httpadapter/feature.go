package httpadapter

import (
	"context"
	"fmt"
	"net/http"

	"github.com/usermgmt/usermgmt"
)

// The HTTP seam of feature packages. A feature (usermgmt.Feature) that
// serves routes implements Feature too; New serves the endpoints of every
// feature of the Manager (usermgmt.WithFeature) that does, through the
// same middleware, authentication, flag gate, rate limits and error
// answers as the core's routes, and the OpenAPI document and Routes list
// them.

// A Feature is a usermgmt.Feature with HTTP routes.
type Feature interface {
	usermgmt.Feature
	// Endpoints returns the feature's routes, in the order to list them.
	Endpoints() []Endpoint
	// Schemas returns the OpenAPI component schemas (JSON Schema objects)
	// its endpoints' Request bodies and Responses name.
	Schemas() map[string]any
}

// An Endpoint is one route of a feature: its row of the route table, the
// OpenAPI description of its input, and its handler. Build it with Handle.
type Endpoint struct {
	Route
	// Input describes Route.Request for the OpenAPI document.
	Input Input
	// MaxBodyBytes, when > 0, bounds the request body instead of
	// Options.MaxBodyBytes (an import may need more, or less).
	MaxBodyBytes int64

	ep endpoint
}

// Input describes the parameters and body of a Request, for the OpenAPI
// document. Path parameters come from Route.Path.
type Input struct {
	// Params are the query and header parameters.
	Params []Param
	// Body names the component schema of the body, "" for none.
	Body string
	// BodyRequired is true when the body must be sent.
	BodyRequired bool
	// Media, when set, names another component schema for the body in
	// some of the route's Encodings (a multipart upload's parts beside a
	// JSON body), by media type.
	Media map[string]string
}

// Param is one query or header parameter.
type Param struct {
	Name        string
	In          string // "query" (when empty) or "header"
	Required    bool
	Description string
	Schema      map[string]any
}

// Handle builds an Endpoint from the shape every handler has: decode and
// bound the input (pure: no Manager call, so that no rule hides in it),
// then, once the caller is authenticated (when rt.Auth), call the feature
// once and encode its answer. An error from either answers as the core's
// errors do (a *usermgmt.Error with its status, anything else 500).
func Handle[In any](rt Route, decode func(r *http.Request) (In, error),
	call func(ctx context.Context, p *usermgmt.Principal, in In) (Response, error)) Endpoint {
	return Endpoint{Route: rt, ep: op[In]{decode: decode,
		call: func(_ *handler, ctx context.Context, p *usermgmt.Principal, in In) (response, error) {
			res, err := call(ctx, p, in)
			return res.r, err
		}}}
}

// NoInput is the decoder of a route that takes no input.
func NoInput(*http.Request) (struct{}, error) { return struct{}{}, nil }

// A Response is what a feature's handler answers. The core's headers
// (no-store, nosniff) are added to it.
type Response struct{ r response }

// JSON answers status with v encoded as JSON.
func JSON(status int, v any) Response {
	return Response{response{status: status, kind: kindJSON, json: v}}
}

// Text answers status with s as text/plain.
func Text(status int, s string) Response {
	return Response{response{status: status, kind: kindText, text: s}}
}

// Bytes answers status with body, of the given Content-Type.
func Bytes(status int, contentType string, body []byte) Response {
	return Response{response{status: status, kind: kindRaw, raw: body,
		header: http.Header{"Content-Type": {contentType}}}}
}

// JSONOr is the answer of a handler whose call returned v and err: err
// when there is one, else v encoded as JSON with status.
func JSONOr(status int, v any, err error) (Response, error) {
	if err != nil {
		return Response{}, err
	}
	return JSON(status, v), nil
}

// NoContent is the answer of a handler whose call returned only err: err
// when there is one, else 204 No Content.
func NoContent(err error) (Response, error) {
	if err != nil {
		return Response{}, err
	}
	return Bytes(http.StatusNoContent, "application/json", nil), nil
}

// WithHeader returns res with the header key set to value.
func (res Response) WithHeader(key, value string) Response {
	h := res.r.header.Clone()
	if h == nil {
		h = http.Header{}
	}
	h.Set(key, value)
	res.r.header = h
	return res
}

// TokenResponse answers 200 with t as the token answer of a password
// login (access_token, token_type, refresh_token, expires_in; schema
// "Token"): what a feature's sign-in route answers.
func TokenResponse(t *usermgmt.Tokens) Response { return JSON(http.StatusOK, newTokenResponse(t)) }

// Invalid is the 422 invalid_request error with msg for the client: what
// a feature's decoder answers a malformed input with.
func Invalid(msg string) error { return invalid(msg) }

// features returns the features of m that serve routes.
func features(m *usermgmt.Manager) []Feature {
	var fs []Feature
	for _, f := range m.Features() {
		if hf, ok := f.(Feature); ok {
			fs = append(fs, hf)
		}
	}
	return fs
}

// featureRoutes returns the route table rows of fs.
func featureRoutes(fs []Feature) []route {
	var rs []route
	for _, f := range fs {
		for _, e := range f.Endpoints() {
			ep := e.ep
			if ep == nil {
				ep = unbuilt{f.FeatureName()}
			}
			rs = append(rs, route{Route: e.Route, ep: featureEndpoint{endpoint: ep, input: e.Input.def(), maxBody: e.MaxBodyBytes}})
		}
	}
	return rs
}

// def is in as the OpenAPI builder reads it.
func (in Input) def() *requestDef {
	d := &requestDef{body: in.Body, bodyRequired: in.BodyRequired, media: in.Media}
	for _, p := range in.Params {
		d.params = append(d.params, param{name: p.Name, in: p.In, required: p.Required, desc: p.Description, schema: p.Schema})
	}
	return d
}

// unbuilt serves an Endpoint that was not built with Handle: a
// programming error of the feature, answered 500 and logged.
type unbuilt struct{ feature string }

func (u unbuilt) serve(h *handler, w http.ResponseWriter, r *http.Request, _ bool) {
	h.fail(w, r, usermgmt.ErrInternal.Wrap(fmt.Errorf("httpadapter: feature %s: an Endpoint not built with Handle", u.feature)))
}
