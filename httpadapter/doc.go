// Package httpadapter serves a usermgmt.Manager over HTTP: the reference
// service's API (wire-compatible with its clients), root routes such as
// /ping and /version, and middleware that guards a host's own routes.
//
// One handler serves everything:
//
//	mux := http.NewServeMux()
//	mux.Handle("/", httpadapter.New(m, httpadapter.Options{Prefix: "/api"}))
//	mux.Handle("GET /app/dashboard", httpadapter.RequireAuth(m)(dashboard))
//
// Each route decodes and bounds its input (JSON, or the form and query
// parameters the reference used, with the same field names), authenticates
// the caller with a bearer access token when it needs one, calls one
// Manager method as that caller (Manager.As) and encodes the result. The
// rules live in the Manager: whatever HTTP can do, Go code can do through
// Manager.As with the same checks and errors.
//
// Errors are JSON, {"detail": "...", "code": "..."}: the status and the
// stable code come from the *usermgmt.Error, malformed input is 422
// invalid_request, and internal causes are logged, never sent.
//
// Routes describes every route as data (method, path, feature-flag name,
// authentication, input and output types), for documentation and tooling.
package httpadapter
