package main

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"

	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// TestSecuritySchemes validates the document with and without the API
// keys with kin-openapi, and lets kin-openapi's request validation say
// which credentials each kind of operation takes: without the keys, a
// bearer token; with them, a bearer token or X-API-Key, and on a
// session-only operation the bearer header alone.
func TestSecuritySchemes(t *testing.T) {
	for _, c := range []struct {
		name     string
		fs       []httpadapter.Feature
		schemes  []string
		me, sess []string // the headers GET /api/user/me and GET /api/auth/sessions take
	}{
		{"without API keys", nil, []string{"bearer"}, []string{"Authorization"}, []string{"Authorization"}},
		{"with API keys", []httpadapter.Feature{apikey.New(apikey.Config{})}, []string{"apiKey", "bearerAuth"},
			[]string{"Authorization", "X-API-Key"}, []string{"Authorization"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			data, err := httpadapter.OpenAPI("/api", "1", c.fs...)
			if err != nil {
				t.Fatal(err)
			}
			s := loadSpec(data) // loads and validates the document
			if s.err != nil {
				t.Fatal(s.err)
			}
			var names []string
			for name := range s.doc.Components.SecuritySchemes {
				names = append(names, name)
			}
			if strings.Join(slices.Sorted(slices.Values(names)), ",") != strings.Join(c.schemes, ",") {
				t.Errorf("security schemes %v, want %v", names, c.schemes)
			}
			for _, p := range []struct {
				path string
				want []string
			}{{"/api/user/me", c.me}, {"/api/auth/sessions", c.sess}} {
				for _, h := range []string{"Authorization", "X-API-Key"} {
					err := validateCredential(s, p.path, h)
					if taken := slices.Contains(p.want, h); taken != (err == nil) {
						t.Errorf("GET %s with %s only: %v, want it taken %v", p.path, h, err, taken)
					}
				}
			}
		})
	}
}

// validateCredential validates a GET of path carrying only the header h
// against the document's security requirements, with kin-openapi.
func validateCredential(s *spec, path, h string) error {
	req := httptest.NewRequest(http.MethodGet, path, nil)
	if h == "Authorization" {
		req.Header.Set(h, "Bearer credential")
	} else {
		req.Header.Set(h, "um_credential")
	}
	route, params, err := s.router.FindRoute(req)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequest(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: params, Route: route,
		Options: &openapi3filter.Options{AuthenticationFunc: presentCredential},
	})
}

// presentCredential passes a security scheme when the request carries its
// credential: a Bearer Authorization header, or the API key's header.
func presentCredential(_ context.Context, in *openapi3filter.AuthenticationInput) error {
	sc := in.SecurityScheme
	switch {
	case sc.Type == "http" && sc.Scheme == "bearer":
		if strings.HasPrefix(in.RequestValidationInput.Request.Header.Get("Authorization"), "Bearer ") {
			return nil
		}
	case sc.Type == "apiKey" && sc.In == openapi3.ParameterInHeader:
		if in.RequestValidationInput.Request.Header.Get(sc.Name) != "" {
			return nil
		}
	}
	return fmt.Errorf("no credential for %s", in.SecuritySchemeName)
}
