package main

import (
	"reflect"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/passkey"
)

// TestSignInConfig: passkeys are on by default; links and codes follow
// the mailer, need one, and sign-up by link is off unless asked.
func TestSignInConfig(t *testing.T) {
	cases := []struct {
		name string
		vars map[string]string
		want SignIn
		err  string
	}{
		{"no mailer", nil, SignIn{Passkeys: true}, ""},
		{"a mailer", map[string]string{"EMAIL_METHOD": "log"}, SignIn{Passkeys: true, MagicLinks: true, EmailCodes: true}, ""},
		{"all set", map[string]string{"EMAIL_METHOD": "log", "PASSKEYS_ENABLED": "false", "WEBAUTHN_RP_ID": "example.com",
			"WEBAUTHN_ORIGINS": "https://app.example.com, https://www.example.com", "EMAIL_CODE_ENABLED": "false", "MAGIC_LINK_SIGNUP": "true"},
			SignIn{RPID: "example.com", Origins: []string{"https://app.example.com", "https://www.example.com"}, MagicLinks: true, MagicLinkSignUp: true}, ""},
		{"links without a mailer", map[string]string{"MAGIC_LINK_ENABLED": "true"}, SignIn{}, "MAGIC_LINK_ENABLED"},
		{"codes without a mailer", map[string]string{"EMAIL_CODE_ENABLED": "true"}, SignIn{}, "EMAIL_CODE_ENABLED"},
		{"sign-up without links", map[string]string{"EMAIL_METHOD": "log", "MAGIC_LINK_ENABLED": "false", "MAGIC_LINK_SIGNUP": "true"}, SignIn{}, "MAGIC_LINK_SIGNUP"},
		{"any origin", map[string]string{"WEBAUTHN_ORIGINS": "*"}, SignIn{}, "WEBAUTHN_ORIGINS"},
		{"not an origin", map[string]string{"WEBAUTHN_ORIGINS": "https://app.example.com/path"}, SignIn{}, "WEBAUTHN_ORIGINS"},
	}
	for _, c := range cases {
		cfg, err := loadConfig(env(c.vars))
		if c.err != "" {
			if err == nil || !strings.Contains(err.Error(), c.err) {
				t.Errorf("%s: err %v, want one naming %s", c.name, err, c.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%s: %v", c.name, err)
			continue
		}
		if !reflect.DeepEqual(cfg.SignIn, c.want) {
			t.Errorf("%s: %+v, want %+v", c.name, cfg.SignIn, c.want)
		}
	}
}

// TestSignInFeatures: the features enabled follow the configuration.
func TestSignInFeatures(t *testing.T) {
	count := func(s SignIn) (pk, el int) {
		fs, got := features(Config{SignIn: s})
		for _, f := range fs {
			switch f.(type) {
			case *passkey.Passkeys:
				pk++
			case *emaillogin.EmailLogin:
				el++
				if f != got {
					t.Errorf("features returned another emaillogin than it enabled")
				}
			}
		}
		return pk, el
	}
	if pk, el := count(SignIn{}); pk != 0 || el != 0 {
		t.Errorf("all off: %d passkey, %d emaillogin features", pk, el)
	}
	if pk, el := count(SignIn{Passkeys: true, EmailCodes: true}); pk != 1 || el != 1 {
		t.Errorf("passkeys and codes: %d passkey, %d emaillogin features", pk, el)
	}
	fs, el := features(Config{SignIn: SignIn{MagicLinks: true}})
	if el == nil || !el.LinksEnabled() || el.CodesEnabled() || len(fs) != 3 {
		t.Errorf("links only: %d features, %v", len(fs), el)
	}
}
