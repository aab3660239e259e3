package org_test

import (
	"context"
	"errors"
	"net"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/org"
)

// mxEverywhere is a resolver for which every domain takes mail.
type mxEverywhere struct{}

func (mxEverywhere) LookupMX(_ context.Context, name string) ([]*net.MX, error) {
	return []*net.MX{{Host: "mx." + name, Pref: 10}}, nil
}

func (mxEverywhere) LookupHost(context.Context, string) ([]string, error) {
	return []string{"192.0.2.1"}, nil
}

var tokenInLink = regexp.MustCompile(`https://app\.example\.com/invitations/accept\?token=([A-Za-z0-9_-]{43})`)

// mailedToken waits for the next mail, checks its address and returns
// the token of its link.
func mailedToken(t *testing.T, box *mail.Memory, to string) string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var msg mail.Message
	for {
		var err error
		if msg, err = box.Next(ctx); err != nil {
			t.Fatalf("no invitation mail: %v", err)
		}
		// Skip the core's mails (the new accounts' activation).
		if !strings.Contains(msg.Subject, "Activate") {
			break
		}
	}
	if len(msg.To) != 1 || msg.To[0] != to || !strings.Contains(msg.Subject, "invited") {
		t.Fatalf("mail to %v, subject %q; want %s", msg.To, msg.Subject, to)
	}
	m := tokenInLink.FindStringSubmatch(msg.Text)
	if m == nil || !strings.Contains(msg.HTML, m[1]) {
		t.Fatalf("no accept link in the mail:\n%s", msg.Text)
	}
	return m[1]
}

// TestInvitations: invite over HTTP, the mailed single-use link, accept
// with the invited verified address only, decline, revoke, expiry, and
// two accepts at once.
func TestInvitations(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			box := &mail.Memory{}
			e := newEnv(t, db.dsn(t), org.Config{}, usermgmt.WithMailer(box), usermgmt.WithResolver(mxEverywhere{}))
			h := httpadapter.New(e.m, httpadapter.Options{Prefix: "/api", Logger: quiet})
			owner, guest, other, unverified := e.user(), e.userVerified(true), e.userVerified(true), e.user()
			to, tg, tx, tu := e.token(owner), e.token(guest), e.token(other), e.token(unverified)
			o := e.create(owner, "invites")
			want := func(r reply, status int, code string) {
				t.Helper()
				if r.status != status || code != "" && r.body["code"] != code {
					t.Errorf("got %d %s, want %d %s", r.status, r.raw, status, code)
				}
			}
			base := "/api/orgs/" + o.ID + "/invitations"
			want(call(t, h, "POST", base, to, `{"email":"nope","role":"member"}`), 422, "org_invitation_email_invalid")
			want(call(t, h, "POST", base, to, `{"email":"a@b.example"}`), 422, "")
			want(call(t, h, "POST", base, to, `{"email":"a@b.example","role":"czar"}`), 422, "org_role_invalid")
			want(call(t, h, "POST", base, tg, `{"email":"a@b.example","role":"member"}`), 404, "org_not_found")
			r := call(t, h, "POST", base, to, `{"email":" `+strings.ToUpper(guest.Email)+`","role":"admin"}`)
			want(r, 201, "")
			if r.body["email"] != guest.Email || r.body["token"] != nil || strings.Contains(r.raw, "hash") {
				t.Errorf("invitation = %s", r.raw)
			}
			tok := mailedToken(t, box, guest.Email)
			r = call(t, h, "GET", base, to, "")
			if r.status != 200 || !strings.Contains(r.raw, guest.Email) {
				t.Errorf("GET invitations = %d %s", r.status, r.raw)
			}
			want(call(t, h, "POST", "/api/orgs/invitations/accept", tx, `{"token":"`+tok+`"}`), 403, "org_invitation_email_mismatch")
			want(call(t, h, "POST", "/api/orgs/invitations/accept", tg, `{"token":"short"}`), 404, "org_invitation_invalid")
			want(call(t, h, "POST", "/api/orgs/invitations/accept", tg, `{}`), 422, "")
			r = call(t, h, "POST", "/api/orgs/invitations/accept", tg, `{"token":"`+tok+`"}`)
			if r.status != 200 || r.body["role"] != "admin" || r.body["id"] != o.ID {
				t.Errorf("accept = %d %s", r.status, r.raw)
			}
			want(call(t, h, "POST", "/api/orgs/invitations/accept", tg, `{"token":"`+tok+`"}`), 404, "org_invitation_invalid")
			want(call(t, h, "GET", "/api/orgs/"+o.ID, tg, ""), 200, "")

			// Unverified: refused even for the right address.
			want(call(t, h, "POST", base, to, `{"email":"`+unverified.Email+`","role":"member"}`), 201, "")
			tok = mailedToken(t, box, unverified.Email)
			want(call(t, h, "POST", "/api/orgs/invitations/accept", tu, `{"token":"`+tok+`"}`), 403, "org_invitation_email_mismatch")

			// Decline, then the link is spent.
			want(call(t, h, "POST", base, to, `{"email":"`+other.Email+`","role":"member"}`), 201, "")
			tok = mailedToken(t, box, other.Email)
			want(call(t, h, "POST", "/api/orgs/invitations/decline", tx, `{"token":"`+tok+`"}`), 204, "")
			want(call(t, h, "POST", "/api/orgs/invitations/accept", tx, `{"token":"`+tok+`"}`), 404, "org_invitation_invalid")

			// Revoke: an admin (the guest) revokes; the link dies.
			r = call(t, h, "POST", base, to, `{"email":"`+other.Email+`","role":"member"}`)
			want(r, 201, "")
			tok = mailedToken(t, box, other.Email)
			inv, _ := r.body["id"].(string)
			want(call(t, h, "POST", base, tg, `{"email":"x@example.com","role":"owner"}`), 403, "")
			want(call(t, h, "DELETE", base+"/"+inv, tx, ""), 404, "org_not_found")
			want(call(t, h, "DELETE", base+"/"+inv, tg, ""), 204, "")
			want(call(t, h, "DELETE", base+"/"+inv, tg, ""), 404, "org_invitation_not_found")
			want(call(t, h, "POST", "/api/orgs/invitations/accept", tx, `{"token":"`+tok+`"}`), 404, "org_invitation_invalid")

			// Two accepts of one invitation at once: one joins.
			want(call(t, h, "POST", base, to, `{"email":"`+other.Email+`","role":"member"}`), 201, "")
			tok = mailedToken(t, box, other.Email)
			var wg sync.WaitGroup
			codes := make([]int, 3)
			for i := range codes {
				wg.Go(func() {
					codes[i] = call(t, h, "POST", "/api/orgs/invitations/accept", tx, `{"token":"`+tok+`"}`).status
				})
			}
			wg.Wait()
			ok := 0
			for _, c := range codes {
				switch c {
				case 200:
					ok++
				case 404, 409:
				default:
					t.Errorf("a racing accept answered %d", c)
				}
			}
			if ok != 1 {
				t.Errorf("%d of 3 racing accepts joined (%v), want 1", ok, codes)
			}
		})
	}
}

// TestInvitationExpires: a link stops working after seven days.
func TestInvitationExpires(t *testing.T) {
	box := &mail.Memory{}
	now := time.Now()
	clock := &struct {
		sync.Mutex
		t time.Time
	}{t: now}
	st := "sqlite://" + t.TempDir() + "/orgs.db"
	e := newEnvClock(t, st, org.Config{}, func() time.Time {
		clock.Lock()
		defer clock.Unlock()
		return clock.t
	}, usermgmt.WithMailer(box), usermgmt.WithResolver(mxEverywhere{}))
	owner, guest := e.user(), e.userVerified(true)
	o := e.create(owner, "expiry")
	if _, err := e.orgs.Invite(context.Background(), owner, o.ID, guest.Email, org.RoleMember); err != nil {
		t.Fatal(err)
	}
	tok := mailedToken(t, box, guest.Email)
	clock.Lock()
	clock.t = now.Add(org.InvitationTTL + time.Second)
	clock.Unlock()
	if _, err := e.orgs.Accept(context.Background(), guest, tok); !errors.Is(err, org.ErrInvitationInvalid) {
		t.Errorf("Accept(expired) = %v, want ErrInvitationInvalid", err)
	}
	if is, err := e.orgs.Invitations(context.Background(), owner, o.ID); err != nil || len(is) != 0 {
		t.Errorf("Invitations after expiry = %v, %v; want none", is, err)
	}
}
