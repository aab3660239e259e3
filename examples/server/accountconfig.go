package main

import (
	"context"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/mail"
)

// Email methods accepted in EMAIL_METHOD; "log" (ours) prints each mail and
// its links instead of sending it, for development.
const (
	emailNone    = "none"
	emailSMTP    = "smtp"
	emailMailjet = "mj"
	emailLog     = "log"
)

// Account holds the mail and account-security settings: EMAIL_METHOD with
// the reference's SMTP_* and MJ_* variables, OTP_*, and our
// REQUIRE_VERIFIED_EMAIL, RESET_URL_TEMPLATE and REDIRECT_ALLOW_LIST.
type Account struct {
	EmailMethod string

	SMTPHost     string
	SMTPPort     int
	SMTPUser     string
	SMTPPassword string // secret
	SMTPSender   string
	SMTPTLS      bool

	MailjetPublic  string
	MailjetPrivate string // secret
	MailjetSender  string

	OTPLength            int
	OTPInterval          time.Duration
	OTPEmailInterval     time.Duration
	RequireVerifiedEmail bool
	ResetURLTemplate     string
	RedirectAllowList    []string
}

// account reads the Account settings. An EMAIL_METHOD whose variables are
// incomplete is an error naming each missing one (the reference silently
// fell back to none).
func (p *parser) account() Account {
	a := Account{
		EmailMethod:          p.oneOf("EMAIL_METHOD", emailNone, emailNone, emailSMTP, emailMailjet, emailLog),
		SMTPHost:             p.str("SMTP_HOST", ""),
		SMTPPort:             p.intRange("SMTP_PORT", 587, 1, 65535),
		SMTPUser:             p.str("SMTP_USER", ""),
		SMTPPassword:         p.getenv("SMTP_PASSWORD"),
		SMTPSender:           p.email("SMTP_SENDER_EMAIL"),
		SMTPTLS:              p.boolean("SMTP_TLS", true),
		MailjetPublic:        p.str("MJ_APIKEY_PUBLIC", ""),
		MailjetPrivate:       p.getenv("MJ_APIKEY_PRIVATE"),
		MailjetSender:        p.email("MJ_SENDER_EMAIL"),
		OTPLength:            p.intRange("OTP_LENGTH", 6, 6, 8),
		OTPInterval:          time.Duration(p.intRange("OTP_AUTHENTICATOR_INTERVAL", 30, 15, 300)) * time.Second,
		OTPEmailInterval:     time.Duration(p.intRange("OTP_EMAIL_INTERVAL", 600, 60, 86400)) * time.Second,
		RequireVerifiedEmail: p.boolean("REQUIRE_VERIFIED_EMAIL", false),
		ResetURLTemplate:     p.str("RESET_URL_TEMPLATE", ""),
	}
	if a.OTPLength == 7 {
		p.fail("OTP_LENGTH", "must be 6 or 8, got 7")
	}
	if a.ResetURLTemplate != "" && !strings.Contains(a.ResetURLTemplate, "{token}") {
		p.fail("RESET_URL_TEMPLATE", `must contain "{token}"`)
	}
	for _, o := range p.list("REDIRECT_ALLOW_LIST") {
		a.RedirectAllowList = append(a.RedirectAllowList, p.httpURLValue("REDIRECT_ALLOW_LIST", o))
	}
	required := map[string][]struct{ name, value string }{
		emailSMTP:    {{"SMTP_HOST", a.SMTPHost}, {"SMTP_USER", a.SMTPUser}, {"SMTP_PASSWORD", a.SMTPPassword}, {"SMTP_SENDER_EMAIL", a.SMTPSender}},
		emailMailjet: {{"MJ_APIKEY_PUBLIC", a.MailjetPublic}, {"MJ_APIKEY_PRIVATE", a.MailjetPrivate}, {"MJ_SENDER_EMAIL", a.MailjetSender}},
	}
	for _, v := range required[a.EmailMethod] {
		if v.value == "" {
			p.fail(v.name, "is required when EMAIL_METHOD is %s", a.EmailMethod)
		}
	}
	return a
}

// httpURLValue checks one absolute http(s) URL of a list variable.
func (p *parser) httpURLValue(name, v string) string {
	sub := parser{getenv: func(string) string { return v }}
	out := sub.httpURL(name, v)
	p.errs = append(p.errs, sub.errs...)
	return out
}

// security returns the library's account-security settings.
func (c Config) security() usermgmt.AccountSecurity {
	return usermgmt.AccountSecurity{
		ProjectName:          c.ProjectName,
		FrontendURL:          c.FrontendURL,
		APIPrefix:            c.APIPrefix,
		ResetURLTemplate:     c.Account.ResetURLTemplate,
		RequireVerifiedEmail: c.Account.RequireVerifiedEmail,
		RedirectAllowList:    c.Account.RedirectAllowList,
		OTPLength:            c.Account.OTPLength,
		OTPInterval:          c.Account.OTPInterval,
		OTPEmailInterval:     c.Account.OTPEmailInterval,
	}
}

// mailer builds the transport EMAIL_METHOD names; nil for none.
func (c Config) mailer(log *slog.Logger) usermgmt.Mailer {
	a := c.Account
	switch a.EmailMethod {
	case emailSMTP:
		return &mail.SMTP{Host: a.SMTPHost, Port: a.SMTPPort, Username: a.SMTPUser, Password: a.SMTPPassword,
			From: a.SMTPSender, FromName: c.ProjectName, NoTLS: !a.SMTPTLS}
	case emailMailjet:
		return &mail.Mailjet{PublicKey: a.MailjetPublic, PrivateKey: a.MailjetPrivate, From: a.MailjetSender, FromName: c.ProjectName}
	case emailLog:
		return &mail.Log{Logger: log}
	}
	return nil
}

// String describes the mail setup for the startup log, without secrets.
func (a Account) String() string {
	switch a.EmailMethod {
	case emailSMTP:
		return "smtp " + a.SMTPHost + ":" + strconv.Itoa(a.SMTPPort)
	case emailMailjet:
		return "mailjet"
	}
	return a.EmailMethod
}

// anyDomain is a resolver that finds every domain deliverable, for the log
// transport, which delivers nothing.
type anyDomain struct{}

func (anyDomain) LookupMX(context.Context, string) ([]*net.MX, error) {
	return []*net.MX{{Host: "localhost."}}, nil
}

func (anyDomain) LookupHost(context.Context, string) ([]string, error) {
	return []string{"127.0.0.1"}, nil
}
