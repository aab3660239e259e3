package httpadapter

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/usermgmt/usermgmt"
)

// Errors of the HTTP layer itself; everything else comes from the Manager's
// catalogue (usermgmt.Err...).
var (
	// errNotFound answers a path no route serves.
	errNotFound = &usermgmt.Error{Status: http.StatusNotFound, Code: "not_found", Message: "Not Found"}
	// errMethodNotAllowed answers a known path asked with another method.
	errMethodNotAllowed = &usermgmt.Error{Status: http.StatusMethodNotAllowed, Code: "method_not_allowed", Message: "Method Not Allowed"}
	// ErrTooLarge answers a body over Options.MaxBodyBytes.
	ErrTooLarge = &usermgmt.Error{Status: http.StatusRequestEntityTooLarge, Code: "request_too_large", Message: "Request body too large"}
	// ErrUnsupportedMediaType answers a body in an encoding the route does
	// not take.
	ErrUnsupportedMediaType = &usermgmt.Error{Status: http.StatusUnsupportedMediaType, Code: "unsupported_media_type", Message: "Unsupported Content-Type"}
	// errInvalidRequest answers a malformed body or parameter (FastAPI's
	// 422 for the same faults).
	errInvalidRequest = &usermgmt.Error{Status: http.StatusUnprocessableEntity, Code: "invalid_request", Message: "Invalid request"}
	// errUnsupportedGrantType answers an OAuth2 grant_type the route does not
	// implement.
	errUnsupportedGrantType = &usermgmt.Error{Status: http.StatusBadRequest, Code: "unsupported_grant_type", Message: "Unsupported grant_type"}
	// errCSRF refuses a request authenticated by cookie (or a page's form
	// post) that comes from another origin or lacks its CSRF token.
	errCSRF = &usermgmt.Error{Status: http.StatusForbidden, Code: "csrf_failed", Message: "Cross-site request refused: reload the page and try again."}
)

// invalid returns a 422 invalid_request error with a specific message.
func invalid(msg string) *usermgmt.Error { return errInvalidRequest.WithMessage(msg) }

// setNoStore forbids caching the answer: every answer of the API is
// personal or short-lived, and token answers must not be cached (RFC 6749
// section 5.1).
func setNoStore(h http.Header) { h.Set("Cache-Control", "no-store") }

// errorBody is the JSON body of every error: the reference's clients read
// detail; code is the stable machine-readable key.
type errorBody struct {
	Detail string `json:"detail"`
	Code   string `json:"code"`
}

// writeError answers r with err as JSON. The status and message come from
// the *usermgmt.Error it is (or wraps); anything else is a 500 whose cause
// is logged, with the method and path (never the query, which may carry
// secrets), and never sent.
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if c, ok := errors.AsType[*usermgmt.OTPChallengeError](err); ok {
		writeOTPChallenge(w, r, c) // otp.go
		return
	}
	ctx := r.Context()
	e := usermgmt.AsError(err)
	if e.Status < 400 || e.Status > 599 { // not an answer a client can get
		e = usermgmt.ErrInternal
	}
	status := e.Status
	if status >= 500 {
		log.ErrorContext(ctx, "request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", err)
	} else if e.Err != nil && !errors.Is(e.Err, context.Canceled) {
		log.DebugContext(ctx, "request refused", "code", e.Code, "err", e.Err)
	}
	body, mErr := json.Marshal(errorBody{Detail: e.Message, Code: e.Code})
	if mErr != nil { // unreachable: two strings always marshal
		body = []byte(`{"detail":"Internal server error","code":"internal_error"}`)
	}
	h := w.Header()
	if status == http.StatusUnauthorized {
		h.Set("WWW-Authenticate", "Bearer")
	}
	if s, ok := e.Params["retry_after"].(int); ok && s > 0 { // seconds, as ErrAccountLocked gives
		h.Set("Retry-After", strconv.Itoa(s))
	}
	setNoStore(h)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
