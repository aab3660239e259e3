package httpadapter

import (
	"strings"
	"testing"
)

func TestPreferredLocale(t *testing.T) {
	tests := []struct{ header, want string }{
		{"", ""},
		{"fr", "fr"},
		{"fr-CH, fr;q=0.9, en;q=0.8", "fr"},
		{"en;q=0.5, fr;q=0.9", "fr"},
		{"*", ""},
		{"de-DE;q=0", ""},
		{"../etc;q=1, nl", "nl"},
		{"EN-us", "en"},
		{"fr;q=abc, en", "en"},
	}
	for _, tt := range tests {
		if got := preferredLocale(tt.header); got != tt.want {
			t.Errorf("preferredLocale(%q) = %q, want %q", tt.header, got, tt.want)
		}
	}
}

func FuzzPreferredLocale(f *testing.F) {
	for _, s := range []string{"fr-CH, fr;q=0.9", "en;q=0.5", "*", "../x", strings.Repeat("a,", 400)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		l := preferredLocale(h)
		if l != "" && (len(l) < 2 || len(l) > 3 || strings.Trim(l, "abcdefghijklmnopqrstuvwxyz") != "") {
			t.Fatalf("preferredLocale(%q) = %q", h, l)
		}
	})
}
