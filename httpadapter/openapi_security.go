package httpadapter

import (
	"net/http"
	"strconv"

	"github.com/usermgmt/usermgmt"
)

// The OpenAPI document's security: how a caller authenticates. Without a
// feature credential (an API key), the access token of a signed-in session
// as a bearer token: the scheme "bearer". With one (a feature that
// implements usermgmt.CredentialAuthenticator, such as package apikey):
// "bearerAuth" (an access token or an API key) and "apiKey" (X-API-Key, an
// API key only); every authenticated operation takes either, except those
// only a session may call (Route.SessionOnly and sessionOnlyRoutes), which
// take "bearerAuth" with a session's access token and say so.

// Security scheme names of the OpenAPI document.
const (
	schemeBearer     = "bearer"     // without feature credentials
	schemeBearerAuth = "bearerAuth" // with them: an access token or an API key
	schemeAPIKey     = "apiKey"     // with them: X-API-Key
)

// sessionOnlyRoute reports whether only a signed-in session may call rt,
// never a feature's credential.
func sessionOnlyRoute(rt Route) bool { return rt.SessionOnly || sessionOnlyRoutes[rt.Name] }

// takesCredentials reports whether one of fs authenticates a credential of
// its own (an API key).
func takesCredentials(fs []Feature) bool {
	for _, f := range fs {
		if _, ok := f.(usermgmt.CredentialAuthenticator); ok {
			return true
		}
	}
	return false
}

// securitySchemes returns the document's security schemes.
func securitySchemes(credentials bool) js {
	if !credentials {
		return js{schemeBearer: js{"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}}
	}
	return js{
		schemeBearerAuth: js{"type": "http", "scheme": "bearer",
			"description": "Authorization: Bearer with a signed-in session's access token (a JWT) or an API key (um_...)."},
		schemeAPIKey: js{"type": "apiKey", "in": "header", "name": APIKeyHeader,
			"description": "An API key (um_...), and nothing else: any other value, a session's access token included, " +
				"is 401 invalid_api_key. Authorization: Bearer wins when both are sent."},
	}
}

// sessionOnlyNote is the description of an operation only a session may
// call, and sessionOnly403 that of its 403 answer.
const (
	sessionOnlyNote = "Only a signed-in session may call this operation: its access token as a bearer token " +
		"(or the hosted pages' session cookie). An API key, as a bearer token or in X-API-Key, is refused with 403 session_required."
	sessionOnly403 = "Forbidden: session_required when an API key was sent (only a signed-in session's access token is taken here), " +
		"or refused by a feature flag or the policy."
)

// secure sets the security requirement of an authenticated operation op
// and, when a feature credential exists and only a session may call it,
// its description and that of its 403 answer.
func secure(op js, rt Route, credentials bool) {
	if !rt.Auth {
		return
	}
	switch {
	case !credentials:
		op["security"] = []any{js{schemeBearer: []string{}}}
	case sessionOnlyRoute(rt):
		op["security"] = []any{js{schemeBearerAuth: []string{}}}
		op["description"] = sessionOnlyNote
		if r, ok := op["responses"].(js)[strconv.Itoa(http.StatusForbidden)].(js); ok {
			r["description"] = sessionOnly403
		}
	default:
		op["security"] = []any{js{schemeBearerAuth: []string{}}, js{schemeAPIKey: []string{}}}
	}
}
