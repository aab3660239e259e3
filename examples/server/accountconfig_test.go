package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt/mail"
)

// defaultAccount is Account with every variable unset.
var defaultAccount = Account{
	EmailMethod: "none", SMTPPort: 587, SMTPTLS: true,
	OTPLength: 6, OTPInterval: 30 * time.Second, OTPEmailInterval: 10 * time.Minute,
}

func TestLoadConfigAccount(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want Account
	}{
		{"defaults", nil, defaultAccount},
		{"smtp", map[string]string{
			"EMAIL_METHOD": "SMTP", "SMTP_HOST": "smtp.example.com", "SMTP_PORT": "2525", "SMTP_USER": "u",
			"SMTP_PASSWORD": "pw", "SMTP_SENDER_EMAIL": "noreply@example.com", "SMTP_TLS": "false",
			"OTP_LENGTH": "8", "OTP_AUTHENTICATOR_INTERVAL": "60", "OTP_EMAIL_INTERVAL": "300",
			"REQUIRE_VERIFIED_EMAIL": "true", "RESET_URL_TEMPLATE": "https://app.example.com/reset/{token}",
			"REDIRECT_ALLOW_LIST": "https://a.example.com/cb, https://b.example.com",
		}, Account{
			EmailMethod: "smtp", SMTPHost: "smtp.example.com", SMTPPort: 2525, SMTPUser: "u", SMTPPassword: "pw",
			SMTPSender: "noreply@example.com", SMTPTLS: false, OTPLength: 8, OTPInterval: time.Minute,
			OTPEmailInterval: 5 * time.Minute, RequireVerifiedEmail: true, ResetURLTemplate: "https://app.example.com/reset/{token}",
			RedirectAllowList: []string{"https://a.example.com/cb", "https://b.example.com"},
		}},
		{"mailjet", map[string]string{"EMAIL_METHOD": "mj", "MJ_APIKEY_PUBLIC": "pub", "MJ_APIKEY_PRIVATE": "priv", "MJ_SENDER_EMAIL": "n@example.com"},
			func() Account {
				a := defaultAccount
				a.EmailMethod, a.MailjetPublic, a.MailjetPrivate, a.MailjetSender = "mj", "pub", "priv", "n@example.com"
				return a
			}()},
	}
	for _, tt := range tests {
		c, err := loadConfig(env(tt.vars))
		if err != nil {
			t.Fatalf("%s: %v", tt.name, err)
		}
		if !reflect.DeepEqual(c.Account, tt.want) {
			t.Errorf("%s: Account differs (holds secrets, not shown)", tt.name)
		}
	}

	// Each transport is built from its settings.
	c, _ := loadConfig(env(tests[1].vars))
	if s, ok := c.mailer(nil).(*mail.SMTP); !ok || s.Host != "smtp.example.com" || s.Port != 2525 || !s.NoTLS || s.FromName != "Project Name" {
		t.Errorf("smtp mailer %T", c.mailer(nil))
	}
	if sec := c.security(); sec.OTPLength != 8 || sec.OTPInterval != time.Minute || !sec.RequireVerifiedEmail || len(sec.RedirectAllowList) != 2 {
		t.Errorf("security %+v", sec)
	}
	c, _ = loadConfig(env(tests[2].vars))
	if _, ok := c.mailer(nil).(*mail.Mailjet); !ok {
		t.Errorf("mj mailer %T", c.mailer(nil))
	}
	c, _ = loadConfig(env(nil))
	if c.mailer(nil) != nil {
		t.Error("none built a mailer")
	}
}

func TestLoadConfigAccountErrors(t *testing.T) {
	tests := []struct {
		name string
		vars map[string]string
		want []string // every variable the error must name
	}{
		{"unknown method", map[string]string{"EMAIL_METHOD": "pigeon"}, []string{"EMAIL_METHOD"}},
		{"smtp incomplete", map[string]string{"EMAIL_METHOD": "smtp", "SMTP_HOST": "h"}, []string{"SMTP_USER", "SMTP_PASSWORD", "SMTP_SENDER_EMAIL"}},
		{"mj incomplete", map[string]string{"EMAIL_METHOD": "mj", "MJ_APIKEY_PUBLIC": "p"}, []string{"MJ_APIKEY_PRIVATE", "MJ_SENDER_EMAIL"}},
		{"smtp port", map[string]string{"SMTP_PORT": "0"}, []string{"SMTP_PORT"}},
		{"smtp tls", map[string]string{"SMTP_TLS": "maybe"}, []string{"SMTP_TLS"}},
		{"sender", map[string]string{"SMTP_SENDER_EMAIL": "nobody"}, []string{"SMTP_SENDER_EMAIL"}},
		{"otp length", map[string]string{"OTP_LENGTH": "7"}, []string{"OTP_LENGTH"}},
		{"otp length range", map[string]string{"OTP_LENGTH": "4"}, []string{"OTP_LENGTH"}},
		{"otp interval", map[string]string{"OTP_AUTHENTICATOR_INTERVAL": "soon"}, []string{"OTP_AUTHENTICATOR_INTERVAL"}},
		{"email interval", map[string]string{"OTP_EMAIL_INTERVAL": "1"}, []string{"OTP_EMAIL_INTERVAL"}},
		{"reset template", map[string]string{"RESET_URL_TEMPLATE": "https://x/reset"}, []string{"RESET_URL_TEMPLATE"}},
		{"allow list", map[string]string{"REDIRECT_ALLOW_LIST": "evil"}, []string{"REDIRECT_ALLOW_LIST"}},
		{"require verified", map[string]string{"REQUIRE_VERIFIED_EMAIL": "perhaps"}, []string{"REQUIRE_VERIFIED_EMAIL"}},
	}
	for _, tt := range tests {
		_, err := loadConfig(env(tt.vars))
		if err == nil {
			t.Errorf("%s: no error", tt.name)
			continue
		}
		for _, name := range tt.want {
			if !strings.Contains(err.Error(), name) {
				t.Errorf("%s: %v does not name %s", tt.name, err, name)
			}
		}
		if strings.Contains(err.Error(), "priv") {
			t.Errorf("%s: error quotes a secret", tt.name)
		}
	}
}
