package main

import (
	"slices"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/adminmail"
	"github.com/usermgmt/usermgmt/apikey"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/impersonate"
	"github.com/usermgmt/usermgmt/org"
	"github.com/usermgmt/usermgmt/passkey"
)

// SignIn is the password-less sign-in of issue 16: passkeys, magic links
// and email sign-in codes.
type SignIn struct {
	// Passkeys is PASSKEYS_ENABLED (default true); RPID and Origins are
	// WEBAUTHN_RP_ID (default BASE_URL's host) and WEBAUTHN_ORIGINS
	// (origins allowed besides BASE_URL's).
	Passkeys bool
	RPID     string
	Origins  []string
	// MagicLinks and EmailCodes are MAGIC_LINK_ENABLED and
	// EMAIL_CODE_ENABLED (default true when EMAIL_METHOD names a mailer);
	// MagicLinkSignUp is MAGIC_LINK_SIGNUP (default false): a link mailed
	// to an unknown address creates its account.
	MagicLinks, EmailCodes, MagicLinkSignUp bool
}

// signIn reads the sign-in methods; mailer tells whether EMAIL_METHOD
// names a mailer.
func (p *parser) signIn(mailer bool) SignIn {
	s := SignIn{
		Passkeys:        p.boolean("PASSKEYS_ENABLED", true),
		RPID:            p.str("WEBAUTHN_RP_ID", ""),
		Origins:         p.origins("WEBAUTHN_ORIGINS"),
		MagicLinks:      p.boolean("MAGIC_LINK_ENABLED", mailer),
		EmailCodes:      p.boolean("EMAIL_CODE_ENABLED", mailer),
		MagicLinkSignUp: p.boolean("MAGIC_LINK_SIGNUP", false),
	}
	if slices.Contains(s.Origins, "*") {
		p.fail("WEBAUTHN_ORIGINS", "cannot be *: list the origins such as https://app.example.com")
	}
	if !mailer {
		if s.MagicLinks {
			p.fail("MAGIC_LINK_ENABLED", "needs a mailer (EMAIL_METHOD smtp, mailjet or log)")
		}
		if s.EmailCodes {
			p.fail("EMAIL_CODE_ENABLED", "needs a mailer (EMAIL_METHOD smtp, mailjet or log)")
		}
	}
	if s.MagicLinkSignUp && !s.MagicLinks {
		p.fail("MAGIC_LINK_SIGNUP", "needs MAGIC_LINK_ENABLED")
	}
	return s
}

// features are the feature packages the service enables: the admin tools
// (as the reference served every route), the sign-in methods of
// cfg.SignIn, API keys unless API_KEYS_ENABLED=false, organizations with
// ORGANIZATIONS_ENABLED=true, and impersonation
// when IMPERSONATION_MINUTES is set. el is the email sign-in feature, nil
// when both of its methods are off: the server waits for its pending
// requests before it closes the Manager.
func features(cfg Config) (fs []usermgmt.Feature, el *emaillogin.EmailLogin) {
	fs = []usermgmt.Feature{adminmail.New(), dbtools.New(dbtools.Options{})}
	s := cfg.SignIn
	if s.Passkeys {
		fs = append(fs, passkey.New(passkey.Config{RPID: s.RPID, Origins: s.Origins, DisplayName: cfg.ProjectName}))
	}
	if s.MagicLinks || s.EmailCodes {
		el = emaillogin.New(emaillogin.Config{DisableLinks: !s.MagicLinks, DisableCodes: !s.EmailCodes, SignUp: s.MagicLinkSignUp})
		fs = append(fs, el)
	}
	if cfg.APIKeys {
		fs = append(fs, apikey.New(apikey.Config{}))
	}
	if cfg.Organizations {
		fs = append(fs, org.New(org.Config{}))
	}
	if cfg.ImpersonationLifetime > 0 {
		fs = append(fs, impersonate.New(impersonate.Options{Lifetime: cfg.ImpersonationLifetime}))
	}
	return fs, el
}
