// Package netguard keeps the library's own outgoing connections (a
// provider's profile picture, a webhook delivery) to public addresses, so
// that a URL given by a provider or an operator cannot reach the host's
// network: loopback, private, link-local (169.254.169.254) and
// carrier-grade NAT space are refused.
package netguard

import (
	"errors"
	"net"
	"net/netip"
	"syscall"
)

// ErrNotPublic refuses a connection to an address that is not public.
var ErrNotPublic = errors.New("usermgmt: not a public address")

// Control is a net.Dialer Control function that refuses every address but
// a public one. It runs on the address actually dialled, after name
// resolution and for every redirect, so neither a name that resolves to
// 127.0.0.1 nor one that rebinds between a check and the connection gets
// through.
func Control(_, address string, _ syscall.RawConn) error {
	host, _, err := net.SplitHostPort(address)
	if err != nil {
		return ErrNotPublic
	}
	ip, err := netip.ParseAddr(host)
	if err != nil || !Public(ip) {
		return ErrNotPublic
	}
	return nil
}

// Public reports whether ip is a public unicast address.
func Public(ip netip.Addr) bool {
	ip = ip.Unmap()
	return ip.IsValid() && ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() &&
		!ip.IsLinkLocalUnicast() && !sharedAddressSpace.Contains(ip)
}

// sharedAddressSpace is carrier-grade NAT space (RFC 6598), not reachable
// from the public internet either.
var sharedAddressSpace = netip.MustParsePrefix("100.64.0.0/10")
