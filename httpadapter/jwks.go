package httpadapter

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
)

// The discovery routes of access-token verifiers: the JSON Web Key Set of
// the public signing keys and the OpenID discovery document that points to
// it. Both answer 404 no_public_keys when the Manager's key set has no
// public key (HS256 secrets are never published).

// errNoPublicKeys answers the discovery routes of a Manager whose tokens
// are signed with secrets only.
var errNoPublicKeys = &usermgmt.Error{Status: http.StatusNotFound, Code: "no_public_keys",
	Message: "This service signs its tokens with a shared secret: it has no public keys to publish."}

// DefaultJWKSMaxAge is how long verifiers may cache the JWKS by default.
const DefaultJWKSMaxAge = 5 * time.Minute

// Paths of the discovery routes.
const (
	JWKSPath            = "/.well-known/jwks.json"
	OpenIDConfigPath    = "/.well-known/openid-configuration"
	jwksRouteName       = "_jwks"
	openIDConfigRouteNm = "_openid_configuration"
)

func jwksRoutes() []route {
	return []route{
		{Route{Method: get, Path: JWKSPath, Root: true, Name: jwksRouteName, Flag: "_JWKS", Tag: "root",
			Summary: "The public keys that verify access tokens (a JSON Web Key Set); 404 without asymmetric keys.",
			Status:  ok, Response: "JWKS", Statuses: []int{http.StatusNotFound}},
			op[none]{noInput, (*handler).jwks}},
		{Route{Method: get, Path: OpenIDConfigPath, Root: true, Name: openIDConfigRouteNm, Flag: "_OPENID_CONFIGURATION", Tag: "root",
			Summary: "The discovery document of token verifiers: issuer and jwks_uri; 404 without asymmetric keys.",
			Status:  ok, Response: "OpenIDConfiguration", Statuses: []int{http.StatusNotFound}},
			op[none]{noInput, (*handler).openIDConfig}},
	}
}

// publicCache is the Cache-Control of the discovery answers.
func (h *handler) publicCache() http.Header {
	return http.Header{
		"Content-Type":  {"application/json"},
		"Cache-Control": {"public, max-age=" + strconv.Itoa(int(h.jwksMaxAge/time.Second))},
	}
}

func (h *handler) jwks(context.Context, *usermgmt.Principal, none) (response, error) {
	keys := h.m.SigningKeys()
	if !keys.HasPublic() {
		return response{}, errNoPublicKeys
	}
	return response{status: http.StatusOK, kind: kindRaw, raw: keys.MarshalJWKS(), header: h.publicCache()}, nil
}

// openIDConfiguration is the part of the OpenID Provider Metadata (OpenID
// Connect Discovery 1.0, section 3) that token verifiers read.
type openIDConfiguration struct {
	Issuer     string   `json:"issuer"`
	JWKSURI    string   `json:"jwks_uri"`
	Algorithms []string `json:"id_token_signing_alg_values_supported"`
}

func (h *handler) openIDConfig(context.Context, *usermgmt.Principal, none) (response, error) {
	keys := h.m.SigningKeys()
	if !keys.HasPublic() {
		return response{}, errNoPublicKeys
	}
	cfg := h.m.Config()
	var algs []string
	for _, k := range keys.Keys() {
		if !k.Symmetric() && !containsString(algs, k.Algorithm()) {
			algs = append(algs, k.Algorithm())
		}
	}
	body, err := json.Marshal(openIDConfiguration{Issuer: cfg.Issuer, JWKSURI: jwksURI(cfg), Algorithms: algs})
	if err != nil {
		return response{}, usermgmt.ErrInternal.Wrap(err)
	}
	return response{status: http.StatusOK, kind: kindRaw, raw: body, header: h.publicCache()}, nil
}

// jwksURI is the JWKS's absolute URL: under BaseURL, else under the issuer
// when it is a URL, else the bare path.
func jwksURI(cfg usermgmt.Config) string {
	base := cfg.BaseURL
	if base == "" {
		if u, err := url.Parse(cfg.Issuer); err == nil && (u.Scheme == "https" || u.Scheme == "http") && u.Host != "" {
			base = cfg.Issuer
		}
	}
	return strings.TrimRight(base, "/") + JWKSPath
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
