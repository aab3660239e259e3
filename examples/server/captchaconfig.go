package main

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/captcha"
)

// CaptchaConfig is the CAPTCHA settings (CAPTCHA_*): off unless
// CAPTCHA_PROVIDER names one. On, sign-up, the forgotten-password request
// and the routes of features that ask for it are guarded, and logins as
// CAPTCHA_LOGIN says.
type CaptchaConfig struct {
	Provider  string
	Secret    string // secret
	SiteKey   string
	VerifyURL string
	Login     captcha.LoginPolicy
	FailOpen  bool
}

// defaultCaptchaLogin is CAPTCHA_LOGIN's default.
const defaultCaptchaLogin = "after-failures:3"

// captcha reads CAPTCHA_*; every setting missing for the provider named
// is an error naming it.
func (p *parser) captcha() CaptchaConfig {
	c := CaptchaConfig{
		Provider: strings.ToLower(p.str("CAPTCHA_PROVIDER", "")),
		Secret:   strings.TrimSpace(p.getenv("CAPTCHA_SECRET")),
		SiteKey:  p.str("CAPTCHA_SITE_KEY", ""),
		FailOpen: p.boolean("CAPTCHA_FAIL_OPEN", false),
	}
	login := p.str("CAPTCHA_LOGIN", defaultCaptchaLogin)
	if c.Provider == "" {
		return c
	}
	if _, err := captcha.ProviderNamed(c.Provider, "x", "x"); err != nil {
		p.fail("CAPTCHA_PROVIDER", "must be turnstile, hcaptcha, recaptcha or recaptcha-v3, got %q", c.Provider)
		return c
	}
	if v := p.str("CAPTCHA_VERIFY_URL", ""); v != "" {
		c.VerifyURL = p.httpURL("CAPTCHA_VERIFY_URL", "")
	}
	for _, v := range []struct{ name, value string }{{"CAPTCHA_SECRET", c.Secret}, {"CAPTCHA_SITE_KEY", c.SiteKey}} {
		if v.value == "" {
			p.fail(v.name, "is required when CAPTCHA_PROVIDER is set")
		}
	}
	var ok bool
	if c.Login, ok = parseCaptchaLogin(login); !ok {
		p.fail("CAPTCHA_LOGIN", "must be always, off or after-failures:N (N from 1 to 1000), got %q", login)
	}
	return c
}

// parseCaptchaLogin reads CAPTCHA_LOGIN: always, off, or after-failures:N.
func parseCaptchaLogin(s string) (captcha.LoginPolicy, bool) {
	switch s = strings.ToLower(strings.TrimSpace(s)); s {
	case "always":
		return captcha.AlwaysOnLogin, true
	case "off", "never":
		return captcha.LoginPolicy{}, true
	}
	n, err := strconv.Atoi(strings.TrimPrefix(s, "after-failures:"))
	if !strings.HasPrefix(s, "after-failures:") || err != nil || n < 1 || n > 1000 {
		return captcha.LoginPolicy{}, false
	}
	return captcha.AfterFailures(n), true
}

// features returns the CAPTCHA feature, none when it is off; failures,
// when not nil, counts the failed logins (in Redis, shared by every
// instance).
func (c CaptchaConfig) features(failures captcha.FailureCounter) ([]usermgmt.Feature, error) {
	if c.Provider == "" {
		return nil, nil
	}
	prov, err := captcha.ProviderNamed(c.Provider, c.Secret, c.SiteKey)
	if err != nil {
		return nil, err
	}
	if c.VerifyURL != "" {
		prov.VerifyURL = c.VerifyURL
	}
	f, err := captcha.New(captcha.Config{Provider: prov, Register: true, ForgotPassword: true, FeatureRoutes: true,
		Login: c.Login, FailOpen: c.FailOpen, Failures: failures})
	if err != nil {
		return nil, fmt.Errorf("CAPTCHA: %w", err)
	}
	return []usermgmt.Feature{f}, nil
}

// String describes the CAPTCHA setup for the startup log, without the
// secret.
func (c CaptchaConfig) String() string {
	if c.Provider == "" {
		return "off"
	}
	login := "off"
	switch {
	case c.Login.Always:
		login = "always"
	case c.Login.Failures > 0:
		login = "after " + strconv.Itoa(c.Login.Failures) + " failures"
	}
	return c.Provider + " (login " + login + ", fail open " + strconv.FormatBool(c.FailOpen) + ")"
}
