package impersonate_test

import (
	"context"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/impersonate"
)

// BenchmarkAuthenticate compares the warm hot path of a user's own token
// with that of an impersonation's token (which also looks up the admin,
// from the cache).
func BenchmarkAuthenticate(b *testing.B) {
	e := newEnv(b, "sqlite://:memory:", nil)
	admin, _ := e.user("rootadmin", usermgmt.RoleAdmin)
	jane, own := e.user("janedoe")
	ctx := context.Background()
	f := e.m.Features()[0].(*impersonate.Impersonation)
	imp, err := f.Start(ctx, admin, jane.UUID)
	if err != nil {
		b.Fatal(err)
	}
	for _, c := range []struct{ name, token string }{{"own", own}, {"impersonated", imp.AccessToken}} {
		b.Run(c.name, func(b *testing.B) {
			if _, err := e.m.Authenticate(ctx, c.token); err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.m.Authenticate(ctx, c.token); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
