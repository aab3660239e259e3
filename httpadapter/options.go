package httpadapter

import (
	"io/fs"
	"log/slog"
	"net/netip"
	"strings"
	"time"
)

// Options configures the handler built by New. The zero value is usable.
type Options struct {
	// Prefix is where the API is mounted (the reference's API_STR). Default
	// "/api"; "/" serves the API at the root. Root routes (/ping, /version,
	// ...) are not under it.
	Prefix string

	// Logger receives request logs (path without query) and internal errors.
	// Default: the Manager's logger.
	Logger *slog.Logger

	// MaxBodyBytes bounds request bodies. Default 1 MiB.
	MaxBodyBytes int64

	// CORS, when it lists origins, answers cross-origin requests and
	// preflights from those origins only.
	CORS CORSOptions

	// TrustedProxies are the peers whose X-Forwarded-For header is believed
	// when deciding a request's client IP: when the socket peer is one of
	// them, the client is the right-most address of X-Forwarded-For that is
	// not itself a trusted proxy. Empty: the socket peer is the client.
	TrustedProxies []netip.Prefix

	// Pages, when set, also serves the hosted HTML pages (/login,
	// /register, /logout, ... see PagesOptions and docs/hosted-pages.md),
	// and browsers that ask for a page outside the API get the
	// HTML 404 page instead of the JSON one.
	Pages *PagesOptions
	// FeatureFlags gates every route by its feature flag (Route.Flag), as
	// the reference's FEATURE_FLAGS_ENABLED: an absent flag allows, a false
	// one answers 403, a rule list is evaluated for the caller (an
	// anonymous caller gets 403). The flags are the Manager's.
	FeatureFlags bool

	// OAuthCallbackHTML answers a provider login that ends at the callback
	// (a login, not a link; not one begun from the hosted pages) the way the
	// reference did, for its front ends: a small HTML page whose script
	// stores localStorage.auth_token = "bearer <access token>" and then
	// goes (location.replace) to the flow's redirect_uri, or to "/" when it
	// has none. Errors stay JSON. Off, the callback answers the tokens as
	// JSON, or redirects to the redirect_uri with them in the fragment.
	// The page's script carries the token: the answer is no-store, sends
	// no Referer, and its Content-Security-Policy runs that one script
	// only.
	OAuthCallbackHTML bool

	// RateLimit configures the rate limits (off unless Enabled).
	RateLimit RateLimitOptions
	// SwaggerUI, when set, serves the documentation pages: /docs
	// (read-only), /interactive-docs (with "try it out") and their assets
	// at /docs/assets/{file}, read from it. Pass swaggerui.FS() (package
	// httpadapter/swaggerui, about 1.9 MB that a binary links only when it
	// imports that package). Unset, those routes are not served (404);
	// /openapi.json is served in any case.
	SwaggerUI fs.FS
	// PublicInteractiveDocs serves /interactive-docs (Swagger UI with "try
	// it out") to anyone. By default it is reserved to callers the policy
	// grants docs.swagger (admins), as the reference's
	// PROTECTED_INTERACTIVE_DOCS=true did; /docs is always public.
	PublicInteractiveDocs bool

	// JWKSMaxAge is the max-age of the JWKS and OpenID discovery answers:
	// how long verifiers may cache the public keys, so the least time
	// between publishing a new key and signing with it (docs/tokens.md).
	// Default DefaultJWKSMaxAge (5 minutes).
	JWKSMaxAge time.Duration

	// Version is what GET /version reports as the project's version.
	// Default: the module version from the build info.
	Version string
}

// CORSOptions configures cross-origin access.
type CORSOptions struct {
	// AllowedOrigins are exact origins ("https://app.example.com"),
	// compared without regard to ASCII case. "*" allows any other origin,
	// answered with "Access-Control-Allow-Origin: *" and never with
	// credentials: a browser refuses "*" together with credentials, and
	// echoing an arbitrary origin with credentials would let any site act
	// as the user. Origins listed exactly still get credentials when
	// AllowCredentials is set.
	AllowedOrigins []string
	// AllowCredentials answers the exactly listed origins with
	// Access-Control-Allow-Credentials: true, which a browser needs before
	// it sends cookies (fetch's credentials: "include") or exposes the
	// answer to such a request. An explicit Authorization header, as bearer
	// tokens travel, does not need it: it needs only to be among
	// AllowedHeaders. Origins admitted through "*" never get credentials.
	AllowCredentials bool
	// AllowedHeaders are the request headers a preflight may ask for.
	// Default: Authorization, Content-Type.
	AllowedHeaders []string
	// MaxAge is how long a browser may cache a preflight. Default 10 min.
	MaxAge time.Duration
}

// Defaults of Options.
const (
	DefaultPrefix       = "/api"
	DefaultMaxBodyBytes = 1 << 20
	DefaultCORSMaxAge   = 10 * time.Minute
)

// withDefaults returns o with every zero field set to its default and the
// prefix normalised: a leading slash, no trailing slash ("/" and "" after
// trimming mean the API is served at the root).
func (o Options) withDefaults(fallback *slog.Logger) Options {
	if o.Prefix == "" {
		o.Prefix = DefaultPrefix
	}
	o.Prefix = "/" + strings.Trim(o.Prefix, "/")
	if o.Prefix == "/" {
		o.Prefix = ""
	}
	if o.Logger == nil {
		o.Logger = fallback
	}
	if o.Logger == nil {
		o.Logger = slog.Default()
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = DefaultMaxBodyBytes
	}
	if len(o.CORS.AllowedHeaders) == 0 {
		o.CORS.AllowedHeaders = []string{"Authorization", "Content-Type"}
	}
	if o.JWKSMaxAge <= 0 {
		o.JWKSMaxAge = DefaultJWKSMaxAge
	}
	if o.CORS.MaxAge <= 0 {
		o.CORS.MaxAge = DefaultCORSMaxAge
	}
	return o
}
