package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/captcha"
	"github.com/usermgmt/usermgmt/internal/testredis"
)

func TestLoadConfigCaptcha(t *testing.T) {
	c, err := loadConfig(env(map[string]string{}))
	if err != nil || c.Captcha.Provider != "" || c.Captcha.String() != "off" {
		t.Fatalf("default CAPTCHA = %v, %v; want off", c.Captcha, err)
	}
	if fs, err := c.Captcha.features(nil); err != nil || fs != nil {
		t.Fatalf("features of an unset CAPTCHA = %v, %v", fs, err)
	}
	c, err = loadConfig(env(map[string]string{"CAPTCHA_PROVIDER": "HCaptcha", "CAPTCHA_SECRET": "sekrit-value", "CAPTCHA_SITE_KEY": "site",
		"CAPTCHA_VERIFY_URL": "http://127.0.0.1:9/verify", "CAPTCHA_FAIL_OPEN": "true"}))
	if err != nil {
		t.Fatal(err)
	}
	want := CaptchaConfig{Provider: "hcaptcha", Secret: "sekrit-value", SiteKey: "site", VerifyURL: "http://127.0.0.1:9/verify",
		Login: captcha.AfterFailures(3), FailOpen: true}
	if c.Captcha != want {
		t.Fatalf("CAPTCHA config differs from the one set (secret not shown): %v", c.Captcha.String())
	}
	if s := c.Captcha.String(); strings.Contains(s, "sekrit") || s != "hcaptcha (login after 3 failures, fail open true)" {
		t.Fatalf("String() = %q", s)
	}
	for in, want := range map[string]captcha.LoginPolicy{
		"always": captcha.AlwaysOnLogin, "off": {}, "after-failures:1": captcha.AfterFailures(1), "AFTER-FAILURES:1000": captcha.AfterFailures(1000),
	} {
		if got, ok := parseCaptchaLogin(in); !ok || got != want {
			t.Errorf("CAPTCHA_LOGIN=%s: %+v, %v", in, got, ok)
		}
	}
}

func TestLoadConfigCaptchaErrors(t *testing.T) {
	ok := map[string]string{"CAPTCHA_PROVIDER": "turnstile", "CAPTCHA_SECRET": "sekrit-value", "CAPTCHA_SITE_KEY": "site"}
	for name, tc := range map[string]struct {
		set  map[string]string
		want string
	}{
		"unknown provider": {map[string]string{"CAPTCHA_PROVIDER": "friendly"}, "CAPTCHA_PROVIDER"},
		"no secret":        {map[string]string{"CAPTCHA_SECRET": ""}, "CAPTCHA_SECRET"},
		"no site key":      {map[string]string{"CAPTCHA_SITE_KEY": ""}, "CAPTCHA_SITE_KEY"},
		"verify url":       {map[string]string{"CAPTCHA_VERIFY_URL": "ftp://x"}, "CAPTCHA_VERIFY_URL"},
		"login word":       {map[string]string{"CAPTCHA_LOGIN": "sometimes"}, "CAPTCHA_LOGIN"},
		"login zero":       {map[string]string{"CAPTCHA_LOGIN": "after-failures:0"}, "CAPTCHA_LOGIN"},
		"login text":       {map[string]string{"CAPTCHA_LOGIN": "after-failures:x"}, "CAPTCHA_LOGIN"},
	} {
		vars := map[string]string{}
		for k, v := range ok {
			vars[k] = v
		}
		for k, v := range tc.set {
			vars[k] = v
		}
		_, err := loadConfig(env(vars))
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming %s", name, err, tc.want)
		} else if strings.Contains(err.Error(), "sekrit") {
			t.Errorf("%s: the error quotes the secret: %v", name, err)
		}
	}
}

// TestServerCaptcha runs the server with CAPTCHA_* pointed at a local fake
// Turnstile siteverify: sign-up needs the token, login after a failure.
func TestServerCaptcha(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		w.Header().Set("Content-Type", "application/json")
		if r.PostForm.Get("secret") == "test-secret" && r.PostForm.Get("response") == "good" {
			_, _ = io.WriteString(w, `{"success":true,"error-codes":[],"hostname":"localhost"}`)
			return
		}
		_, _ = io.WriteString(w, `{"success":false,"error-codes":["invalid-input-response"]}`)
	}))
	defer fake.Close()
	s := startServer(t, map[string]string{"CAPTCHA_PROVIDER": "turnstile", "CAPTCHA_SECRET": "test-secret", "CAPTCHA_SITE_KEY": "site",
		"CAPTCHA_VERIFY_URL": fake.URL, "CAPTCHA_LOGIN": "after-failures:1", "RATE_LIMITER_ENABLED": "false",
		"CORS_ORIGINS": "https://app.example.com"})
	form := url.Values{"username": {"jane_doe"}, "email": {"jane_doe@example.com"}, "password": {"Passw0rd!x"}, "confirm_password": {"Passw0rd!x"}}
	s.do(t, "POST", "/api/auth/register", "", form, http.StatusBadRequest, nil)
	form.Set("captcha_token", "good")
	s.do(t, "POST", "/api/auth/register", "", form, http.StatusOK, nil)

	login := url.Values{"username": {"jane_doe"}, "password": {"wrong-Passw0rd!"}}
	s.do(t, "POST", "/api/auth/login", "", login, http.StatusUnauthorized, nil)
	login.Set("password", "Passw0rd!x")
	s.do(t, "POST", "/api/auth/login", "", login, http.StatusBadRequest, nil)
	login.Set("captcha_token", "good")
	var tok tokenResponse
	s.do(t, "POST", "/api/auth/login", "", login, http.StatusOK, &tok)
	if tok.AccessToken == "" {
		t.Fatal("no access token")
	}
	// A front end on another origin may send the token as a header.
	pre, err := http.NewRequest(http.MethodOptions, s.base+"/api/auth/login", nil)
	if err != nil {
		t.Fatal(err)
	}
	pre.Header.Set("Origin", "https://app.example.com")
	pre.Header.Set("Access-Control-Request-Method", "POST")
	pre.Header.Set("Access-Control-Request-Headers", "content-type,x-captcha-token")
	res, err := http.DefaultClient.Do(pre)
	if err != nil {
		t.Fatal(err)
	}
	_ = res.Body.Close()
	if allowed := strings.ToLower(res.Header.Get("Access-Control-Allow-Headers")); !strings.Contains(allowed, "x-captcha-token") {
		t.Fatalf("preflight allows headers %q, without X-Captcha-Token (status %d)", allowed, res.StatusCode)
	}
	if !strings.Contains(s.logs.String(), "turnstile (login after 1 failures") {
		t.Fatalf("the startup log does not describe the CAPTCHA:\n%s", s.logs)
	}
}

// TestTwoInstancesShareCaptchaFailures: with the limits in Redis, the
// failed logins that make a login need a CAPTCHA are counted for the
// deployment: a failure on one instance counts on the other.
func TestTwoInstancesShareCaptchaFailures(t *testing.T) {
	fake := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_ = r.ParseForm()
		_, _ = io.WriteString(w, `{"success":`+strconv.FormatBool(r.PostForm.Get("response") == "good")+`}`)
	}))
	defer fake.Close()
	_, prefix := testredis.Client(t)
	vars := sharedVars(t)
	for k, v := range map[string]string{
		"REDIS_URL": testredis.URL(t), "REDIS_KEY_PREFIX": prefix, "RATE_LIMITER_ENABLED": "true",
		"CAPTCHA_PROVIDER": "turnstile", "CAPTCHA_SECRET": "test-secret", "CAPTCHA_SITE_KEY": "site",
		"CAPTCHA_VERIFY_URL": fake.URL, "CAPTCHA_LOGIN": "after-failures:2",
	} {
		vars[k] = v
	}
	a, b := startServer(t, vars), startServer(t, vars)
	wrong := url.Values{"username": {"admin"}, "password": {"wrong-Passw0rd!"}}
	a.do(t, "POST", "/api/auth/login", "", wrong, http.StatusUnauthorized, nil)
	b.do(t, "POST", "/api/auth/login", "", wrong, http.StatusUnauthorized, nil)
	a.do(t, "POST", "/api/auth/login", "", wrong, http.StatusBadRequest, nil)
	wrong.Set("captcha_token", "good")
	b.do(t, "POST", "/api/auth/login", "", wrong, http.StatusUnauthorized, nil)
}
