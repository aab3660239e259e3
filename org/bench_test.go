package org_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/org"
	"github.com/usermgmt/usermgmt/org/orgstore"
)

// seedMembers adds n members to o straight through the store, in one
// transaction (users made without hashing).
func seedMembers(b *testing.B, e *env, o *org.Organization, n int) {
	b.Helper()
	now := time.Now().UTC()
	err := e.m.Store().InTx(context.Background(), func(ctx context.Context, tx usermgmt.Store) error {
		st := tx.(orgstore.Store)
		for i := range n {
			u := &usermgmt.User{UUID: fmt.Sprintf("20000000-0000-4000-8000-%012d", i), Username: fmt.Sprintf("bulk_%d", i),
				DisplayName: fmt.Sprintf("bulk_%d", i), Email: fmt.Sprintf("bulk%d@example.com", i), Roles: []string{"user"},
				IsActive: true, BlockedUUIDs: []string{}, OTPMethod: usermgmt.OTPNone, CreatedAt: now, UpdatedAt: now}
			if err := tx.InsertUser(ctx, u); err != nil {
				return err
			}
			if err := st.InsertMembership(ctx, &orgstore.Membership{OrgID: o.ID, UserUUID: u.UUID, Role: org.RoleMember, JoinedAt: now}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
}

// BenchmarkMembers: one page (50, and the last page) of an organization
// of 10,000 members, through the feature (access check and page).
func BenchmarkMembers(b *testing.B) {
	for _, db := range databases {
		b.Run(db.name, func(b *testing.B) {
			e := newEnv(b, db.dsn(b), org.Config{})
			owner := e.user()
			o := e.create(owner, "large")
			seedMembers(b, e, o, 10000)
			ctx := context.Background()
			for _, c := range []struct{ name, after string }{{"first-page", ""}, {"last-page", "20000000-0000-4000-8000-000000009960"}} {
				b.Run(c.name, func(b *testing.B) {
					for b.Loop() {
						ms, _, err := e.orgs.Members(ctx, owner, o.ID, c.after, 50)
						if err != nil || len(ms) == 0 {
							b.Fatalf("Members = %d, %v", len(ms), err)
						}
					}
				})
			}
		})
	}
}

// BenchmarkRequireOrgRole compares the guard of an organization's route
// with the plain RequireAuth (token check only): "org" with a token
// without org claims (the membership and organization read from the
// store), "org-claims" with a token of the active organization (SwitchOrg),
// whose fresh claims are read instead.
func BenchmarkRequireOrgRole(b *testing.B) {
	for _, db := range databases {
		b.Run(db.name, func(b *testing.B) {
			// The users and the organization are made 5 s in the past, so
			// that the switched token is issued after the last change.
			var offset atomic.Int64
			offset.Store(int64(-5 * time.Second))
			e := newEnvClock(b, db.dsn(b), org.Config{}, func() time.Time { return time.Now().Add(time.Duration(offset.Load())) })
			owner := e.user()
			o := e.create(owner, "hot")
			offset.Store(0)
			tok := e.token(owner)
			p, err := e.m.Authenticate(context.Background(), tok)
			if err != nil {
				b.Fatal(err)
			}
			sw, err := e.orgs.SwitchOrg(context.Background(), p, o.ID)
			if err != nil {
				b.Fatal(err)
			}
			ok := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(http.StatusNoContent) })
			mux := http.NewServeMux()
			mux.Handle("GET /auth/{org}", httpadapter.RequireAuth(e.m)(ok))
			mux.Handle("GET /org/{org}", org.RequireOrgRole(e.m, e.orgs, "org", org.RoleOwner)(ok))
			for _, c := range []struct{ name, path, token string }{
				{"auth", "/auth/", tok}, {"org", "/org/", tok}, {"org-claims", "/org/", sw.AccessToken},
			} {
				b.Run(c.name, func(b *testing.B) {
					req := httptest.NewRequest("GET", c.path+o.ID, nil)
					req.Header.Set("Authorization", "Bearer "+c.token)
					for b.Loop() {
						rec := httptest.NewRecorder()
						mux.ServeHTTP(rec, req)
						if rec.Code != http.StatusNoContent {
							b.Fatalf("%s = %d", c.name, rec.Code)
						}
					}
				})
			}
		})
	}
}
