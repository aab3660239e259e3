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
	paths := map[string]js{}
	for _, rt := range rs {
		if rt.Tag == "docs" || rt.Page {
			continue
		}
		op, err := operation(rt.Route, rt.input(), components)
		if err != nil {
			return nil, err
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
			"schemas": components,
			"securitySchemes": js{
				"bearer": js{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"},
			},
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
		params = append(params, p)
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
			content[e] = js{"schema": ref(def.body)}
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
		if rt.HTML {
			content["text/html"] = js{"schema": str()}
		}
		ok["content"] = content
	}
	responses := js{strconv.Itoa(rt.Status): ok}
	errs := []int{http.StatusUnprocessableEntity}
	if rt.Auth {
		op["security"] = []any{js{"bearer": []string{}}}
		errs = append(errs, http.StatusUnauthorized, http.StatusForbidden)
	}
	sort.Ints(errs)
	for _, s := range errs {
		responses[strconv.Itoa(s)] = js{"description": http.StatusText(s), "content": js{mediaJSON: js{"schema": ref("Error")}}}
	}
	responses["default"] = js{"description": "An error", "content": js{mediaJSON: js{"schema": ref("Error")}}}
	op["responses"] = responses
	return op, nil
}
