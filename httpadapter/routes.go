package httpadapter

import (
	"net/http"

	"github.com/usermgmt/usermgmt"
)

// Route describes one route of the surface New serves. The table is data:
// New registers handlers from it, and tools (the OpenAPI document, feature
// flags, rate limits, docs) read it, so they cannot drift from what is
// served.
type Route struct {
	// Method is the HTTP method ("GET" also answers HEAD).
	Method string
	// Path is relative to Options.Prefix for an API route and absolute for
	// a Root route; wildcards are written {name}. A trailing slash is part
	// of the path ("/user/" is not "/user").
	Path string
	// Root is true for routes served outside the prefix (/ping, /version).
	Root bool
	// Name is the handler's name, the operation's identifier.
	Name string
	// Flag is the route's feature-flag name: the reference's name for
	// routes it had, the upper-cased Name otherwise.
	Flag string
	// Tag groups routes (auth, user, admin, root).
	Tag string
	// Summary is one line for documentation.
	Summary string
	// Page is true for the hosted HTML pages: served only when
	// Options.Pages is set, answering HTML (or images and assets).
	Page bool
	// SwaggerUI is true for the documentation pages and their assets,
	// which load Swagger UI: served only when Options.SwaggerUI is set.
	SwaggerUI bool
	// Auth is true when the route needs an authenticated caller (a bearer
	// access token, or the session cookie with the CSRF check for unsafe
	// methods); a request without one gets 401.
	Auth bool
	// Request names the input type (body, query or path parameters), ""
	// when the route takes none.
	Request string
	// Encodings are the media types the request body may use; nil for
	// routes without a body.
	Encodings []string
	// Upload is true for a multipart upload route, whose body may be as
	// large as the Manager's Config.MaxUploadBytes rather than
	// Options.MaxBodyBytes.
	Upload bool
	// Status is the success status.
	Status int
	// Response names the success body's type: a JSON schema name, "text"
	// for text/plain, "" for an empty body.
	Response string
	// Statuses are the statuses the route answers beyond the success one
	// and those every route or its shape implies (see the OpenAPI
	// document: 403, 422, 429 and 503 always; 400 with an input, 401 with
	// Auth, 404 with path parameters, 413 and 415 with a body, 507 when it
	// writes): its own errors, redirects, 304.
	Statuses []int
	// Writes is true for a GET route that writes (to the store or the file
	// storage: it spends a link's token, stores an OAuth state or a new
	// second-factor secret, or mails a reset link): its answers include
	// 507 insufficient_storage, as those of every route of another method
	// do, which are all taken to write.
	Writes bool
	// Headers are the response headers the success answer carries beyond
	// those of HTTP and the core (rate limits, Retry-After, a cursor):
	// declared, as strings, in the OpenAPI document.
	Headers []string
	// HTML is true when the answers may also be HTML pages (text/html), as
	// the OAuth callback's with Options.OAuthCallbackHTML or for a flow
	// begun from the hosted pages.
	HTML bool
	// Limit is the rate-limit class of a feature's route (ClassLogin ...),
	// applied like the core routes' classes; empty: the global limit only.
	// LimitAccount names the body or query fields that name the account
	// the class's per-account limit counts.
	Limit        string
	LimitAccount []string
	// SessionOnly is true for a route only a signed-in session may call,
	// never an API key (403 session_required): one that manages the
	// account's passwords, second factors, sessions, API keys or ways in.
	SessionOnly bool
	// Captcha asks for the CAPTCHA of a Guard that checks the routes
	// marking themselves so (package captcha, with its FeatureRoutes
	// option): a feature's route that mails a sign-in link or code, say.
	// Without such a guard it changes nothing.
	Captcha bool
	// Unlimited is true for a route no rate limit applies to, not even
	// the global one: the readiness probe, which an orchestrator calls
	// every few seconds and which must report on the limiter even when
	// the limiter cannot decide.
	Unlimited bool

	checks []*Check // the Guards' checks of the route (routeguard.go)
}

// fullPath returns the path the route is served at under prefix.
func (r Route) fullPath(prefix string) string {
	if r.Root {
		return r.Path
	}
	return prefix + r.Path
}

// Routes returns the route table: every route New serves for a Manager
// with the given features (those of usermgmt.WithFeature that serve HTTP),
// in a fresh slice the caller may keep.
func Routes(fs ...Feature) []Route {
	rs := routes(fs)
	out := make([]Route, len(rs))
	for i, r := range rs {
		out[i] = r.Route
		out[i].Encodings = append([]string(nil), r.Encodings...)
	}
	return out
}

// route binds a Route to its endpoint.
type route struct {
	Route
	ep endpoint
}

// featureEndpoint is the endpoint of a feature's route: it carries the
// route's OpenAPI input (the core's are in requestDefs) and may bound the
// body by its own limit.
type featureEndpoint struct {
	endpoint
	input   *requestDef
	maxBody int64
}

// input returns the OpenAPI input of a feature's route, nil for the core's.
func (r route) input() *requestDef {
	if fe, ok := r.ep.(featureEndpoint); ok {
		return fe.input
	}
	return nil
}

// Shorthands for the route tables.
const (
	get, post, put, patch, del = http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete
	ok                         = http.StatusOK
)

// routes returns the table with the endpoints, freshly built: the groups of
// each subject, in order, the features' before the documentation. A new
// subject of the core adds its group in its own file and one line here.
func routes(fs []Feature) []route {
	var rs []route
	for _, group := range [][]route{
		coreRoutes(),
		fileRoutes(),
		oauthRoutes(),
		accountRoutes(),
		pageRoutes(),
		flagRoutes(),
		blockedRoutes(),
		adminToolRoutes(),
		jwksRoutes(),
		featureRoutes(fs),
		docsRoutes(),
	} {
		rs = append(rs, group...)
	}
	return withChecks(rs, guards(fs))
}

// coreRoutes are the routes of accounts, sessions and users, and the root
// routes.
func coreRoutes() []route {
	return []route{
		// auth
		{Route{Method: post, Path: "/auth/register", Name: "register", Flag: "REGISTER", Tag: "auth", Statuses: []int{http.StatusConflict},
			Summary: "Create an account and log it in.", Request: "RegisterForm", Encodings: jsonOrForm,
			Status: ok, Response: "Token"},
			op[registerInput]{decodeRegister, (*handler).register}},
		{Route{Method: post, Path: "/auth/login", Name: "login", Flag: "LOGIN", Tag: "auth", Statuses: []int{http.StatusUnauthorized},
			Summary: "Log in with a username or email and a password (OAuth2 password grant).", Request: "LoginForm",
			Encodings: jsonOrForm, Status: ok, Response: "Token"},
			op[loginInput]{decodeLogin, (*handler).login}},
		{Route{Method: post, Path: "/auth/refresh", Name: "refresh_token", Flag: "REFRESH_TOKEN", Tag: "auth", Statuses: []int{http.StatusUnauthorized},
			Summary: "Exchange a refresh token for new tokens (rotating it).", Request: "RefreshForm",
			Encodings: jsonOrForm, Status: ok, Response: "Token"},
			op[refreshInput]{decodeRefresh, (*handler).refresh}},
		{Route{Method: post, Path: "/auth/logout", Name: "logout", Flag: "LOGOUT", Tag: "auth", Auth: true,
			Summary: "End the caller's session.", Status: ok, Response: "text"},
			op[none]{noInput, (*handler).logout}},
		{Route{Method: get, Path: "/auth/token/validate", Name: "validate_token", Flag: "VALIDATE_TOKEN", Tag: "auth", Auth: true,
			Summary: "Check the caller's access token.", Status: ok, Response: "text"},
			op[none]{noInput, (*handler).validateToken}},
		{Route{Method: get, Path: "/auth/sessions", Name: "read_sessions", Flag: "READ_SESSIONS", Tag: "auth", Auth: true,
			Summary: "List the caller's live sessions.", Status: ok, Response: "[]Session"},
			op[none]{noInput, (*handler).sessions}},
		{Route{Method: del, Path: "/auth/sessions/{id}", Name: "revoke_session", Flag: "REVOKE_SESSION", Tag: "auth", Auth: true,
			Summary: "End one of the caller's sessions.", Request: "SessionID", Status: http.StatusNoContent},
			op[string]{pathValue("id"), (*handler).revokeSession}},

		// user
		{Route{Method: get, Path: "/user/me", Name: "read_users_me", Flag: "READ_USERS_ME", Tag: "user", Auth: true,
			Summary: "The caller's profile, with their history.", Status: ok, Response: "UserRead"},
			op[none]{noInput, (*handler).me}},
		{Route{Method: get, Path: "/user/{uuid}/details", Name: "read_user", Flag: "READ_USER", Tag: "user", Auth: true,
			Summary: "What the caller may see of another user.", Request: "UserUUID", Status: ok, Response: "UserDetails"},
			op[string]{pathValue("uuid"), (*handler).userDetails}},
		{Route{Method: get, Path: "/user/", Name: "read_users", Flag: "READ_USERS", Tag: "user", Auth: true,
			Summary: "A page of users (skip, limit), oldest first; each UserRead without user_history.", Request: "UserPage",
			Status: ok, Response: "[]UserRead"},
			op[usermgmt.UserQuery]{decodeUserPage, (*handler).listUsers}},
		{Route{Method: get, Path: "/user/users", Name: "read_users_list", Flag: "READ_USERS_LIST", Tag: "user", Auth: true,
			Summary: "The users among users_ids that exist; each UserRead without user_history.", Request: "UserIDs",
			Status: ok, Response: "[]UserRead"},
			op[[]string]{decodeUserIDs, (*handler).usersByIDs}},
		{Route{Method: get, Path: "/user/count", Name: "read_users_number", Flag: "READ_USERS_NUMBER", Tag: "user", Auth: true,
			Summary: "The number of users.", Status: ok, Response: "integer"},
			op[none]{noInput, (*handler).countUsers}},
		{Route{Method: post, Path: "/user/", Name: "new_user", Flag: "NEW_USER", Tag: "user", Statuses: []int{http.StatusConflict}, Auth: true,
			Summary: "Create a user.", Request: "UserCreate", Encodings: jsonOnly, Status: ok, Response: "UserRead"},
			op[usermgmt.NewUser]{decodeUserCreate, (*handler).createUser}},
		{Route{Method: patch, Path: "/user/{uuid}", Name: "patch_user", Flag: "PATCH_USER", Tag: "user", Statuses: []int{http.StatusConflict}, Auth: true,
			Summary: "Change a user; absent and null fields are left as they are.", Request: "UserUpdate",
			Encodings: jsonOnly, Status: ok, Response: "UserRead"},
			op[patchInput]{decodeUserPatch, (*handler).updateUser}},
		{Route{Method: del, Path: "/user/{uuid}", Name: "remove_user", Flag: "REMOVE_USER", Tag: "user", Auth: true,
			Summary: "Delete a user.", Request: "UserUUID", Status: ok},
			op[string]{pathValue("uuid"), (*handler).deleteUser}},

		// admin
		{Route{Method: post, Path: "/admin/ban/{uuid}", Name: "ban_user", Flag: "BAN_USER", Tag: "admin", Auth: true,
			Summary: "Deactivate a user, with a reason, and end their sessions.", Request: "BanForm",
			Encodings: jsonOrForm, Status: ok, Response: "BanResult"},
			op[banInput]{decodeBan, (*handler).ban}},
		{Route{Method: post, Path: "/admin/unban/{uuid}", Name: "unban_user", Flag: "UNBAN_USER", Tag: "admin", Auth: true,
			Summary: "Reactivate a user.", Request: "UnbanForm", Encodings: jsonOrForm, Status: ok, Response: "BanResult"},
			op[banInput]{decodeUnban, (*handler).unban}},
		{Route{Method: post, Path: "/admin/unlock/{uuid}", Name: "unlock_user", Flag: "UNLOCK_USER", Tag: "admin", Auth: true,
			Summary: "Lift a user's lockouts after failed logins or second-step codes.", Request: "UserUUID",
			Status: ok, Response: "BanResult"},
			op[string]{pathValue("uuid"), (*handler).unlock}},

		// root
		{Route{Method: get, Path: "/ping", Root: true, Name: "_ping", Flag: "_PING", Tag: "root",
			Summary: "Liveness check.", Status: ok, Response: "string"},
			op[none]{noInput, (*handler).ping}},
		{Route{Method: get, Path: "/ready", Root: true, Name: "_ready", Flag: "_READY", Tag: "root", Unlimited: true,
			Summary: "Readiness check: 200 {\"status\": \"ready\"} when the database and the rate limiter (Redis) answer within 1 s; " +
				"otherwise 503 not_ready, whose failed names the parts that did not (database, rate_limiter). Never rate limited.",
			Status: ok, Response: "Ready"},
			op[none]{noInput, (*handler).ready}},
		{Route{Method: get, Path: "/version", Root: true, Name: "_version", Flag: "_VERSION", Tag: "root",
			Summary: "The project's and Go's versions.", Status: ok, Response: "Version"},
			op[none]{noInput, (*handler).versionInfo}},
	}
}

// pathValue returns a decoder of one path wildcard.
func pathValue(name string) func(*http.Request) (string, error) {
	return func(r *http.Request) (string, error) { return r.PathValue(name), nil }
}
