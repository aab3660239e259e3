package main

import (
	"encoding/json"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

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

// TestServerEmailSignIn: with a mailer (EMAIL_METHOD=log, whose mails go
// to the log) the server serves magic links and codes by default, and the
// admin signs in with each.
func TestServerEmailSignIn(t *testing.T) {
	s := startServer(t, map[string]string{"EMAIL_METHOD": "log", "ADMIN_PASSWORD": "letmein-123"})
	post := func(path, body string) (int, string) {
		t.Helper()
		resp, err := http.Post(s.base+path, "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// waitLog waits for re in the logs and returns its first group.
	waitLog := func(re *regexp.Regexp) string {
		t.Helper()
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
			if m := re.FindStringSubmatch(s.logs.String()); m != nil {
				return m[1]
			}
		}
		t.Fatalf("%s never logged:\n%s", re, s.logs.String())
		return ""
	}
	if st, b := post("/api/auth/magic-link", `{"email":"admin@example.com"}`); st != http.StatusAccepted {
		t.Fatalf("magic-link: %d %s", st, b)
	}
	token := waitLog(regexp.MustCompile(`magic-link/verify\?token=([A-Za-z0-9_-]{43})`))
	resp, err := http.Get(s.base + "/api/auth/magic-link/verify?token=" + token)
	if err != nil {
		t.Fatal(err)
	}
	var tok tokenResponse
	err = json.NewDecoder(resp.Body).Decode(&tok)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || err != nil || tok.AccessToken == "" {
		t.Fatalf("verify link: %d, %v", resp.StatusCode, err)
	}

	if st, b := post("/api/auth/email-code", `{"email":"admin@example.com"}`); st != http.StatusAccepted {
		t.Fatalf("email-code: %d %s", st, b)
	}
	code := waitLog(regexp.MustCompile(`sign-in code is: ([0-9]{6})`))
	if st, b := post("/api/auth/email-code/verify", `{"email":"admin@example.com","code":"`+code+`"}`); st != http.StatusOK || !strings.Contains(b, "access_token") {
		t.Fatalf("verify code: %d %s", st, b)
	}
}
