package httpadapter

import (
	"encoding/json"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// OpenAPI builds the OpenAPI 3.1 document of the routes New serves under
// prefix (normalised as Options.Prefix is), from the route table (Routes)
// and the schema registry (schemas.go). The documentation routes are left
// out, and so are the hosted pages (Route.Page), as the reference hid
// them. The routes of the features given (see Feature) are included.
func OpenAPI(prefix, version string, fs ...Feature) ([]byte, error) {
	opts := Options{Prefix: prefix}.withDefaults(nil)
	return buildOpenAPI(routes(fs), fs, opts.Prefix, projectVersion(version))
}

var pathParam = regexp.MustCompile(`\{([a-zA-Z_][a-zA-Z0-9_]*)\}`)

func buildOpenAPI(rs []route, fs []Feature, prefix, version string) ([]byte, error) {
	components := componentSchemas()
	for _, f := range fs {
		for name, schema := range f.Schemas() {
			if _, taken := components[name]; taken {
				return nil, fmt.Errorf("httpadapter: feature %s: schema %q is declared twice", f.FeatureName(), name)
			}
			components[name] = schema
		}
	}
	credentials := takesCredentials(fs)
	paths := map[string]js{}
	for _, rt := range rs {
		if rt.Tag == "docs" || rt.Page {
			continue
		}
		op, err := operation(rt.Route, rt.input(), components)
		if err != nil {
			return nil, err
		}
		secure(op, rt.Route, credentials)
		if extra := checkParams(rt.checks); extra != nil {
			params, _ := op["parameters"].([]any)
			op["parameters"] = append(params, extra...)
		}
		p := rt.fullPath(prefix)
		if paths[p] == nil {
			paths[p] = js{}
		}
		paths[p][strings.ToLower(rt.Method)] = op
	}
	doc := js{
		"openapi": "3.1.0",
		"info": js{
			"title":       "usermgmt",
			"version":     version,
			"description": "User management: accounts, sessions, access control, admin tools.",
		},
		"paths": paths,
		"components": js{
			"schemas":         components,
			"headers":         headerComponents(),
			"securitySchemes": securitySchemes(credentials),
		},
	}
	return json.Marshal(doc)
}

// operation returns the Operation Object of one route.
// input describes rt.Request when the route is a feature's; the core's
// are looked up in requestDefs.
func operation(rt Route, input *requestDef, components js) (js, error) {
	op := js{
		"operationId":    rt.Tag + "-" + rt.Name,
		"summary":        rt.Summary,
		"tags":           []string{rt.Tag},
		"x-feature-flag": rt.Flag,
	}
	var params []any
	var def requestDef
	if input != nil {
		def = *input
	} else if rt.Request != "" {
		var ok bool
		if def, ok = requestDefs[rt.Request]; !ok {
			return nil, fmt.Errorf("httpadapter: route %s %s: request %q has no schema", rt.Method, rt.Path, rt.Request)
		}
	}
	for _, m := range pathParam.FindAllStringSubmatch(rt.Path, -1) {
		s := str()
		if m[1] == "uuid" {
			s = uuidStr()
		}
		if ps, ok := def.path[m[1]]; ok {
			s = ps
		}
		params = append(params, js{"name": m[1], "in": "path", "required": true, "schema": s})
	}
	for _, q := range def.params {
		params = append(params, paramObject(q))
	}
	if def.body != "" {
		if _, ok := components[def.body]; !ok {
			return nil, fmt.Errorf("httpadapter: route %s %s: body %q has no schema", rt.Method, rt.Path, def.body)
		}
		content := js{}
		encodings := rt.Encodings
		if len(encodings) == 0 {
			encodings = jsonOnly
		}
		for _, e := range encodings {
			name := def.body
			if m, ok := def.media[e]; ok {
				if _, found := components[m]; !found {
					return nil, fmt.Errorf("httpadapter: route %s %s: %s body %q has no schema", rt.Method, rt.Path, e, m)
				}
				name = m
			}
			content[e] = js{"schema": ref(name)}
		}
		op["requestBody"] = js{"required": def.bodyRequired, "content": content}
	}
	if params != nil {
		op["parameters"] = params
	}
	ok := js{"description": http.StatusText(rt.Status)}
	if rt.Response != "" {
		content, found := responseContent(rt.Response, components)
		if !found {
			return nil, fmt.Errorf("httpadapter: route %s %s: response %q has no schema", rt.Method, rt.Path, rt.Response)
		}
		ok["content"] = content
	}
	if rt.Status >= 300 && rt.Status < 400 {
		ok["headers"] = js{"Location": js{"required": true, "schema": str(), "description": "Where the browser goes."}}
	}
	responses := js{strconv.Itoa(rt.Status): ok}
	for _, s := range statuses(rt, def) {
		switch {
		case s == rt.Status:
		case s == http.StatusNotModified:
			responses["304"] = js{"description": "The ETag of If-None-Match is still current: no body."}
		case s >= 300 && s < 400:
			responses[strconv.Itoa(s)] = js{"description": http.StatusText(s),
				"headers": js{"Location": js{"required": true, "schema": str(), "description": "Where the browser goes."}}}
		default:
			desc := http.StatusText(s)
			if d, ok := failureDescriptions[s]; ok {
				desc = d
			}
			responses[strconv.Itoa(s)] = js{"description": desc, "content": js{mediaJSON: js{"schema": ref("Error")}}}
		}
	}
	responses["default"] = js{"description": "A server-side error (5XX)", "content": js{mediaJSON: js{"schema": ref("Error")}}}
	for code, r := range responses {
		addHeaders(r.(js), code, rt)
	}
	op["responses"] = responses
	return op, nil
}

// failureDescriptions describe the failure answers of outages, which
// every operation declares as its own (they are not bugs, so not left to
// "default"). A cancelled request's 499 request_canceled is written to a
// client that has gone, and is not declared.
var failureDescriptions = map[int]string{
	http.StatusServiceUnavailable: "A part the service depends on is unavailable: the database (service_unavailable) " +
		"or, in its closed failure mode, the rate limiter (rate_limiter_unavailable). Nothing was changed; try again after Retry-After seconds.",
	http.StatusInsufficientStorage: "No space is left to store the change, in the database or the file storage " +
		"(insufficient_storage). Nothing was saved: no row, no partial file.",
}

// writes reports whether a route may write: every route but a GET, and
// the GET routes that say so (Route.Writes).
func writes(rt Route) bool { return rt.Method != http.MethodGet || rt.Writes }

// paramObject is the Parameter Object of a query or header parameter.
func paramObject(q param) js {
	in := q.in
	if in == "" {
		in = "query"
	}
	p := js{"name": q.name, "in": in, "required": q.required, "schema": q.schema}
	if q.desc != "" {
		p["description"] = q.desc
	}
	if q.schema["type"] == "array" {
		p["style"], p["explode"] = "form", true
	}
	return p
}

// statuses returns every status besides the success one that the route
// answers, in order: those every route may give (403 from a feature flag
// or the policy, 422, 429 from the rate limits, 503 in an outage), those
// its shape implies (an input: 400; Auth: 401; path parameters: 404; a
// body: 413 and 415; a write: 507), and the route's own (Route.Statuses).
func statuses(rt Route, def requestDef) []int {
	set := map[int]bool{http.StatusForbidden: true, http.StatusUnprocessableEntity: true, http.StatusTooManyRequests: true,
		http.StatusServiceUnavailable: true}
	if writes(rt) {
		set[http.StatusInsufficientStorage] = true
	}
	if rt.Request != "" {
		set[http.StatusBadRequest] = true
	}
	if rt.Auth {
		set[http.StatusUnauthorized] = true
	}
	if pathParam.MatchString(rt.Path) {
		set[http.StatusNotFound] = true
	}
	if def.body != "" {
		set[http.StatusRequestEntityTooLarge], set[http.StatusUnsupportedMediaType] = true, true
	}
	for _, s := range rt.Statuses {
		set[s] = true
	}
	out := make([]int, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	sort.Ints(out)
	return out
}

// addHeaders declares the response headers of one response (code is its
// key: a status or "default"): the RateLimit-* fields every answer may
// carry when rate limits are on, Retry-After on 429 and 5XX (always on
// 503), the cursor
// of a paged list.
func addHeaders(r js, code string, rt Route) {
	h, _ := r["headers"].(js)
	if h == nil {
		h = js{}
	}
	for _, name := range rateLimitHeaders {
		h[name] = js{"$ref": "#/components/headers/" + name}
	}
	switch code {
	case "429", "default":
		h["Retry-After"] = js{"$ref": "#/components/headers/Retry-After"}
	case "503":
		h["Retry-After"] = js{"required": true, "schema": integer(), "description": "Seconds to wait before trying again."}
	}
	if code == strconv.Itoa(rt.Status) {
		if rt.Request == "UserPage" {
			h["X-Next-Cursor"] = js{"schema": str(), "description": "Present on a full page: the cursor query parameter of the next page."}
		}
		for _, name := range rt.Headers {
			h[name] = js{"schema": str()}
		}
	}
	if content, ok := r["content"].(js); ok && rt.HTML {
		content["text/html"] = js{"schema": str()}
	}
	r["headers"] = h
}

// rateLimitHeaders are the IETF httpapi draft's fields the rate limits set
// (ratelimit.go).
var rateLimitHeaders = []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "RateLimit-Policy"}

// headerComponents are the reusable response headers.
func headerComponents() js {
	return js{
		"RateLimit-Limit":     js{"schema": integer(), "description": "The requests the tightest limit checked allows in its window."},
		"RateLimit-Remaining": js{"schema": integer(), "description": "The requests left in the window."},
		"RateLimit-Reset":     js{"schema": integer(), "description": "Seconds until the window resets."},
		"RateLimit-Policy":    js{"schema": str(), "description": "The limit and its window: \"<limit>;w=<seconds>\"."},
		"Retry-After":         js{"schema": integer(), "description": "Seconds to wait before trying again."},
	}
}
