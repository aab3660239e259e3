package httpadapter

import (
	"strings"
	"testing"
)

// The schema registry is strict both ways: a route naming an unknown
// Request or Response fails the document, and every registered name is
// used by a documented route (no stale schemas).
func TestOpenAPIRegistryStrict(t *testing.T) {
	base := routes(nil)[0]
	for _, bad := range []Route{
		{Method: get, Path: "/x", Name: "x", Tag: "t", Status: ok, Request: "NoSuchRequest"},
		{Method: get, Path: "/x", Name: "x", Tag: "t", Status: ok, Response: "NoSuchResponse"},
		{Method: get, Path: "/x", Name: "x", Tag: "t", Status: ok, Response: "[]NoSuchResponse"},
	} {
		rs := []route{base, {Route: bad}}
		if _, err := buildOpenAPI(rs, nil, "/api", "1"); err == nil || !strings.Contains(err.Error(), "NoSuch") {
			t.Errorf("%+v: %v", bad, err)
		}
	}

	usedReq, usedComp := map[string]bool{}, map[string]bool{}
	components := componentSchemas()
	for _, rt := range routes(nil) {
		if rt.Tag == "docs" || rt.Page {
			continue
		}
		if rt.Request != "" {
			usedReq[rt.Request] = true
			if b := requestDefs[rt.Request].body; b != "" {
				usedComp[b] = true
			}
		}
		name := strings.TrimPrefix(rt.Response, "[]")
		if _, ok := components[name]; ok {
			usedComp[name] = true
		}
	}
	for name := range requestDefs {
		if !usedReq[name] {
			t.Errorf("request %q is used by no documented route", name)
		}
	}
	// Components referenced from other components count as used, and
	// Error is every operation's error answer.
	usedComp["Error"] = true
	for _, s := range components {
		walkRefs(s, func(ref string) { usedComp[ref] = true })
	}
	for name := range components {
		if !usedComp[name] {
			t.Errorf("component %q is used by no documented route", name)
		}
	}
}

// walkRefs calls fn with the component name of every $ref in s.
func walkRefs(s any, fn func(string)) {
	switch v := s.(type) {
	case js:
		if r, ok := v["$ref"].(string); ok {
			fn(strings.TrimPrefix(r, "#/components/schemas/"))
		}
		for _, x := range v {
			walkRefs(x, fn)
		}
	case []any:
		for _, x := range v {
			walkRefs(x, fn)
		}
	}
}
