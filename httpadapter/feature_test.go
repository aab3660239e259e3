package httpadapter_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// greeting is a feature of the test: one authenticated route with a JSON
// body, the shape docs/features.md sketches.
type greeting struct{ m *usermgmt.Manager }

func (g *greeting) FeatureName() string { return "greeting" }

func (g *greeting) InitFeature(m *usermgmt.Manager) error {
	g.m = m
	return nil
}

func (g *greeting) Endpoints() []httpadapter.Endpoint {
	e := httpadapter.Handle(httpadapter.Route{Method: http.MethodPost, Path: "/greeting", Name: "greet", Flag: "GREET",
		Tag: "user", Auth: true, Summary: "Greet the caller.", Request: "GreetingForm",
		Encodings: []string{"application/json"}, Status: http.StatusCreated, Response: "Greeting",
		Statuses: []int{http.StatusConflict}, Headers: []string{"X-Greeting"}},
		func(r *http.Request) (string, error) {
			f, err := httpadapter.ReadFields(r, []string{"application/json"})
			if err != nil {
				return "", err
			}
			word := f.Required("word")
			return word, f.Err()
		},
		func(ctx context.Context, p *usermgmt.Principal, word string) (httpadapter.Response, error) {
			if word == "forbidden" {
				return httpadapter.Response{}, usermgmt.NewError(http.StatusConflict, "greeting_refused", "Not that word.")
			}
			return httpadapter.JSON(http.StatusCreated, map[string]string{"greeting": word + ", " + p.User().Username}).
				WithHeader("X-Greeting", "yes"), nil
		})
	e.Input = httpadapter.Input{Body: "GreetingForm", BodyRequired: true}
	e.MaxBodyBytes = 64
	return []httpadapter.Endpoint{e}
}

func (g *greeting) Schemas() map[string]any {
	return map[string]any{
		"GreetingForm": map[string]any{"type": "object", "properties": map[string]any{"word": map[string]any{"type": "string"}}, "required": []string{"word"}},
		"Greeting":     map[string]any{"type": "object", "properties": map[string]any{"greeting": map[string]any{"type": "string"}}},
	}
}

func TestFeatureRoutes(t *testing.T) {
	g := &greeting{}
	e := newEnvWith(t, "sqlite://"+t.TempDir()+"/db.sqlite", baseURL, httpadapter.Options{}, g)
	jane := e.register("jane_doe")
	post := func(token string, body string) result {
		return e.do(request{method: "POST", path: "/api/greeting", token: token, raw: body, contentType: "application/json"})
	}
	r := post(jane.AccessToken, `{"word":"hello"}`)
	r.wantStatus(t, http.StatusCreated)
	if r.header.Get("X-Greeting") != "yes" || r.header.Get("Cache-Control") == "" || !strings.Contains(string(r.body), `"hello, jane_doe"`) {
		t.Fatalf("answer %v %s", r.header, r.body)
	}
	// The core's answers around it: authentication, validation, errors,
	// the body limit of the endpoint, 405.
	post("", `{"word":"hello"}`).wantError(t, 401, "not_authenticated")
	post(jane.AccessToken, `{}`).wantError(t, 422, "invalid_request")
	post(jane.AccessToken, `{"word":"forbidden"}`).wantError(t, 409, "greeting_refused")
	post(jane.AccessToken, `{"word":"`+strings.Repeat("x", 100)+`"}`).wantError(t, 413, "request_too_large")
	e.do(request{method: "GET", path: "/api/greeting", token: jane.AccessToken}).wantStatus(t, 405)

	// The route table and the OpenAPI document list it.
	if !slices.ContainsFunc(httpadapter.Routes(g), func(rt httpadapter.Route) bool { return rt.Name == "greet" }) ||
		slices.ContainsFunc(httpadapter.Routes(), func(rt httpadapter.Route) bool { return rt.Name == "greet" }) {
		t.Fatal("Routes(g) must list the feature's route, Routes() must not")
	}
	b, err := httpadapter.OpenAPI("/api", "1", g)
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Paths map[string]map[string]struct {
			RequestBody struct {
				Required bool `json:"required"`
			} `json:"requestBody"`
			Responses map[string]any `json:"responses"`
		} `json:"paths"`
		Components struct {
			Schemas map[string]any `json:"schemas"`
		} `json:"components"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	op, ok := doc.Paths["/api/greeting"]["post"]
	if !ok || !op.RequestBody.Required || op.Responses["201"] == nil || doc.Components.Schemas["Greeting"] == nil {
		t.Fatalf("OpenAPI: %+v", doc.Paths["/api/greeting"])
	}
}
