package usermgmt_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

func TestValidateUsername(t *testing.T) {
	tests := []struct {
		in   string
		want error
	}{
		{"valid_user", nil},
		{"user123", nil},
		{"abcde", nil},
		{strings.Repeat("a", 32), nil},
		{"abcd", usermgmt.ErrInvalidUsername},
		{strings.Repeat("a", 33), usermgmt.ErrInvalidUsername},
		{"invalid user", usermgmt.ErrInvalidUsername},
		{"Upper_case", usermgmt.ErrInvalidUsername},
		{"aB12x", usermgmt.ErrInvalidUsername},
		{"dash-name", usermgmt.ErrInvalidUsername},
		{"ünïcode", usermgmt.ErrInvalidUsername},
		{"", usermgmt.ErrInvalidUsername},
	}
	for _, tt := range tests {
		if err := usermgmt.ValidateUsername(tt.in); !errors.Is(err, tt.want) || (tt.want == nil) != (err == nil) {
			t.Errorf("ValidateUsername(%q) = %v, want %v", tt.in, err, tt.want)
		}
	}
}

func TestValidateDisplayName(t *testing.T) {
	tests := []struct {
		display, username string
		ok                bool
	}{
		{"john_doe", "john_doe", true},
		{"John Doe", "john_doe", true},
		{"JOHN_DOE", "john_doe", true},
		{"John  Doe", "john_doe", false},
		{"\u212Aelvin user", "kelvin_user", false}, // Kelvin sign folds to k
		{"J\u0000hn_doe", "j\u0000hn_doe", false},
		{"Jane Doe", "john_doe", false},
		{"", "john_doe", false},
		{strings.Repeat("a", 33), strings.Repeat("a", 33), false},
	}
	for _, tt := range tests {
		err := usermgmt.ValidateDisplayName(tt.display, tt.username)
		if (err == nil) != tt.ok {
			t.Errorf("ValidateDisplayName(%q, %q) = %v, want ok=%v", tt.display, tt.username, err, tt.ok)
		}
		if err != nil && !errors.Is(err, usermgmt.ErrInvalidDisplayName) {
			t.Errorf("error %v is not ErrInvalidDisplayName", err)
		}
	}
}

func TestNormalizeEmail(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"jane@example.com", "jane@example.com", true},
		{"  Jane.Doe@Example.COM ", "jane.doe@example.com", true},
		{"Émile@example.com", "émile@example.com", true},
		{"a\u200bb@example.com", "", false},
		{"a\u0085b@example.com", "", false},
		{"a+tag@sub.example.org", "a+tag@sub.example.org", true},
		{"josé@example.com", "josé@example.com", true},
		{"x@xn--p1ai.xn--p1ai", "x@xn--p1ai.xn--p1ai", true},
		{"invalid-email", "", false},
		{"@example.com", "", false},
		{"jane@", "", false},
		{"jane@localhost", "", false},
		{"jane@exa_mple.com", "", false},
		{"jane@-example.com", "", false},
		{"jane@example.c", "", false},
		{".jane@example.com", "", false},
		{"ja..ne@example.com", "", false},
		{"jane doe@example.com", "", false},
		{"Jane <jane@example.com>", "", false},
		{"jane@[127.0.0.1]", "", false},
		{strings.Repeat("a", 65) + "@example.com", "", false},
		{"a@" + strings.Repeat("b", 250) + ".com", "", false},
		{"jane@example.com\x00", "", false},
	}
	for _, tt := range tests {
		got, err := usermgmt.NormalizeEmail(tt.in)
		if (err == nil) != tt.ok || got != tt.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q ok=%v", tt.in, got, err, tt.want, tt.ok)
		}
		if err != nil && !errors.Is(err, usermgmt.ErrInvalidEmail) {
			t.Errorf("NormalizeEmail(%q) error %v is not ErrInvalidEmail", tt.in, err)
		}
	}
}

func TestPasswordPolicy(t *testing.T) {
	p := usermgmt.DefaultPasswordPolicy
	tests := []struct {
		in   string
		want error
	}{
		{"ValidPass1$", nil},
		{"qwertyQWERTY1234!@#$", nil},
		{"Abcdefgh1~", nil}, // any "other" character, not only @$!%*#?&
		{"Äbcdefgh1 ", nil}, // non-ASCII upper, a space as the other
		{"short1$A", usermgmt.ErrWeakPassword},
		{"NoSpecialChar123", usermgmt.ErrWeakPassword},
		{"nouppercase1$xx", usermgmt.ErrWeakPassword},
		{"NOLOWERCASE1$XX", usermgmt.ErrWeakPassword},
		{"NoDigits$abcdef", usermgmt.ErrWeakPassword},
		{"Aa1$" + strings.Repeat("x", 68), nil},                         // exactly 72 bytes
		{"Aa1$" + strings.Repeat("x", 69), usermgmt.ErrPasswordTooLong}, // 73 bytes
		{"Aa1$xxxxxx\xff", usermgmt.ErrWeakPassword},                    // not UTF-8
	}
	for _, tt := range tests {
		err := p.Check(tt.in)
		if (tt.want == nil) != (err == nil) || (tt.want != nil && !errors.Is(err, tt.want)) {
			t.Errorf("Check(%q) = %v, want %v", tt.in, err, tt.want)
		}
	}
	custom := usermgmt.PasswordPolicy{MinLength: 4}
	if err := custom.Check("abcd"); err != nil {
		t.Errorf("custom policy refused a 4-letter password: %v", err)
	}
	if err := custom.Check("abc"); !errors.Is(err, usermgmt.ErrWeakPassword) {
		t.Errorf("custom policy accepted a 3-letter password: %v", err)
	}
	if !strings.Contains(p.Describe(), "at least 10 characters") {
		t.Errorf("Describe() = %q", p.Describe())
	}
}

func TestValidateDescription(t *testing.T) {
	for _, ok := range []string{"", "hello", "two\nlines\tand a tab", strings.Repeat("é", 256)} {
		if err := usermgmt.ValidateDescription(ok); err != nil {
			t.Errorf("ValidateDescription(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"a\x00b", "bell\a", "c1\u0085", strings.Repeat("x", 257), "\xff"} {
		if err := usermgmt.ValidateDescription(bad); !errors.Is(err, usermgmt.ErrInvalidDescription) {
			t.Errorf("ValidateDescription(%q) = %v, want ErrInvalidDescription", bad, err)
		}
	}
}

func TestValidateUUID(t *testing.T) {
	for _, ok := range []string{"123e4567-e89b-42d3-a456-426614174000", "123E4567-E89B-42D3-A456-426614174000"} {
		if err := usermgmt.ValidateUUID(ok); err != nil {
			t.Errorf("ValidateUUID(%q) = %v", ok, err)
		}
	}
	for _, bad := range []string{"", "123e4567e89b42d3a456426614174000", "123e4567-e89b-42d3-a456-42661417400g", "../../etc/passwd", "123e4567-e89b-42d3-a456_426614174000"} {
		if err := usermgmt.ValidateUUID(bad); !errors.Is(err, usermgmt.ErrInvalidUUID) {
			t.Errorf("ValidateUUID(%q) = %v, want ErrInvalidUUID", bad, err)
		}
	}
}

func FuzzNormalizeEmail(f *testing.F) {
	for _, s := range []string{"jane@example.com", "a@b.co", "@", "x@y", "é@é.é", "a@@b.com"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		out, err := usermgmt.NormalizeEmail(in)
		if err != nil {
			return
		}
		again, err := usermgmt.NormalizeEmail(out)
		if err != nil || again != out {
			t.Fatalf("normal form %q of %q does not normalize to itself: %q, %v", out, in, again, err)
		}
	})
}
