// Package testdns gives tests a resolver for usermgmt.WithResolver that
// needs no network.
package testdns

import (
	"context"
	"net"
)

// AnyDomain finds a mail exchanger and an address for every domain, so
// that every address a test uses counts as deliverable.
type AnyDomain struct{}

// LookupMX answers mx.example.com for every domain.
func (AnyDomain) LookupMX(context.Context, string) ([]*net.MX, error) {
	return []*net.MX{{Host: "mx.example.com.", Pref: 1}}, nil
}

// LookupHost answers 192.0.2.1 (TEST-NET-1) for every host.
func (AnyDomain) LookupHost(context.Context, string) ([]string, error) {
	return []string{"192.0.2.1"}, nil
}
