package httpadapter

import (
	"net/http"
	"net/netip"
	"strings"
)

// maxForwardedHops bounds how many X-Forwarded-For entries are examined.
const maxForwardedHops = 32

// clientIP returns the address of the client that made r. It is the socket
// peer, unless the peer is one of the trusted proxies: then it is the
// right-most X-Forwarded-For address that is not itself a trusted proxy
// (addresses to its left were written by the client and prove nothing).
func clientIP(r *http.Request, trusted []netip.Prefix) string {
	peer, err := netip.ParseAddrPort(r.RemoteAddr)
	if err != nil {
		// Not ip:port (a test, a unix socket): use it as it is.
		if a, err := netip.ParseAddr(r.RemoteAddr); err == nil {
			return a.Unmap().String()
		}
		return r.RemoteAddr
	}
	addr := peer.Addr().Unmap().WithZone("")
	if len(trusted) == 0 || !isTrusted(addr, trusted) {
		return addr.String()
	}
	if client, ok := forwardedFor(r.Header.Values("X-Forwarded-For"), trusted); ok {
		return client.String()
	}
	return addr.String()
}

// isTrusted reports whether a is in one of the prefixes.
func isTrusted(a netip.Addr, trusted []netip.Prefix) bool {
	for _, p := range trusted {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedFor walks the X-Forwarded-For values (each a comma-separated
// list, in the order the headers arrived) from the right, the hop nearest
// to us, and returns the first address that is not a trusted proxy. If an
// entry cannot be parsed the walk stops there, since nothing to its left
// can be attributed: the answer is then the last trusted hop seen (ok is
// false when there is none). When every entry is trusted, the left-most
// is the answer.
func forwardedFor(values []string, trusted []netip.Prefix) (netip.Addr, bool) {
	var last netip.Addr
	hops := 0
	for i := len(values) - 1; i >= 0; i-- {
		list := values[i]
		for done := false; !done; {
			entry := list
			if c := strings.LastIndexByte(list, ','); c >= 0 {
				entry, list = list[c+1:], list[:c]
			} else {
				done = true
			}
			a, ok := parseForwardedAddr(entry)
			if !ok || hops == maxForwardedHops {
				return last, last.IsValid()
			}
			hops++
			if !isTrusted(a, trusted) {
				return a, true
			}
			last = a
		}
	}
	return last, last.IsValid()
}

// parseForwardedAddr parses one X-Forwarded-For entry: an IPv4 or IPv6
// address, optionally with a port ("1.2.3.4:80", "[::1]:80") or in brackets
// ("[::1]"), surrounded by optional spaces. Zones are dropped and
// IPv4-mapped IPv6 addresses unmapped.
func parseForwardedAddr(s string) (netip.Addr, bool) {
	s = strings.Trim(s, " \t")
	if s == "" {
		return netip.Addr{}, false
	}
	a, err := netip.ParseAddr(s)
	if err != nil {
		ap, perr := netip.ParseAddrPort(s)
		if perr != nil {
			if len(s) < 2 || s[0] != '[' || s[len(s)-1] != ']' {
				return netip.Addr{}, false
			}
			if a, err = netip.ParseAddr(s[1 : len(s)-1]); err != nil || !a.Is6() {
				return netip.Addr{}, false
			}
		} else {
			a = ap.Addr()
		}
	}
	return a.Unmap().WithZone(""), true
}
