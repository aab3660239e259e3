package httpadapter

import (
	"net/http/httptest"
	"net/netip"
	"strings"
	"testing"
)

func TestClientIP(t *testing.T) {
	proxies := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	tests := []struct {
		name    string
		remote  string
		xff     []string
		trusted []netip.Prefix
		want    string
	}{
		{"no proxies configured", "203.0.113.9:4000", []string{"1.2.3.4"}, nil, "203.0.113.9"},
		{"untrusted peer's header ignored", "203.0.113.9:4000", []string{"1.2.3.4"}, proxies, "203.0.113.9"},
		{"trusted peer, one hop", "10.0.0.1:4000", []string{"198.51.100.7"}, proxies, "198.51.100.7"},
		{"right-most untrusted wins over a spoofed left", "10.0.0.1:4000", []string{"6.6.6.6, 198.51.100.7"}, proxies, "198.51.100.7"},
		{"trusted hops skipped", "10.0.0.1:4000", []string{"198.51.100.7, 10.0.0.5, 10.0.0.6"}, proxies, "198.51.100.7"},
		{"several headers in order", "10.0.0.1:4000", []string{"6.6.6.6", "198.51.100.7, 10.0.0.5"}, proxies, "198.51.100.7"},
		{"all trusted: left-most", "10.0.0.1:4000", []string{"10.0.0.7, 10.0.0.5"}, proxies, "10.0.0.7"},
		{"garbage stops the walk at the last trusted hop", "10.0.0.1:4000", []string{"198.51.100.7, garbage, 10.0.0.5"}, proxies, "10.0.0.5"},
		{"garbage right away: the peer", "10.0.0.1:4000", []string{"198.51.100.7, nonsense"}, proxies, "10.0.0.1"},
		{"empty entry stops the walk", "10.0.0.1:4000", []string{"198.51.100.7,,"}, proxies, "10.0.0.1"},
		{"no header: the peer", "10.0.0.1:4000", nil, proxies, "10.0.0.1"},
		{"entry with a port", "10.0.0.1:4000", []string{"198.51.100.7:5555"}, proxies, "198.51.100.7"},
		{"IPv6 entry in brackets with a port", "10.0.0.1:4000", []string{"[2001:db8::1]:443"}, proxies, "2001:db8::1"},
		{"IPv6 entry in brackets", "10.0.0.1:4000", []string{" [2001:db8::1] "}, proxies, "2001:db8::1"},
		{"IPv6 trusted peer", "[fd00::1]:4000", []string{"2001:db8::2"}, proxies, "2001:db8::2"},
		{"IPv4-mapped peer", "[::ffff:10.0.0.1]:4000", []string{"198.51.100.7"}, proxies, "198.51.100.7"},
		{"IPv4-mapped entry", "10.0.0.1:4000", []string{"::ffff:198.51.100.7"}, proxies, "198.51.100.7"},
		{"zone dropped", "10.0.0.1:4000", []string{"fe80::1%eth0"}, proxies, "fe80::1"},
		{"peer without a port", "198.51.100.8", nil, nil, "198.51.100.8"},
		{"peer unparseable", "pipe", nil, proxies, "pipe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest("GET", "/", nil)
			r.RemoteAddr = tt.remote
			for _, v := range tt.xff {
				r.Header.Add("X-Forwarded-For", v)
			}
			if got := clientIP(r, tt.trusted); got != tt.want {
				t.Fatalf("clientIP = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestForwardedForHopLimit(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8")}
	hops := strings.Repeat("10.0.0.9, ", 100) + "10.0.0.8"
	got, ok := forwardedFor([]string{"198.51.100.7, " + hops}, trusted)
	if !ok || got.String() != "10.0.0.9" {
		t.Fatalf("forwardedFor over the hop limit = %v, %v", got, ok)
	}
}

func FuzzForwardedFor(f *testing.F) {
	for _, s := range []string{"", "1.2.3.4", "1.2.3.4, 10.0.0.1", "[::1]:80", ",,,", "10.0.0.1,", " , 1.1.1.1", "::ffff:10.1.1.1", "[fe80::1%25eth0]:1", "[1.2.3.4]"} {
		f.Add(s, "10.0.0.1:1234")
	}
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("::1/128")}
	f.Fuzz(func(t *testing.T, xff, remote string) {
		if a, ok := forwardedFor([]string{xff}, trusted); ok && !a.IsValid() {
			t.Fatalf("ok with an invalid address for %q", xff)
		}
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = remote
		r.Header.Set("X-Forwarded-For", xff)
		ip := clientIP(r, trusted)
		// The answer is the peer or one of the header's entries.
		candidates := map[string]bool{remote: true}
		if ap, err := netip.ParseAddrPort(remote); err == nil {
			candidates[ap.Addr().Unmap().WithZone("").String()] = true
		}
		if a, err := netip.ParseAddr(remote); err == nil {
			candidates[a.Unmap().String()] = true
		}
		for _, entry := range strings.Split(xff, ",") {
			if a, ok := parseForwardedAddr(entry); ok {
				candidates[a.String()] = true
			}
		}
		if !candidates[ip] {
			t.Fatalf("clientIP = %q, neither the peer %q nor in %q", ip, remote, xff)
		}
	})
}

func TestParseBearer(t *testing.T) {
	tests := []struct {
		in, token string
		found     bool
	}{
		{"Bearer abc", "abc", true},
		{"bearer abc", "abc", true},
		{"BEARER   abc  ", "abc", true},
		{"\tBearer abc", "abc", true},
		{"Bearer a b", "a b", true}, // the Manager refuses it
		{"Bearer", "", false},
		{"Bearer ", "", false},
		{"Bearerabc", "", false},
		{"Basic abc", "", false},
		{"", "", false},
		{"Bear abc", "", false},
	}
	for _, tt := range tests {
		token, found := parseBearer(tt.in)
		if token != tt.token || found != tt.found {
			t.Errorf("parseBearer(%q) = %q, %v; want %q, %v", tt.in, token, found, tt.token, tt.found)
		}
	}
}

func FuzzParseBearer(f *testing.F) {
	for _, s := range []string{"Bearer abc", "bearer", "Basic x", " Bearer  a.b.c ", "BEARER\x00", "Bearer \t"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, h string) {
		token, found := parseBearer(h)
		if found != (token != "") {
			t.Fatalf("parseBearer(%q) = %q, %v", h, token, found)
		}
		if found && (token[0] == ' ' || !strings.Contains(strings.ToLower(h), "bearer")) {
			t.Fatalf("parseBearer(%q) = %q", h, token)
		}
		// A token without spaces round-trips.
		if found && !strings.ContainsAny(token, " \t") {
			if again, ok := parseBearer("Bearer " + token); !ok || again != token {
				t.Fatalf("round trip of %q = %q", token, again)
			}
		}
	})
}
