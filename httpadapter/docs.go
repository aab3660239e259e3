package httpadapter

import (
	"context"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strings"
	"sync"

	"github.com/usermgmt/usermgmt"
)

// The documentation routes: the OpenAPI document, the documentation page
// (/docs, read-only), the interactive one (/interactive-docs, with "try it
// out"; admins only unless Options.PublicInteractiveDocs), their assets,
// and /redirect_uri. They are tagged "docs" and left out of the OpenAPI
// document, as the reference hid them. The pages and their assets load
// Swagger UI: they are served only when Options.SwaggerUI holds it (package
// swaggerui), so that a host without them does not link 1.9 MB of script.

func docsRoutes() []route {
	return []route{
		{Route{Method: get, Path: "/openapi.json", Root: true, Name: "_openapi", Flag: "_OPENAPI", Tag: "docs",
			Summary: "The OpenAPI 3.1 document of this API.", Status: ok, Response: "binary"},
			op[none]{noInput, (*handler).openapiDoc}},
		{Route{Method: get, Path: "/docs", Root: true, Name: "_redoc_html", Flag: "_REDOC_HTML", Tag: "docs",
			SwaggerUI: true, Summary: "The API documentation page.", Status: ok, Response: "html"},
			op[none]{noInput, (*handler).docsPage}},
		{Route{Method: get, Path: "/docs/assets/{file}", Root: true, Name: "_docs_asset", Flag: "_DOCS_ASSET", Tag: "docs",
			SwaggerUI: true, Summary: "The documentation page's scripts and styles.", Status: ok, Response: "binary"},
			op[string]{pathValue("file"), (*handler).docsAsset}},
		{Route{Method: get, Path: "/interactive-docs", Root: true, Name: "_custom_swagger_ui_html", Flag: "_CUSTOM_SWAGGER_UI_HTML", Tag: "docs",
			SwaggerUI: true, Summary: "The interactive documentation page (admins only unless configured public).", Status: ok, Response: "html"},
			op[*http.Request]{requestItself, (*handler).interactiveDocs}},
		{Route{Method: get, Path: "/redirect_uri", Root: true, Name: "redirect_uri", Flag: "REDIRECT_URI", Tag: "docs",
			Summary: "Redirect to uri when it is allow-listed, else to /.", Status: http.StatusTemporaryRedirect},
			op[string]{queryValue("uri"), (*handler).redirectURI}},
	}
}

// docs holds what the documentation routes serve.
type docs struct {
	prefix, version string
	public          bool
	features        []Feature
	ui              fs.FS // Options.SwaggerUI; nil: the pages are not served

	once    sync.Once
	openapi []byte
	err     error
}

func newDocs(opts Options, version string, features []Feature) *docs {
	return &docs{prefix: opts.Prefix, version: version, public: opts.PublicInteractiveDocs, ui: opts.SwaggerUI, features: features}
}

// spec builds the document once, on first use.
func (d *docs) spec() ([]byte, error) {
	d.once.Do(func() { d.openapi, d.err = buildOpenAPI(routes(d.features), d.features, d.prefix, d.version) })
	return d.openapi, d.err
}

func requestItself(r *http.Request) (*http.Request, error) { return r, nil }

// queryValue returns a decoder of one query parameter.
func queryValue(name string) func(*http.Request) (string, error) {
	return func(r *http.Request) (string, error) {
		q, err := Query(r)
		if err != nil {
			return "", err
		}
		return q.Get(name), nil
	}
}

func (h *handler) openapiDoc(context.Context, *usermgmt.Principal, none) (response, error) {
	b, err := h.docs.spec()
	if err != nil {
		return response{}, usermgmt.ErrInternal.Wrap(err)
	}
	return response{status: http.StatusOK, kind: kindRaw, raw: b, header: http.Header{"Content-Type": {mediaJSON}}}, nil
}

// docsCSP lets the page load only its own scripts and styles (Swagger UI
// sets inline styles), and the document.
const docsCSP = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

var docsPageTemplate = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{{.Title}}</title>
<link rel="stylesheet" href="/docs/assets/swagger-ui.css">
</head>
<body>
<div id="docs" data-spec="/openapi.json" data-interactive="{{.Interactive}}"></div>
<script src="/docs/assets/swagger-ui-bundle.js"></script>
<script src="/docs/assets/docs-init.js"></script>
</body>
</html>
`))

func (h *handler) page(interactive bool) (response, error) {
	var b strings.Builder
	title := "usermgmt API documentation"
	if interactive {
		title = "usermgmt API (interactive)"
	}
	if err := docsPageTemplate.Execute(&b, struct {
		Title       string
		Interactive bool
	}{title, interactive}); err != nil {
		return response{}, usermgmt.ErrInternal.Wrap(err)
	}
	hdr := http.Header{"Content-Type": {"text/html; charset=utf-8"}}
	setHTMLSecurityHeaders(hdr, docsCSP)
	return response{status: http.StatusOK, kind: kindRaw, raw: []byte(b.String()), header: hdr}, nil
}

func (h *handler) docsPage(context.Context, *usermgmt.Principal, none) (response, error) {
	return h.page(false)
}

// docsAssetTypes are the assets served and their types; anything else is
// a 404.
var docsAssetTypes = map[string]string{
	"swagger-ui-bundle.js": "text/javascript; charset=utf-8",
	"swagger-ui.css":       "text/css; charset=utf-8",
	"docs-init.js":         "text/javascript; charset=utf-8",
}

func (h *handler) docsAsset(_ context.Context, _ *usermgmt.Principal, file string) (response, error) {
	ct, ok := docsAssetTypes[file]
	if !ok {
		return response{}, errNotFound
	}
	b, err := fs.ReadFile(h.docs.ui, file)
	if err != nil {
		return response{}, errNotFound
	}
	return response{status: http.StatusOK, kind: kindRaw, raw: b, header: http.Header{
		"Content-Type":  {ct},
		"Cache-Control": {"public, max-age=86400"},
	}}, nil
}

// interactiveDocs serves Swagger UI with "try it out" to callers granted
// docs.swagger, by a bearer header or the hosted pages' session cookie
// (never a token in the URL). A caller without credentials, or whose
// session cookie has expired, is sent to the login page when the pages are
// mounted and to /docs otherwise; a caller without the grant goes to
// /docs; a bad bearer token is a 401.
func (h *handler) interactiveDocs(ctx context.Context, _ *usermgmt.Principal, r *http.Request) (response, error) {
	if h.docs.public {
		return h.page(true)
	}
	signIn := "/docs"
	if h.pages != nil {
		signIn = "/login?redirect_uri=" + url.QueryEscape("/interactive-docs")
	}
	token, bearer := bearerToken(r)
	if !bearer {
		// The access cookie alone: renewing it through the refresh cookie
		// needs the response, which this answer does not own; the login
		// page renews it and comes back.
		token = cookieValue(r, SessionCookie)
	}
	if token == "" {
		return redirect(signIn), nil
	}
	p, err := h.m.Authenticate(ctx, token)
	if err != nil {
		if !bearer {
			return redirect(signIn), nil
		}
		return response{}, err
	}
	// An API key's scopes apply here too (docs:swagger).
	if err := h.m.Authorize(usermgmt.ContextWithCaller(ctx, p), usermgmt.AccessRequest{Actor: p.User(), Resource: "docs", Action: "swagger"}); err != nil {
		return redirect("/docs"), nil
	}
	return h.page(true)
}

// redirect answers 307 to target.
func redirect(target string) response {
	return response{status: http.StatusTemporaryRedirect, kind: kindEmpty, header: http.Header{"Location": {target}}}
}

// redirectURI sends the browser to uri when the Manager's redirect policy
// (Manager.AllowedRedirect) accepts it, else to "/". The reference
// redirected anywhere (an open redirect).
func (h *handler) redirectURI(_ context.Context, _ *usermgmt.Principal, uri string) (response, error) {
	if uri != "" && h.m.AllowedRedirect(uri) {
		return redirect(uri), nil
	}
	return redirect("/"), nil
}
