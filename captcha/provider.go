package captcha

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// A Provider is one CAPTCHA service: where its tokens are verified, with
// which keys, and what the hosted pages load to show its widget. Build
// one with Turnstile, HCaptcha, RecaptchaV2, RecaptchaV3 or ProviderNamed;
// VerifyURL may then point elsewhere (a proxy, or a test's fake
// server).
type Provider struct {
	// Name is the provider's key: "turnstile", "hcaptcha", "recaptcha"
	// (v2) or "recaptcha-v3".
	Name string
	// Secret is the site's secret key, sent to VerifyURL only.
	Secret string
	// SiteKey is the site's public key, shown in the widget (and sent
	// to hCaptcha, which checks that the token is the site's).
	SiteKey string
	// VerifyURL is the siteverify endpoint.
	VerifyURL string
	// ScriptURL, WidgetClass and Origins draw the widget on the hosted
	// pages: the provider's script, the class of the element it renders
	// into, and the origins the pages' Content-Security-Policy allows.
	ScriptURL   string
	WidgetClass string
	Origins     []string
	// ResponseField is the form field the provider's widget fills in
	// ("cf-turnstile-response"), read besides captcha_token.
	ResponseField string
	// Scored is true for a score-based provider (reCAPTCHA v3): a
	// verification succeeds only with a score of at least MinScore and
	// the action the route expects.
	Scored bool
	// MinScore is the least score accepted when Scored (0.0 bot .. 1.0
	// human). Default 0.5.
	MinScore float64
	// Actions is true when the provider reports the widget's action
	// (Turnstile, reCAPTCHA v3): a verification naming another action
	// than the route's fails.
	Actions bool
}

// String describes p without its secret, so that printing a Provider (or
// a Config holding it) never shows the key.
func (p Provider) String() string {
	return fmt.Sprintf("captcha.Provider{%s, site key %q, verify %s}", p.Name, p.SiteKey, p.VerifyURL)
}

// LogValue is p for log/slog, without its secret.
func (p Provider) LogValue() slog.Value {
	return slog.GroupValue(slog.String("name", p.Name), slog.String("verify_url", p.VerifyURL))
}

// The siteverify endpoints.
const (
	TurnstileVerifyURL = "https://challenges.cloudflare.com/turnstile/v0/siteverify"
	HCaptchaVerifyURL  = "https://api.hcaptcha.com/siteverify"
	RecaptchaVerifyURL = "https://www.google.com/recaptcha/api/siteverify"
)

// DefaultMinScore is the least reCAPTCHA v3 score accepted by default.
const DefaultMinScore = 0.5

// Turnstile is Cloudflare Turnstile.
func Turnstile(secret, siteKey string) Provider {
	return Provider{Name: "turnstile", Secret: secret, SiteKey: siteKey, VerifyURL: TurnstileVerifyURL,
		ScriptURL:   "https://challenges.cloudflare.com/turnstile/v0/api.js",
		WidgetClass: "cf-turnstile", Origins: []string{"https://challenges.cloudflare.com"},
		ResponseField: "cf-turnstile-response", Actions: true}
}

// HCaptcha is hCaptcha.
func HCaptcha(secret, siteKey string) Provider {
	return Provider{Name: "hcaptcha", Secret: secret, SiteKey: siteKey, VerifyURL: HCaptchaVerifyURL,
		ScriptURL:   "https://js.hcaptcha.com/1/api.js",
		WidgetClass: "h-captcha", Origins: []string{"https://hcaptcha.com", "https://*.hcaptcha.com"},
		ResponseField: "h-captcha-response"}
}

// RecaptchaV2 is Google reCAPTCHA v2 (the checkbox).
func RecaptchaV2(secret, siteKey string) Provider {
	return Provider{Name: "recaptcha", Secret: secret, SiteKey: siteKey, VerifyURL: RecaptchaVerifyURL,
		ScriptURL:   "https://www.google.com/recaptcha/api.js",
		WidgetClass: "g-recaptcha", Origins: recaptchaOrigins(),
		ResponseField: "g-recaptcha-response"}
}

// RecaptchaV3 is Google reCAPTCHA v3: invisible, scored; minScore 0
// means DefaultMinScore.
func RecaptchaV3(secret, siteKey string, minScore float64) Provider {
	if minScore <= 0 {
		minScore = DefaultMinScore
	}
	return Provider{Name: "recaptcha-v3", Secret: secret, SiteKey: siteKey, VerifyURL: RecaptchaVerifyURL,
		ScriptURL: "https://www.google.com/recaptcha/api.js?render=" + url.QueryEscape(siteKey),
		Origins:   recaptchaOrigins(), ResponseField: "g-recaptcha-response",
		Scored: true, MinScore: minScore, Actions: true}
}

func recaptchaOrigins() []string {
	return []string{"https://www.google.com", "https://www.gstatic.com", "https://recaptcha.google.com"}
}

// ProviderNamed returns the provider of a name as CAPTCHA_PROVIDER spells
// it: turnstile, hcaptcha, recaptcha (or recaptcha-v2), recaptcha-v3.
func ProviderNamed(name, secret, siteKey string) (Provider, error) {
	switch strings.ToLower(strings.TrimSpace(name)) {
	case "turnstile":
		return Turnstile(secret, siteKey), nil
	case "hcaptcha":
		return HCaptcha(secret, siteKey), nil
	case "recaptcha", "recaptcha-v2", "recaptchav2":
		return RecaptchaV2(secret, siteKey), nil
	case "recaptcha-v3", "recaptchav3":
		return RecaptchaV3(secret, siteKey, 0), nil
	}
	return Provider{}, fmt.Errorf("captcha: unknown provider %q (turnstile, hcaptcha, recaptcha, recaptcha-v3)", name)
}

// validate reports what is missing from p.
func (p Provider) validate() error {
	switch {
	case p.Name == "":
		return errors.New("captcha: the provider has no name")
	case p.Secret == "":
		return fmt.Errorf("captcha: %s: the secret key is empty", p.Name)
	case p.SiteKey == "":
		return fmt.Errorf("captcha: %s: the site key is empty", p.Name)
	}
	u, err := url.Parse(p.VerifyURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return fmt.Errorf("captcha: %s: the verify URL %q is not an http(s) URL", p.Name, p.VerifyURL)
	}
	return nil
}

// Verdict is what the provider said of one token.
type Verdict struct {
	// Success is the provider's success.
	Success bool
	// ErrorCodes are its error-codes ("invalid-input-response" ...).
	ErrorCodes []string
	// Hostname is the site the token was solved on.
	Hostname string
	// Action is the widget's action, for the providers that report it.
	Action string
	// Score is reCAPTCHA v3's score (and hCaptcha Enterprise's), nil
	// when the answer has none.
	Score *float64
}

// siteverify is the answer of every provider's siteverify: the same
// shape, with provider-specific extras.
type siteverify struct {
	Success    bool     `json:"success"`
	ErrorCodes []string `json:"error-codes"`
	Hostname   string   `json:"hostname"`
	Action     string   `json:"action"`
	Score      *float64 `json:"score"`
}

// maxAnswerBytes bounds a siteverify answer read.
const maxAnswerBytes = 64 << 10

// errUnavailable wraps every failure to get a verdict: the provider could
// not be reached, timed out, or answered something else than a verdict.
var errUnavailable = errors.New("captcha: the provider gave no verdict")

// verify asks the provider about token. An error (matching
// errUnavailable) means no verdict was had.
func (p Provider) verify(ctx context.Context, client *http.Client, token, remoteIP string) (Verdict, error) {
	form := url.Values{"secret": {p.Secret}, "response": {token}}
	if remoteIP != "" {
		form.Set("remoteip", remoteIP)
	}
	if p.Name == "hcaptcha" {
		form.Set("sitekey", p.SiteKey)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, p.VerifyURL, strings.NewReader(form.Encode()))
	if err != nil {
		return Verdict{}, fmt.Errorf("%w: %v", errUnavailable, err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Accept", "application/json")
	res, err := client.Do(req)
	if err != nil {
		// The error names the URL, never the form (which holds the secret).
		return Verdict{}, fmt.Errorf("%w: %v", errUnavailable, err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(io.LimitReader(res.Body, maxAnswerBytes+1))
	if err != nil {
		return Verdict{}, fmt.Errorf("%w: read the answer: %v", errUnavailable, err)
	}
	if res.StatusCode != http.StatusOK {
		return Verdict{}, fmt.Errorf("%w: %s answered %d", errUnavailable, p.Name, res.StatusCode)
	}
	if len(body) > maxAnswerBytes {
		return Verdict{}, fmt.Errorf("%w: %s answered over %d bytes", errUnavailable, p.Name, maxAnswerBytes)
	}
	var a siteverify
	if err := json.Unmarshal(body, &a); err != nil {
		return Verdict{}, fmt.Errorf("%w: %s answered no JSON verdict: %v", errUnavailable, p.Name, err)
	}
	return Verdict(a), nil
}

// defaultTimeout bounds one verification.
const defaultTimeout = 5 * time.Second
