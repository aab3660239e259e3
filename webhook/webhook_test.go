package webhook_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store/anydb"
	"github.com/usermgmt/usermgmt/webhook"
	"github.com/usermgmt/usermgmt/webhook/hookstore"
)

// TestDeliversSignedEvents: the events of a user's life reach the
// endpoint, each signed (the receiver verifies every request with the
// newer of the two secrets), on both databases.
func TestDeliversSignedEvents(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			rc := newReceiver(t)
			e := newEnv(t, db.dsn(t), webhook.Config{Endpoints: []string{rc.srv.URL + "/hook"}, AllowPrivate: true})
			e.run()
			ctx := context.Background()
			u := e.user("jane_doe")
			if _, err := e.m.Login(ctx, "jane_doe", "Password-123!"); err != nil {
				t.Fatal(err)
			}
			if _, err := e.m.Ban(ctx, u.UUID, "spam"); err != nil {
				t.Fatal(err)
			}
			if err := e.m.DeleteUser(ctx, u.UUID); err != nil {
				t.Fatal(err)
			}
			rc.waitEvents(4)
			counts, evs, bad := rc.snapshot()
			if bad != 0 {
				t.Fatalf("%d requests failed the signature check", bad)
			}
			var types []string
			for _, ev := range evs {
				types = append(types, ev.Type)
				if ev.Data.UserUUID != u.UUID {
					t.Errorf("%s: user_uuid %q", ev.Type, ev.Data.UserUUID)
				}
			}
			slices.Sort(types)
			want := []string{webhook.SessionCreated, webhook.UserBanned, webhook.UserCreated, webhook.UserDeleted}
			if !slices.Equal(types, want) {
				t.Fatalf("event types %v, want %v", types, want)
			}
			for id, n := range counts {
				if n != 1 || !strings.HasPrefix(id, "msg_") {
					t.Errorf("event %s delivered %d times", id, n)
				}
			}
			created := evs[slices.IndexFunc(evs, func(ev webhook.Event) bool { return ev.Type == webhook.UserCreated })]
			if created.Data.User == nil || created.Data.User.Username != "jane_doe" || created.Data.User.Email != "jane_doe@example.com" {
				t.Errorf("user.created carries %+v", created.Data.User)
			}
		})
	}
}

// TestCrashBetweenCommitAndDelivery: an event committed by an instance
// that stops before sending it is delivered by the next one; so is a
// delivery claimed by a worker that died holding it, once its lease ran
// out. Both databases.
func TestCrashBetweenCommitAndDelivery(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			rc := newReceiver(t)
			dsn := db.dsn(t)
			c := &clock{t: time.Now()}
			cfg := webhook.Config{Endpoints: []string{rc.srv.URL}, AllowPrivate: true, Clock: c.Now, Lease: time.Minute}
			first := newEnv(t, dsn, cfg) // no worker: it "crashes" after the commit
			first.user("jane_doe")
			first.user("john_doe")
			// The first instance claims one delivery and dies holding it.
			st, err := anydb.Open(context.Background(), dsn)
			if err != nil {
				t.Fatal(err)
			}
			defer st.Close()
			err = st.InTx(context.Background(), func(ctx context.Context, tx usermgmt.Store) error {
				ds, err := tx.(hookstore.Store).ClaimWebhookDeliveries(ctx, c.Now(), c.Now().Add(time.Minute), "dead-worker", 1)
				if err == nil && len(ds) != 1 {
					err = fmt.Errorf("claimed %d", len(ds))
				}
				return err
			})
			if err != nil {
				t.Fatal(err)
			}
			if err := first.m.Close(); err != nil {
				t.Fatal(err)
			}

			second := newEnv(t, dsn, cfg)
			second.run()
			rc.waitEvents(1)
			time.Sleep(100 * time.Millisecond) // the leased one must wait for its lease
			if counts, _, _ := rc.snapshot(); len(counts) != 1 {
				t.Fatalf("a leased delivery was sent before its lease ran out: %v", counts)
			}
			c.Add(time.Minute + time.Second)
			rc.waitEvents(2)
			counts, _, bad := rc.snapshot()
			for id, n := range counts {
				if n != 1 {
					t.Errorf("event %s delivered %d times", id, n)
				}
			}
			if bad != 0 {
				t.Errorf("%d bad signatures", bad)
			}
		})
	}
}

// TestTwoWorkersOnePostgres: two instances on one PostgreSQL, both
// running the worker, deliver each of many events exactly once (the
// claims skip each other's locked rows).
func TestTwoWorkersOnePostgres(t *testing.T) { twoWorkers(t, testpg.DSN(t)) }

// TestTwoWorkersOneSQLite: the same on one SQLite file, two pools (the
// claims' write transactions run one at a time).
func TestTwoWorkersOneSQLite(t *testing.T) { twoWorkers(t, "sqlite://"+t.TempDir()+"/two.db") }

func twoWorkers(t *testing.T, dsn string) {
	rc := newReceiver(t)
	cfg := webhook.Config{Endpoints: []string{rc.srv.URL}, AllowPrivate: true, PollInterval: 10 * time.Millisecond, Batch: 4}
	a, b := newEnv(t, dsn, cfg), newEnv(t, dsn, cfg)
	a.run()
	b.run()
	const n = 60
	for i := range n { // while both workers poll
		e := a
		if i%2 == 1 {
			e = b
		}
		e.user(fmt.Sprintf("user_%04d", i))
	}
	rc.waitEvents(n)
	time.Sleep(200 * time.Millisecond) // room for a duplicate to arrive
	counts, _, bad := rc.snapshot()
	if len(counts) != n || bad != 0 {
		t.Fatalf("%d events, %d bad, want %d", len(counts), bad, n)
	}
	for id, c := range counts {
		if c != 1 {
			t.Errorf("event %s delivered %d times", id, c)
		}
	}
}

// TestEventInChangeTransaction: the outbox rows (one per endpoint, one
// event id) commit with the change, and a rolled-back change leaves none.
func TestEventInChangeTransaction(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			rc := newReceiver(t)
			e := newEnv(t, db.dsn(t), webhook.Config{Endpoints: []string{rc.srv.URL, rc.srv.URL + "/second"}, AllowPrivate: true})
			ctx := context.Background()
			u := e.user("jane_doe")
			st := e.m.Store().(hookstore.Store)
			ds, err := st.WebhookDeliveries(ctx, hookstore.Query{})
			if err != nil || len(ds) != 2 || ds[0].EventID != ds[1].EventID || ds[0].Status != hookstore.StatusPending {
				t.Fatalf("outbox after CreateUser: %+v, %v", ds, err)
			}
			// A rolled-back change leaves no outbox row.
			boom := errors.New("boom")
			err = e.m.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error {
				if err := e.m.AppendAudit(ctx, tx, usermgmt.AuditEntry{SubjectUUID: u.UUID, Action: usermgmt.AuditUserUpdated}); err != nil {
					return err
				}
				return boom
			})
			if !errors.Is(err, boom) {
				t.Fatal(err)
			}
			if ds, _ := st.WebhookDeliveries(ctx, hookstore.Query{}); len(ds) != 2 {
				t.Fatalf("a rolled-back change left outbox rows: %d", len(ds))
			}
		})
	}
}

// TestBadReceivers: a receiver that hangs, fails, redirects or answers
// an endless body costs one bounded attempt each, never the request, and
// the delivery is retried later.
func TestBadReceivers(t *testing.T) {
	rc := newReceiver(t)
	target := newReceiver(t) // the redirect's target: never reached
	endless := func(w http.ResponseWriter, _ *http.Request) bool {
		w.WriteHeader(http.StatusInternalServerError)
		chunk := make([]byte, 32<<10)
		for range 4096 { // 128 MiB unless the client hangs up
			if _, err := w.Write(chunk); err != nil {
				break
			}
		}
		return true
	}
	cases := []struct {
		name   string
		answer func(w http.ResponseWriter, r *http.Request) bool
		status int
	}{
		{"hangs", func(_ http.ResponseWriter, r *http.Request) bool {
			select {
			case <-r.Context().Done():
			case <-time.After(10 * time.Second):
			}
			return true
		}, 0},
		{"500", func(w http.ResponseWriter, _ *http.Request) bool {
			w.WriteHeader(http.StatusInternalServerError)
			return true
		}, 500},
		{"redirect", func(w http.ResponseWriter, r *http.Request) bool {
			http.Redirect(w, r, target.srv.URL, http.StatusTemporaryRedirect)
			return true
		}, 307},
		{"endless body", endless, 500},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rc.setAnswer(tc.answer)
			c := &clock{t: time.Now()}
			e := newEnv(t, "sqlite://"+t.TempDir()+"/bad.db", webhook.Config{Endpoints: []string{rc.srv.URL},
				AllowPrivate: true, Timeout: 300 * time.Millisecond, Clock: c.Now})
			start := time.Now()
			e.user("jane_doe")
			if d := time.Since(start); d > 2*time.Second {
				t.Fatalf("the request waited %v for the receiver", d)
			}
			start = time.Now()
			if _, err := e.hooks.RunOnce(context.Background()); err != nil {
				t.Fatal(err)
			}
			if d := time.Since(start); d > 3*time.Second {
				t.Fatalf("one attempt took %v", d)
			}
			d := onlyDelivery(t, e)
			if d.Status != hookstore.StatusPending || d.Attempts != 1 || d.LastStatus != tc.status || d.LastError == "" ||
				!d.NextAttemptAt.After(c.Now()) {
				t.Fatalf("after a failed attempt: %+v", d)
			}
			// Not due yet: nothing claimed.
			if n, err := e.hooks.RunOnce(context.Background()); n != 0 || err != nil {
				t.Fatalf("RunOnce before the backoff: %d, %v", n, err)
			}
		})
	}
	if c, _, _ := target.snapshot(); len(c) != 0 {
		t.Fatalf("the redirect was followed: %v", c)
	}
}

func onlyDelivery(t *testing.T, e *env) *hookstore.Delivery {
	t.Helper()
	ds, err := e.m.Store().(hookstore.Store).WebhookDeliveries(context.Background(), hookstore.Query{})
	if err != nil || len(ds) != 1 {
		t.Fatalf("deliveries: %+v, %v", ds, err)
	}
	return ds[0]
}

// TestDeadLetterAndRetry: a delivery failing for 24 h is dead, listed to
// admins, and an admin's retry sends it again.
func TestDeadLetterAndRetry(t *testing.T) {
	for _, db := range databases {
		t.Run(db.name, func(t *testing.T) {
			rc := newReceiver(t)
			rc.setAnswer(func(w http.ResponseWriter, _ *http.Request) bool { w.WriteHeader(http.StatusBadGateway); return true })
			c := &clock{t: time.Now()}
			rc.mu.Lock()
			rc.now = c.Now // the receiver checks the timestamps against the same clock
			rc.mu.Unlock()
			e := newEnv(t, db.dsn(t), webhook.Config{Endpoints: []string{rc.srv.URL}, AllowPrivate: true, Clock: c.Now})
			// Two events (the admin's user.created and session.created), both failing.
			admin := e.user("the_admin", usermgmt.RoleAdmin)
			e.token(admin)
			ctx := context.Background()
			st := e.m.Store().(hookstore.Store)
			attempts := 0
			var ds []*hookstore.Delivery
			for {
				var err error
				if ds, err = st.WebhookDeliveries(ctx, hookstore.Query{}); err != nil || len(ds) != 2 {
					t.Fatalf("deliveries: %d, %v", len(ds), err)
				}
				if ds[0].Status == hookstore.StatusDead && ds[1].Status == hookstore.StatusDead {
					break
				}
				next := ds[0].NextAttemptAt
				if ds[1].Status == hookstore.StatusPending && (ds[0].Status != hookstore.StatusPending || ds[1].NextAttemptAt.Before(next)) {
					next = ds[1].NextAttemptAt
				}
				if next.After(c.Now()) {
					c.Add(next.Sub(c.Now())) // jump to the next attempt
				}
				if _, err := e.hooks.RunOnce(ctx); err != nil {
					t.Fatal(err)
				}
				if attempts++; attempts > 200 {
					t.Fatalf("not dead after %d runs: %+v", attempts, ds[0])
				}
			}
			for _, d := range ds {
				if d.CreatedAt.Add(22*time.Hour).After(c.Now()) || d.Attempts < 10 || d.LastStatus != 502 {
					t.Fatalf("dead too early or with too few attempts: %d attempts, status %d, created %v, now %v", d.Attempts, d.LastStatus, d.CreatedAt, c.Now())
				}
			}
			d := ds[0]
			tok := e.token(admin) // the first expired during the day (a third event, pending)
			status, body := e.do(http.MethodGet, "/api/admin/webhooks/deliveries?status=dead&limit=1", tok)
			var listed []map[string]any
			if status != http.StatusOK || json.Unmarshal(body, &listed) != nil || len(listed) != 1 || listed[0]["id"] != d.ID || listed[0]["status"] != "dead" {
				t.Fatalf("dead letters: %d %s", status, body)
			}
			if _, leaks := listed[0]["payload"]; leaks {
				t.Errorf("the list shows the payload: %s", body)
			}
			status, body = e.do(http.MethodGet, "/api/admin/webhooks/deliveries?status=dead&before="+d.ID, tok)
			if status != http.StatusOK || json.Unmarshal(body, &listed) != nil || len(listed) != 1 || listed[0]["id"] != ds[1].ID {
				t.Fatalf("the next page: %d %s", status, body)
			}
			rc.setAnswer(nil)
			status, body = e.do(http.MethodPost, "/api/admin/webhooks/deliveries/"+d.ID+"/retry", tok)
			if status != http.StatusOK || !strings.Contains(string(body), `"status":"pending"`) {
				t.Fatalf("retry: %d %s", status, body)
			}
			if _, err := e.hooks.RunOnce(ctx); err != nil {
				t.Fatal(err)
			}
			if got, err := st.WebhookDelivery(ctx, d.ID); err != nil || got.Status != hookstore.StatusDelivered || got.DeliveredAt == nil {
				t.Fatalf("after the retry: %+v, %v", got, err)
			}
			if got, _ := st.WebhookDelivery(ctx, ds[1].ID); got.Status != hookstore.StatusDead {
				t.Fatalf("the other dead letter changed: %+v", got)
			}
			rc.waitEvents(1)
		})
	}
}

// TestAdminRoutesRefuse: only admins see or retry deliveries, and bad
// input is a 4xx with a code.
func TestAdminRoutesRefuse(t *testing.T) {
	e := newEnv(t, "sqlite://:memory:", webhook.Config{})
	user := e.token(e.user("jane_doe"))
	admin := e.token(e.user("the_admin", usermgmt.RoleAdmin))
	for _, tc := range []struct {
		method, path, token string
		status              int
		code                string
	}{
		{http.MethodGet, "/api/admin/webhooks/deliveries", user, 403, "forbidden"},
		{http.MethodPost, "/api/admin/webhooks/deliveries/whd_x/retry", user, 403, "forbidden"},
		{http.MethodGet, "/api/admin/webhooks/deliveries?status=lost", admin, 400, "invalid_webhook_query"},
		{http.MethodGet, "/api/admin/webhooks/deliveries?limit=x", admin, 400, "invalid_webhook_query"},
		{http.MethodGet, "/api/admin/webhooks/deliveries?limit=501", admin, 400, "invalid_webhook_query"},
		{http.MethodPost, "/api/admin/webhooks/deliveries/whd_unknown/retry", admin, 404, "not_found"},
		{http.MethodGet, "/api/admin/webhooks/deliveries", admin, 200, ""},
	} {
		status, body := e.do(tc.method, tc.path, tc.token)
		var v struct{ Code string }
		_ = json.Unmarshal(body, &v)
		if status != tc.status || (tc.code != "" && v.Code != tc.code) {
			t.Errorf("%s %s: %d %s, want %d %s", tc.method, tc.path, status, body, tc.status, tc.code)
		}
		if tc.status == 200 && strings.TrimSpace(string(body)) != "[]" {
			t.Errorf("empty list: %s", body)
		}
	}
}

// TestPrivateAddressRefused: without AllowPrivate a delivery to a
// loopback receiver is refused at the dial, and retried later.
func TestPrivateAddressRefused(t *testing.T) {
	rc := newReceiver(t)
	e := newEnv(t, "sqlite://:memory:", webhook.Config{Endpoints: []string{rc.srv.URL}})
	e.user("jane_doe")
	if _, err := e.hooks.RunOnce(context.Background()); err != nil {
		t.Fatal(err)
	}
	d := onlyDelivery(t, e)
	if d.Status != hookstore.StatusPending || !strings.Contains(d.LastError, "not a public address") {
		t.Fatalf("a private address was not refused: %+v", d)
	}
	if c, _, _ := rc.snapshot(); len(c) != 0 {
		t.Fatal("the private receiver got the event")
	}
}

func TestBackoff(t *testing.T) {
	prev := time.Duration(0)
	for a := 1; a <= 40; a++ {
		lo, hi := webhook.Backoff(a, 0), webhook.Backoff(a, 0.999999)
		if lo < prev/2 || hi < lo || hi > time.Hour {
			t.Fatalf("Backoff(%d) = [%v, %v]", a, lo, hi)
		}
		prev = lo
	}
	if webhook.Backoff(1, 0) != 2500*time.Millisecond || webhook.Backoff(40, 0) != 30*time.Minute {
		t.Fatalf("Backoff(1) = %v, Backoff(40) = %v", webhook.Backoff(1, 0), webhook.Backoff(40, 0))
	}
}

func TestEventTypes(t *testing.T) {
	for _, tc := range []struct{ action, detail, want string }{
		{usermgmt.AuditRegister, "", webhook.UserCreated},
		{usermgmt.AuditUserUpdated, "", webhook.UserUpdated},
		{usermgmt.AuditUserDeleted, "", webhook.UserDeleted},
		{usermgmt.AuditBan, "", webhook.UserBanned},
		{usermgmt.AuditLogin, "", webhook.SessionCreated},
		{usermgmt.AuditLogout, "", webhook.SessionRevoked},
		{usermgmt.AuditPasswordChange, "", webhook.PasswordChanged},
		{usermgmt.AuditPasswordReset, "", webhook.PasswordChanged},
		{usermgmt.AuditEmailVerified, "", webhook.EmailVerified},
		{usermgmt.AuditOTPChanged, usermgmt.OTPAuthenticator, webhook.MFAEnabled},
		{usermgmt.AuditOTPChanged, usermgmt.OTPNone, webhook.MFADisabled},
		{usermgmt.AuditLoginFailed, "", ""},
	} {
		got, ok := webhook.EventType(tc.action, tc.detail)
		if got != tc.want || ok != (tc.want != "") {
			t.Errorf("EventType(%q, %q) = %q, %v; want %q", tc.action, tc.detail, got, ok, tc.want)
		}
	}
}

// TestOnEvent: the in-process callback gets the same events after the
// commit, without endpoints.
func TestOnEvent(t *testing.T) {
	var mu sync.Mutex
	var got []webhook.Event
	hooks, err := webhook.New(webhook.Config{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	st, err := anydb.Open(context.Background(), "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("test-secret-of-at-least-32-bytes!!"), BcryptCost: 4, Logger: quiet},
		usermgmt.WithFeature(hooks), usermgmt.WithEventHandler(hooks.OnEvent(func(_ context.Context, ev webhook.Event) {
			mu.Lock()
			got = append(got, ev)
			mu.Unlock()
		})))
	if err != nil {
		t.Fatal(err)
	}
	defer m.Close()
	u, err := m.CreateUser(context.Background(), usermgmt.NewUser{Username: "jane_doe", Email: "jane@example.com", Password: "Password-123!"})
	if err != nil {
		t.Fatal(err)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(got) != 1 || got[0].Type != webhook.UserCreated || got[0].Data.User == nil || got[0].Data.User.UUID != u.UUID || got[0].Data.AuditID == 0 {
		t.Fatalf("callback events: %+v", got)
	}
	if ds, _ := hookstore.Store(st).WebhookDeliveries(context.Background(), hookstore.Query{}); len(ds) != 0 {
		t.Fatalf("no endpoint, yet %d outbox rows", len(ds))
	}
}

func TestNewRefusesBadConfig(t *testing.T) {
	for _, cfg := range []webhook.Config{
		{Endpoints: []string{"ftp://example.com"}, Secrets: []string{newSecret}},
		{Endpoints: []string{"https://user:pw@example.com"}, Secrets: []string{newSecret}},
		{Endpoints: []string{"https://example.com"}},
		{Endpoints: []string{"https://example.com"}, Secrets: []string{"whsec_short"}},
	} {
		if _, err := webhook.New(cfg); !errors.Is(err, webhook.ErrConfig) {
			t.Errorf("New(%+v) = %v", cfg, err)
		}
	}
}
