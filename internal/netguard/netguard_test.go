package netguard

import (
	"errors"
	"net/netip"
	"testing"
)

func TestPublic(t *testing.T) {
	for addr, want := range map[string]bool{
		"93.184.216.34": true, "2606:4700::1111": true,
		"127.0.0.1": false, "::1": false, "10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false,
		"169.254.169.254": false, "fe80::1": false, "100.64.0.1": false, "fd00::1": false,
		"0.0.0.0": false, "::": false, "224.0.0.1": false, "::ffff:127.0.0.1": false, "::ffff:93.184.216.34": true,
	} {
		if got := Public(netip.MustParseAddr(addr)); got != want {
			t.Errorf("Public(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestControl(t *testing.T) {
	if err := Control("tcp", "93.184.216.34:443", nil); err != nil {
		t.Errorf("a public address was refused: %v", err)
	}
	for _, a := range []string{"127.0.0.1:80", "[::1]:443", "169.254.169.254:80", "localhost:80", "no-port"} {
		if err := Control("tcp", a, nil); !errors.Is(err, ErrNotPublic) {
			t.Errorf("Control(%q) = %v, want ErrNotPublic", a, err)
		}
	}
}
