package httpadapter

import (
	"net/http"
	"strconv"
	"strings"
)

// cors answers cross-origin requests from the configured origins.
//
// An origin listed exactly is echoed in Access-Control-Allow-Origin, with
// Access-Control-Allow-Credentials when AllowCredentials is set. "*" admits
// every other origin with "Access-Control-Allow-Origin: *" and never with
// credentials: browsers refuse that pair, and echoing any origin with
// credentials would let every site on the web act as the signed-in user.
// Other origins get no CORS headers at all, so browsers block them.
type cors struct {
	exact       map[string]bool // lower-cased origins
	any         bool
	credentials bool
	methods     string
	headers     string
	maxAge      string
}

func newCORS(o CORSOptions) *cors {
	c := &cors{
		exact:       map[string]bool{},
		credentials: o.AllowCredentials,
		methods:     "GET, HEAD, POST, PUT, PATCH, DELETE",
		headers:     strings.Join(o.AllowedHeaders, ", "),
		maxAge:      strconv.Itoa(int(o.MaxAge.Seconds())),
	}
	for _, origin := range o.AllowedOrigins {
		origin = strings.TrimRight(strings.TrimSpace(origin), "/")
		if origin == "*" {
			c.any = true
		} else if origin != "" {
			c.exact[strings.ToLower(origin)] = true
		}
	}
	return c
}

func (c *cors) enabled() bool { return c.any || len(c.exact) > 0 }

// allow returns the Access-Control-Allow-Origin value for origin and
// whether credentials go with it; "" when the origin is not allowed.
func (c *cors) allow(origin string) (string, bool) {
	if c.exact[strings.ToLower(origin)] {
		return origin, c.credentials
	}
	if c.any {
		return "*", false
	}
	return "", false
}

func (c *cors) middleware(next http.Handler) http.Handler {
	if !c.enabled() {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Vary: Origin on every answer, with an Origin or without: a shared
		// cache must not serve an answer made without CORS headers to a
		// cross-origin request, nor one made for an origin to another.
		h := w.Header()
		h.Add("Vary", "Origin")
		origin := r.Header.Get("Origin")
		if origin == "" {
			next.ServeHTTP(w, r)
			return
		}
		preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
		if preflight {
			h.Add("Vary", "Access-Control-Request-Method")
			h.Add("Vary", "Access-Control-Request-Headers")
		}
		allowed, credentials := c.allow(origin)
		if allowed != "" {
			h.Set("Access-Control-Allow-Origin", allowed)
			if credentials {
				h.Set("Access-Control-Allow-Credentials", "true")
			}
		}
		if !preflight {
			if allowed != "" {
				h.Set("Access-Control-Expose-Headers", "WWW-Authenticate")
			}
			next.ServeHTTP(w, r)
			return
		}
		// A preflight is answered here, before routing and authentication.
		setNoStore(h)
		if allowed != "" {
			h.Set("Access-Control-Allow-Methods", c.methods)
			h.Set("Access-Control-Allow-Headers", c.headers)
			h.Set("Access-Control-Max-Age", c.maxAge)
		}
		w.WriteHeader(http.StatusNoContent)
	})
}

// credentialedOrigins are the origins listed exactly when credentials are
// allowed: their cookie-authenticated requests also pass the origin check
// (they still need the CSRF token).
func (o CORSOptions) credentialedOrigins() []string {
	if !o.AllowCredentials {
		return nil
	}
	var out []string
	for _, origin := range o.AllowedOrigins {
		if origin = strings.TrimRight(strings.TrimSpace(origin), "/"); origin != "" && origin != "*" {
			out = append(out, origin)
		}
	}
	return out
}
