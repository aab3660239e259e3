package httpadapter_test

import (
	"encoding/json"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/httpadapter/swaggerui"
)

// The OpenAPI document is checked by a structural validator written here,
// covering the parts of OpenAPI 3.1 the generator emits: no dependency is
// needed for that, and the checks that matter most (every route present,
// every $ref resolving, path parameters matching the templates) are ours
// anyway.

var (
	statusKey    = regexp.MustCompile(`^([1-5][0-9][0-9]|[1-5]XX|default)$`)
	templateVar  = regexp.MustCompile(`\{([^}]+)\}`)
	schemaTypes  = []string{"string", "integer", "number", "boolean", "array", "object", "null"}
	paramIn      = []string{"query", "path", "header", "cookie"}
	httpMethods  = []string{"get", "put", "post", "delete", "options", "head", "patch", "trace"}
	mediaTypeRef = regexp.MustCompile(`^[a-z]+/[a-z0-9.+-]+$`)
)

type validator struct {
	t          *testing.T
	doc        map[string]any
	components map[string]any
	errs       []string
}

func (v *validator) fail(format string, args ...any) {
	v.errs = append(v.errs, fmt.Sprintf(format, args...))
}

func obj(v any) map[string]any { m, _ := v.(map[string]any); return m }

// schema checks a JSON Schema (the subset the generator uses) and its refs.
func (v *validator) schema(where string, s any) {
	m := obj(s)
	if m == nil {
		v.fail("%s: schema is not an object", where)
		return
	}
	if r, ok := m["$ref"].(string); ok {
		name, found := strings.CutPrefix(r, "#/components/schemas/")
		if !found || v.components[name] == nil {
			v.fail("%s: $ref %q does not resolve", where, r)
		}
		return
	}
	switch t := m["type"].(type) {
	case nil:
	case string:
		if !slices.Contains(schemaTypes, t) {
			v.fail("%s: type %q", where, t)
		}
	case []any:
		for _, x := range t {
			if s, _ := x.(string); !slices.Contains(schemaTypes, s) {
				v.fail("%s: type %v", where, x)
			}
		}
	default:
		v.fail("%s: type %v", where, t)
	}
	if props := m["properties"]; props != nil {
		for k, p := range obj(props) {
			v.schema(where+"."+k, p)
		}
		if req, ok := m["required"].([]any); ok {
			for _, r := range req {
				if _, ok := obj(props)[r.(string)]; !ok {
					v.fail("%s: required %v is not a property", where, r)
				}
			}
		}
	}
	if items := m["items"]; items != nil {
		v.schema(where+"[]", items)
	}
	if ap, ok := m["additionalProperties"].(map[string]any); ok {
		v.schema(where+"{}", ap)
	}
	for _, k := range []string{"oneOf", "anyOf", "allOf"} {
		if alts, ok := m[k].([]any); ok {
			for i, a := range alts {
				v.schema(fmt.Sprintf("%s.%s[%d]", where, k, i), a)
			}
		}
	}
}

func (v *validator) content(where string, c any) {
	if len(obj(c)) == 0 {
		v.fail("%s: empty content", where)
	}
	for media, mt := range obj(c) {
		if !mediaTypeRef.MatchString(media) {
			v.fail("%s: media type %q", where, media)
		}
		v.schema(where+" "+media, obj(mt)["schema"])
	}
}

func (v *validator) validate() {
	if v.doc["openapi"] != "3.1.0" {
		v.fail("openapi = %v", v.doc["openapi"])
	}
	info := obj(v.doc["info"])
	if s, _ := info["title"].(string); s == "" {
		v.fail("info.title missing")
	}
	if s, _ := info["version"].(string); s == "" {
		v.fail("info.version missing")
	}
	v.components = obj(obj(v.doc["components"])["schemas"])
	for name, s := range v.components {
		v.schema("components."+name, s)
	}
	schemes := obj(obj(v.doc["components"])["securitySchemes"])
	ids := map[string]string{}
	for p, item := range obj(v.doc["paths"]) {
		if !strings.HasPrefix(p, "/") {
			v.fail("path %q does not start with /", p)
		}
		var vars []string
		for _, m := range templateVar.FindAllStringSubmatch(p, -1) {
			vars = append(vars, m[1])
		}
		for method, o := range obj(item) {
			where := strings.ToUpper(method) + " " + p
			if !slices.Contains(httpMethods, method) {
				v.fail("%s: not a method", where)
				continue
			}
			op := obj(o)
			id, _ := op["operationId"].(string)
			if id == "" {
				v.fail("%s: no operationId", where)
			} else if other, dup := ids[id]; dup {
				v.fail("%s: operationId %q also on %s", where, id, other)
			}
			ids[id] = where
			var pathParams []string
			seen := map[string]bool{}
			params, _ := op["parameters"].([]any)
			for _, pr := range params {
				prm := obj(pr)
				name, _ := prm["name"].(string)
				in, _ := prm["in"].(string)
				if name == "" || !slices.Contains(paramIn, in) {
					v.fail("%s: parameter %v", where, prm)
				}
				if seen[in+" "+name] {
					v.fail("%s: parameter %s twice", where, name)
				}
				seen[in+" "+name] = true
				if in == "path" {
					pathParams = append(pathParams, name)
					if prm["required"] != true {
						v.fail("%s: path parameter %s not required", where, name)
					}
				}
				v.schema(where+" param "+name, prm["schema"])
			}
			slices.Sort(pathParams)
			want := slices.Clone(vars)
			slices.Sort(want)
			if !slices.Equal(pathParams, want) {
				v.fail("%s: path parameters %v, template has %v", where, pathParams, want)
			}
			if rb := op["requestBody"]; rb != nil {
				v.content(where+" body", obj(rb)["content"])
			}
			rs := obj(op["responses"])
			if len(rs) == 0 {
				v.fail("%s: no responses", where)
			}
			for code, r := range rs {
				if !statusKey.MatchString(code) {
					v.fail("%s: response key %q", where, code)
				}
				if d, _ := obj(r)["description"].(string); d == "" {
					v.fail("%s %s: no description", where, code)
				}
				if c := obj(r)["content"]; c != nil {
					v.content(where+" "+code, c)
				}
			}
			if sec, ok := op["security"].([]any); ok {
				for _, req := range sec {
					for name := range obj(req) {
						if schemes[name] == nil {
							v.fail("%s: security scheme %q undefined", where, name)
						}
					}
				}
			}
		}
	}
}

func parseOpenAPI(t *testing.T, b []byte) map[string]any {
	t.Helper()
	var doc map[string]any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	return doc
}

func TestOpenAPIDocument(t *testing.T) {
	for _, prefix := range []string{"/api", "/", "/v1/users"} {
		b, err := httpadapter.OpenAPI(prefix, "1.2.3", httpFeatures()...)
		if err != nil {
			t.Fatalf("OpenAPI(%q): %v", prefix, err)
		}
		doc := parseOpenAPI(t, b)
		v := &validator{t: t, doc: doc}
		v.validate()
		for _, e := range v.errs {
			t.Errorf("prefix %q: %s", prefix, e)
		}
		if obj(doc["info"])["version"] != "1.2.3" {
			t.Errorf("version %v", obj(doc["info"])["version"])
		}
		// Every route of the table is in the document, under the prefix,
		// except the documentation routes.
		p := "/" + strings.Trim(prefix, "/")
		if p == "/" {
			p = ""
		}
		n := 0
		for _, rt := range httpadapter.Routes(httpFeatures()...) {
			full := rt.Path
			if !rt.Root {
				full = p + rt.Path
			}
			op := obj(obj(obj(doc["paths"])[full])[strings.ToLower(rt.Method)])
			if rt.Tag == "docs" || rt.Page {
				if op != nil {
					t.Errorf("documentation or page route %s %s is in the document", rt.Method, full)
				}
				continue
			}
			n++
			if op == nil {
				t.Errorf("route %s %s missing", rt.Method, full)
				continue
			}
			if (op["security"] != nil) != rt.Auth {
				t.Errorf("%s %s: security %v, Auth %v", rt.Method, full, op["security"], rt.Auth)
			}
			if op["x-feature-flag"] != rt.Flag {
				t.Errorf("%s %s: flag %v", rt.Method, full, op["x-feature-flag"])
			}
		}
		if n < 20 {
			t.Errorf("only %d routes documented", n)
		}
	}
}

// The validator itself catches what it is for.
func TestOpenAPIValidatorCatches(t *testing.T) {
	bad := map[string]string{
		"dangling ref":   `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"operationId":"a","parameters":[],"responses":{"200":{"description":"ok","content":{"application/json":{"schema":{"$ref":"#/components/schemas/Nope"}}}}}}}},"components":{"schemas":{}}}`,
		"path parameter": `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a/{id}":{"get":{"operationId":"a","parameters":[],"responses":{"200":{"description":"ok"}}}}},"components":{"schemas":{}}}`,
		"bad status":     `{"openapi":"3.1.0","info":{"title":"x","version":"1"},"paths":{"/a":{"get":{"operationId":"a","parameters":[],"responses":{"600":{"description":"ok"}}}}},"components":{"schemas":{}}}`,
		"version":        `{"openapi":"3.0.0","info":{"title":"x","version":"1"},"paths":{},"components":{"schemas":{}}}`,
	}
	for name, doc := range bad {
		v := &validator{t: t, doc: parseOpenAPI(t, []byte(doc))}
		v.validate()
		if len(v.errs) == 0 {
			t.Errorf("%s: not caught", name)
		}
	}
}

func TestDocsRoutes(t *testing.T) {
	e := newEnv(t, "sqlite://"+t.TempDir()+"/db.sqlite", httpadapter.Options{SwaggerUI: swaggerui.FS()})
	admin := e.user("admin_user", usermgmt.RoleAdmin)
	jane := e.register("jane_doe")

	r := e.do(request{method: "GET", path: "/openapi.json"})
	r.wantStatus(t, 200)
	want, _ := httpadapter.OpenAPI("/api", "", httpFeatures()...)
	if r.header.Get("Content-Type") != "application/json" || string(r.body) != string(want) {
		t.Fatalf("served document differs from OpenAPI(\"/api\")")
	}

	r = e.do(request{method: "GET", path: "/docs"})
	r.wantStatus(t, 200)
	if !strings.Contains(string(r.body), `/docs/assets/swagger-ui-bundle.js`) || !strings.Contains(r.header.Get("Content-Security-Policy"), "script-src 'self'") ||
		!strings.Contains(string(r.body), `data-interactive="false"`) {
		t.Fatalf("docs page %s %s", r.header, r.body)
	}
	for file, ct := range map[string]string{"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "docs-init.js": "text/javascript"} {
		r := e.do(request{method: "GET", path: "/docs/assets/" + file})
		r.wantStatus(t, 200)
		if !strings.HasPrefix(r.header.Get("Content-Type"), ct) || len(r.body) < 100 || r.header.Get("Cache-Control") != "public, max-age=86400" {
			t.Errorf("%s: %s, %d bytes", file, r.header, len(r.body))
		}
	}
	for _, bad := range []string{"VERSION", "LICENSE.swagger-ui", "..%2fdocs.go", "nope.js"} {
		e.do(request{method: "GET", path: "/docs/assets/" + bad}).wantError(t, 404, "not_found")
	}

	// Interactive docs: admins only, by bearer header.
	r = e.do(request{method: "GET", path: "/interactive-docs"})
	if r.status != 307 || r.header.Get("Location") != "/docs" {
		t.Fatalf("anonymous: %s %s", r, r.header)
	}
	e.do(request{method: "GET", path: "/interactive-docs", token: "bad"}).wantError(t, 401, "invalid_token")
	r = e.do(request{method: "GET", path: "/interactive-docs", token: jane.AccessToken})
	if r.status != 307 || r.header.Get("Location") != "/docs" {
		t.Fatalf("plain user: %s %s", r, r.header)
	}
	r = e.do(request{method: "GET", path: "/interactive-docs", token: admin.AccessToken})
	r.wantStatus(t, 200)
	if !strings.Contains(string(r.body), `data-interactive="true"`) {
		t.Fatalf("interactive page %s", r.body)
	}
	public := newEnv(t, "sqlite://"+t.TempDir()+"/db.sqlite", httpadapter.Options{SwaggerUI: swaggerui.FS(), PublicInteractiveDocs: true})
	public.do(request{method: "GET", path: "/interactive-docs"}).wantStatus(t, 200)
}

// TestDocsWithoutSwaggerUI: without Options.SwaggerUI the pages that load
// Swagger UI and their assets are not served, as an unknown path (the JSON
// 404, or the HTML one for a browser when the hosted pages are on), while
// the OpenAPI document and /redirect_uri are.
func TestDocsWithoutSwaggerUI(t *testing.T) {
	e := newEnv(t, "sqlite://"+t.TempDir()+"/db.sqlite", httpadapter.Options{PublicInteractiveDocs: true})
	admin := e.user("admin_user", usermgmt.RoleAdmin)
	for _, path := range []string{"/docs", "/docs/assets/swagger-ui-bundle.js", "/docs/assets/docs-init.js", "/interactive-docs"} {
		e.do(request{method: "GET", path: path}).wantError(t, 404, "not_found")
		e.do(request{method: "GET", path: path, token: admin.AccessToken}).wantError(t, 404, "not_found")
	}
	e.do(request{method: "GET", path: "/openapi.json"}).wantStatus(t, 200)
	if r := e.do(request{method: "GET", path: "/redirect_uri?uri=/app"}); r.status != 307 {
		t.Fatalf("/redirect_uri: %s", r)
	}
	for _, rt := range httpadapter.Routes() {
		if rt.SwaggerUI != (rt.Path == "/docs" || rt.Path == "/docs/assets/{file}" || rt.Path == "/interactive-docs") {
			t.Errorf("%s %s: SwaggerUI = %v", rt.Method, rt.Path, rt.SwaggerUI)
		}
	}

	pages := newEnv(t, "sqlite://"+t.TempDir()+"/db.sqlite", httpadapter.Options{Pages: &httpadapter.PagesOptions{}})
	r := pages.do(request{method: "GET", path: "/interactive-docs", header: map[string]string{"Accept": "text/html"}})
	if r.status != 404 || !strings.HasPrefix(r.header.Get("Content-Type"), "text/html") {
		t.Fatalf("a browser without the docs: %s %s", r, r.header)
	}
}

func TestRedirectURI(t *testing.T) {
	e := newEnv(t, "sqlite://"+t.TempDir()+"/db.sqlite", httpadapter.Options{})
	tests := []struct{ uri, want string }{
		{"", "/"},
		{"/interactive-docs", "/interactive-docs"},
		{baseURL + "/app", baseURL + "/app"},
		{"//evil.example/x", "/"},
		{"/\\evil.example", "/"},
		{"https://evil.example/", "/"},
		{"https://users.example.com.evil.example/", "/"},
		{"https://user@users.example.com/", "/"},
		{"javascript:alert(1)", "/"},
		{"http://users.example.com/", "/"}, // another scheme than BaseURL's
	}
	for _, tc := range tests {
		r := e.do(request{method: "GET", path: "/redirect_uri?uri=" + urlQueryEscape(tc.uri)})
		if r.status != 307 || r.header.Get("Location") != tc.want {
			t.Errorf("uri %q: %d to %q, want %q", tc.uri, r.status, r.header.Get("Location"), tc.want)
		}
	}
}

func urlQueryEscape(s string) string {
	return strings.NewReplacer("%", "%25", "&", "%26", "+", "%2B", "#", "%23", " ", "%20", "\\", "%5C").Replace(s)
}
