package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// api talks to the server under test.
type api struct {
	base   string // http://127.0.0.1:PORT
	prefix string // /api
	client *http.Client
}

func newAPI(base, prefix string, maxConns int) *api {
	tr := &http.Transport{
		Proxy:               nil,
		MaxIdleConns:        maxConns,
		MaxIdleConnsPerHost: maxConns,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
		ForceAttemptHTTP2:   false,
	}
	return &api{base: base, prefix: prefix, client: &http.Client{Transport: tr}}
}

// tokens is the server's token answer.
type tokens struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
}

// do sends req and drains the body (so the connection is reused). When out
// is not nil and the status is 2xx, the body is decoded into it.
func (a *api) do(req *http.Request, out any) (int, error) {
	resp, err := a.client.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if out != nil && isOK(resp.StatusCode) {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			return resp.StatusCode, fmt.Errorf("decode %s answer: %w", req.URL.Path, err)
		}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, err
}

func (a *api) get(ctx context.Context, path, bearer string) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, a.base+path, nil)
	if err != nil {
		return 0, err
	}
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	return a.do(req, nil)
}

func (a *api) postForm(ctx context.Context, path string, form url.Values, out any) (int, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+a.prefix+path, strings.NewReader(form.Encode()))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return a.do(req, out)
}

// ping is GET /ping.
func (a *api) ping(ctx context.Context) (int, error) { return a.get(ctx, "/ping", "") }

// me is GET {prefix}/user/me.
func (a *api) me(ctx context.Context, access string) (int, error) {
	return a.get(ctx, a.prefix+"/user/me", access)
}

// register is POST {prefix}/auth/register (form).
func (a *api) register(ctx context.Context, username, email, password string) (tokens, int, error) {
	var t tokens
	status, err := a.postForm(ctx, "/auth/register", url.Values{
		"username": {username}, "email": {email}, "password": {password}, "confirm_password": {password},
	}, &t)
	return t, status, err
}

// login is POST {prefix}/auth/login (OAuth2 password form).
func (a *api) login(ctx context.Context, username, password string) (tokens, int, error) {
	var t tokens
	status, err := a.postForm(ctx, "/auth/login", url.Values{
		"username": {username}, "password": {password}, "grant_type": {"password"},
	}, &t)
	return t, status, err
}

// refresh is POST {prefix}/auth/refresh with JSON {"refresh_token": ...}.
func (a *api) refresh(ctx context.Context, refreshToken string) (tokens, int, error) {
	body, err := json.Marshal(map[string]string{"refresh_token": refreshToken})
	if err != nil {
		return tokens{}, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, a.base+a.prefix+"/auth/refresh", bytes.NewReader(body))
	if err != nil {
		return tokens{}, 0, err
	}
	req.Header.Set("Content-Type", "application/json")
	var t tokens
	status, err := a.do(req, &t)
	return t, status, err
}
