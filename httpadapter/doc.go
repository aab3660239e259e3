// Package httpadapter serves a usermgmt.Manager over HTTP: the part of the
// reference service's API built so far (auth, users, ban and unban;
// wire-compatible with its clients, see Routes), root routes such as /ping
// and /version, and middleware that guards a host's own routes.
//
// One handler serves everything:
//
//	mux := http.NewServeMux()
//	mux.Handle("/", httpadapter.New(m, httpadapter.Options{Prefix: "/api"}))
//	mux.Handle("GET /app/dashboard", httpadapter.RequireAuth(m)(dashboard))
//
// Each route decodes and bounds its input (JSON, or the form and query
// parameters the reference used, with the same field names), authenticates
// the caller with a bearer access token or the browser's session cookie
// when it needs one (see cookie.go for the cookies and their CSRF check),
// calls one
// Manager method as that caller (Manager.As) and encodes the result. The
// rules live in the Manager: whatever HTTP can do, Go code can do through
// Manager.As with the same checks and errors.
//
// Errors are JSON, {"detail": "...", "code": "..."}: the status and the
// stable code come from the *usermgmt.Error, a malformed body is 422
// invalid_request, a body in a content type the route does not take is 415
// unsupported_media_type, and internal causes are logged, never sent.
// Every answer carries Cache-Control: no-store.
//
// With Options.Pages, the same handler also serves hosted HTML pages for
// browsers (login, sign-up, the two-factor code, forgotten and changed
// passwords, provider buttons, logout, ...; see PagesOptions), whose forms
// call the same Manager methods with the same decoders and messages.
//
// Features (usermgmt.WithFeature) add routes (Feature, Handle) and may
// check other routes' requests before the Manager is called (Guard, as
// package captcha does).
//
// Routes describes every route as data (method, path, feature-flag name,
// authentication, input and output types), for documentation and tooling.
package httpadapter
