package main

import (
	"fmt"
	"log/slog"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/breach"
	"github.com/usermgmt/usermgmt/passwordrules"
)

// PasswordChecks are the optional checks of new passwords beyond the
// policy: BREACHED_PASSWORD_CHECK with HIBP_API_URL, and
// PASSWORD_NOT_IDENTITY with PASSWORD_MIN_STRENGTH.
type PasswordChecks struct {
	// Breached is BREACHED_PASSWORD_CHECK (default false): refuse
	// passwords the range API has seen in breaches (package breach).
	Breached bool
	// HIBPAPIURL is HIBP_API_URL, the range endpoint the prefix is
	// appended to (default breach.DefaultAPIURL).
	HIBPAPIURL string
	// Rules are PASSWORD_NOT_IDENTITY (default false) and
	// PASSWORD_MIN_STRENGTH (bits, default 0: off).
	Rules passwordrules.Rules
}

// passwordChecks reads BREACHED_PASSWORD_CHECK, HIBP_API_URL,
// PASSWORD_NOT_IDENTITY and PASSWORD_MIN_STRENGTH.
func (p *parser) passwordChecks() PasswordChecks {
	c := PasswordChecks{
		Breached:   p.boolean("BREACHED_PASSWORD_CHECK", false),
		HIBPAPIURL: p.httpURL("HIBP_API_URL", breach.DefaultAPIURL),
		Rules: passwordrules.Rules{
			NotIdentity: p.boolean("PASSWORD_NOT_IDENTITY", false),
			MinStrength: p.intRange("PASSWORD_MIN_STRENGTH", 0, 0, passwordrules.MaxStrength),
		},
	}
	// httpURL trims the trailing slash; the prefix is appended to the
	// path, after one.
	c.HIBPAPIURL += "/"
	return c
}

// passwordCheckers builds the checkers the configuration asks for.
func (c Config) passwordCheckers(log *slog.Logger) ([]usermgmt.PasswordChecker, error) {
	var out []usermgmt.PasswordChecker
	if c.Passwords.Rules != (passwordrules.Rules{}) {
		out = append(out, c.Passwords.Rules)
	}
	if c.Passwords.Breached {
		b, err := breach.New(breach.Options{APIURL: c.Passwords.HIBPAPIURL, Logger: log})
		if err != nil {
			return nil, fmt.Errorf("HIBP_API_URL: %w", err)
		}
		out = append(out, b)
	}
	return out, nil
}
