package emaillogin_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers/legacy"

	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestResponsesMatchOpenAPI: the answers of every route, successes and
// errors, are what the OpenAPI document declares (status and body
// schema), checked by kin-openapi.
func TestResponsesMatchOpenAPI(t *testing.T) {
	e := newEnv(t, emaillogin.Config{}, nil)
	u := e.user("jane_doe")
	data, err := httpadapter.OpenAPI("/api", "test", e.el)
	if err != nil {
		t.Fatal(err)
	}
	doc, err := openapi3.NewLoader().LoadFromData(data)
	if err != nil {
		t.Fatal(err)
	}
	if err := doc.Validate(context.Background()); err != nil {
		t.Fatalf("the document is not valid OpenAPI: %v", err)
	}
	router, err := legacy.NewRouter(doc)
	if err != nil {
		t.Fatal(err)
	}
	check := func(method, target, body string, want int) {
		t.Helper()
		req := httptest.NewRequest(method, target, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, req)
		if rec.Code != want {
			t.Fatalf("%s %s: %d %s, want %d", method, target, rec.Code, rec.Body, want)
		}
		check := httptest.NewRequest(method, target, strings.NewReader(body))
		check.Header = req.Header.Clone()
		route, params, err := router.FindRoute(check)
		if err != nil {
			t.Fatalf("%s %s: not in the document: %v", method, target, err)
		}
		if route.Operation.Responses.Status(rec.Code) == nil {
			t.Errorf("%s %s: status %d not declared", method, target, rec.Code)
		}
		in := &openapi3filter.ResponseValidationInput{
			RequestValidationInput: &openapi3filter.RequestValidationInput{Request: check, PathParams: params, Route: route},
			Status:                 rec.Code, Header: rec.Header(), Body: io.NopCloser(bytes.NewReader(rec.Body.Bytes())),
			Options: &openapi3filter.Options{IncludeResponseStatus: true, MultiError: true, AuthenticationFunc: openapi3filter.NoopAuthenticationFunc},
		}
		if err := openapi3filter.ValidateResponse(context.Background(), in); err != nil {
			t.Errorf("%s %s → %d: %v (body %.300s)", method, target, rec.Code, err, rec.Body)
		}
	}
	email := func(addr string) string { b, _ := json.Marshal(map[string]string{"email": addr}); return string(b) }

	check(http.MethodPost, "/api/auth/magic-link", email(u.Email), http.StatusAccepted)
	_, token := tokenOf(t, e.nextMail())
	check(http.MethodGet, "/api/auth/magic-link/verify?token="+token, "", http.StatusOK)
	check(http.MethodGet, "/api/auth/magic-link/verify?token="+token, "", http.StatusUnauthorized)
	check(http.MethodPost, "/api/auth/magic-link", `{"email":"jane_doe@example.com","redirect_uri":"https://evil.example.net/"}`, http.StatusBadRequest)
	check(http.MethodPost, "/api/auth/magic-link", email("not-an-address"), http.StatusBadRequest)
	check(http.MethodPost, "/api/auth/magic-link", `{}`, http.StatusUnprocessableEntity)

	check(http.MethodPost, "/api/auth/email-code", email(u.Email), http.StatusAccepted)
	code := codeOf(t, e.nextMail())
	check(http.MethodPost, "/api/auth/email-code/verify", `{"email":"jane_doe@example.com","code":"`+wrong(code, 1)+`"}`, http.StatusUnauthorized)
	check(http.MethodPost, "/api/auth/email-code/verify", `{"email":"jane_doe@example.com","code":"`+code+`"}`, http.StatusOK)
	check(http.MethodPost, "/api/auth/email-code/verify", `{"email":"jane_doe@example.com","code":"12"}`, http.StatusUnprocessableEntity)
	check(http.MethodPost, "/api/auth/email-code", `[1]`, http.StatusUnprocessableEntity)
}
