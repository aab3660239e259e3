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

// errCanceled answers a request whose own context ended (the client went
// away or its deadline passed) before an answer was ready: 499, as nginx
// counts it, so that no 5xx is logged or counted for a request nobody
// waits for. The client rarely reads it.
var errCanceled = &usermgmt.Error{Status: statusClientClosedRequest, Code: "request_canceled", Message: "The request was canceled before it completed."}

// statusClientClosedRequest is nginx's 499 Client Closed Request.
const statusClientClosedRequest = 499

// unavailableRetryAfter is the Retry-After, in seconds, of a 503 whose
// error names none.
const unavailableRetryAfter = 5

// answerFor returns the *usermgmt.Error r is answered with for err: the
// one err is (or wraps), ErrInternal for anything else, and errCanceled
// when the request's own context is done and err is no deliberate answer
// (a 5xx or a context error): a cancelled request is not a failure of
// ours.
func answerFor(r *http.Request, err error) *usermgmt.Error {
	e := usermgmt.AsError(err)
	if e.Status < 400 || e.Status > 599 { // not an answer a client can get
		e = usermgmt.ErrInternal.Wrap(err)
	}
	if r.Context().Err() != nil && (e.Status >= 500 || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)) {
		return errCanceled.Wrap(err)
	}
	return e
}

// logFailure logs what answering r with e (for err) tells the operator.
// A 5xx is logged at ERROR with its cause, except those with a logger of
// their own: an outage (503: the store or the rate limiter logs it once
// per outage) and a full disk (507, a WARN per refused write, which says
// what to free). A cancelled request and a refusal with a cause are
// logged at DEBUG.
func logFailure(log *slog.Logger, r *http.Request, e *usermgmt.Error, err error) {
	ctx := r.Context()
	switch {
	case e.Code == errCanceled.Code:
		log.DebugContext(ctx, "request canceled by the client", "method", r.Method, "path", r.URL.Path, "err", err)
	case e.Status == http.StatusServiceUnavailable:
		log.DebugContext(ctx, "request refused: a part is unavailable", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", err)
	case e.Status == http.StatusInsufficientStorage:
		log.WarnContext(ctx, "request refused: no storage space left", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", err)
	case e.Status >= 500:
		log.ErrorContext(ctx, "request failed", "method", r.Method, "path", r.URL.Path, "code", e.Code, "err", err)
	case e.Err != nil && !errors.Is(e.Err, context.Canceled):
		log.DebugContext(ctx, "request refused", "code", e.Code, "err", e.Err)
	}
}

// writeError answers r with err as JSON. The status and message come from
// the *usermgmt.Error it is (or wraps); anything else is a 500 whose cause
// is logged, with the method and path (never the query, which may carry
// secrets), and never sent. A 503 carries Retry-After (the error's
// retry_after parameter, else 5 s, unless the header is set already).
func writeError(w http.ResponseWriter, r *http.Request, log *slog.Logger, err error) {
	if c, ok := errors.AsType[*usermgmt.OTPChallengeError](err); ok {
		writeOTPChallenge(w, r, c) // otp.go
		return
	}
	e := answerFor(r, err)
	logFailure(log, r, e, err)
	status := e.Status
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
	} else if status == http.StatusServiceUnavailable && h.Get("Retry-After") == "" {
		h.Set("Retry-After", strconv.Itoa(unavailableRetryAfter))
	}
	setNoStore(h)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(status)
	_, _ = w.Write(body)
}
