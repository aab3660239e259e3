package usermgmt

import (
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"
)

// AccountSecurity holds the settings of email verification, password
// reset and two-factor login. It is embedded in Config, so its fields read
// as Config's own (cfg.FrontendURL).
type AccountSecurity struct {
	// ProjectName names the service in mail (subjects, sender name) and is
	// the TOTP issuer. Default "usermgmt".
	ProjectName string
	// FrontendURL is where the user-facing application lives: the target of
	// the verification redirect and the base of reset links. Default
	// BaseURL.
	FrontendURL string
	// APIPrefix is the path the API is mounted under, for links to the API
	// in mail (BaseURL + APIPrefix + "/auth/email/verify?token=...").
	// Default "/api".
	APIPrefix string
	// ResetURLTemplate is the password reset link mailed to the user;
	// "{token}" is replaced by the (URL-safe) token. Default
	// FrontendURL + "/forgot-password/reset?token={token}".
	ResetURLTemplate string
	// RequireVerifiedEmail refuses login (ErrEmailNotVerified) until the
	// address is verified. Off by default.
	RequireVerifiedEmail bool
	// RedirectAllowList lists the origins or URL prefixes the service may
	// redirect a browser to (FrontendURL and BaseURL always are); see
	// Manager.AllowedRedirect.
	RedirectAllowList []string
	// OTPLength is the number of digits of TOTP and email codes: 6 (the
	// default) or 8.
	OTPLength int
	// OTPInterval is the TOTP step of authenticator apps. Default 30 s.
	OTPInterval time.Duration
	// OTPEmailInterval is how long a mailed code stays valid. Default 10
	// minutes.
	OTPEmailInterval time.Duration
	// OTPMaxFailures is how many wrong second-step codes in a row lock the
	// second step for OTPLockout. Defaults 5 and 15 minutes.
	OTPMaxFailures int
	OTPLockout     time.Duration
	// MailLocale is the template locale used when a request names none the
	// templates have. Default "en".
	MailLocale string
}

func (a AccountSecurity) validate() []error {
	var errs []error
	if a.OTPLength != 6 && a.OTPLength != 8 {
		errs = append(errs, fmt.Errorf("OTPLength must be 6 or 8, not %d", a.OTPLength))
	}
	if a.OTPInterval < time.Second || a.OTPEmailInterval < time.Second || a.OTPLockout < 0 || a.OTPMaxFailures < 1 {
		errs = append(errs, errors.New("OTPInterval and OTPEmailInterval must be at least 1s, OTPMaxFailures at least 1"))
	}
	if !strings.Contains(a.ResetURLTemplate, "{token}") {
		errs = append(errs, errors.New(`ResetURLTemplate must contain "{token}"`))
	}
	if a.APIPrefix != "" && !strings.HasPrefix(a.APIPrefix, "/") {
		errs = append(errs, errors.New(`APIPrefix must start with "/"`))
	}
	for _, s := range append([]string{a.FrontendURL}, a.RedirectAllowList...) {
		if s == "" {
			continue
		}
		if u, err := url.Parse(s); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("%q is not an absolute http(s) URL", s))
		}
	}
	return errs
}
