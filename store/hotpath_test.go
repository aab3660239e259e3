package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/uptrace/bun"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store"
)

// queryLog records the statements a store sends.
type queryLog struct {
	mu      sync.Mutex
	queries []string
}

func (l *queryLog) BeforeQuery(ctx context.Context, _ *bun.QueryEvent) context.Context { return ctx }

func (l *queryLog) AfterQuery(_ context.Context, e *bun.QueryEvent) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.queries = append(l.queries, e.Query)
}

// take returns the statements logged since the last take.
func (l *queryLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	q := l.queries
	l.queries = nil
	return q
}

// TestHotPathsAreSingleIndexedQueries checks that the reads and writes every
// request makes are one statement each, and that SQLite answers each from an
// index rather than a table scan.
func TestHotPathsAreSingleIndexedQueries(t *testing.T) {
	db := openStore(t, "sqlite://"+t.TempDir()+"/hot.db")
	defer closeStore(t, db)
	ctx := context.Background()
	u := user(1)
	if err := db.InsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	s := &usermgmt.Session{ID: "sess", UserUUID: u.UUID, CreatedAt: now, RotatedAt: now, ExpiresAt: now.Add(time.Hour)}
	if err := db.InsertSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	log := &queryLog{}
	db.Bun().AddQueryHook(log)

	calls := []struct {
		name  string
		call  func() error
		index string // what the plan must use
	}{
		{"UserByUUID", func() error { _, err := db.UserByUUID(ctx, u.UUID); return err }, "sqlite_autoindex_users_1"},
		{"UserByUsername", func() error { _, err := db.UserByUsername(ctx, u.Username); return err }, "sqlite_autoindex_users_2"},
		{"UserByEmail", func() error { _, err := db.UserByEmail(ctx, strings.ToUpper(u.Email)); return err }, "users_email_lower_key"},
		{"SessionByID", func() error { _, err := db.SessionByID(ctx, s.ID); return err }, "sqlite_autoindex_sessions_1"},
		{"SessionsByUser", func() error { _, err := db.SessionsByUser(ctx, u.UUID, now); return err }, "sessions_user_uuid_idx"},
		{"RotateSession", func() error {
			_, err := db.RotateSession(ctx, s.ID, 0, usermgmt.SessionRotation{Generation: 1, RotatedAt: now, ExpiresAt: now})
			return err
		}, "sqlite_autoindex_sessions_1"},
		{"Audit by subject", func() error {
			_, err := db.Audit(ctx, usermgmt.AuditQuery{SubjectUUID: u.UUID, Actions: []string{usermgmt.AuditLogin}})
			return err
		}, "audit_log_subject_idx"},
	}
	for _, c := range calls {
		if err := c.call(); err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		queries := log.take()
		if len(queries) != 1 {
			t.Errorf("%s sent %d statements, want 1: %q", c.name, len(queries), queries)
			continue
		}
		plan := queryPlan(t, db, queries[0])
		t.Logf("%s: %s", c.name, plan)
		if !strings.Contains(plan, c.index) || strings.Contains(plan, "SCAN ") {
			t.Errorf("%s: plan %q does not use %s\nquery: %s", c.name, plan, c.index, queries[0])
		}
		if strings.Contains(plan, "TEMP B-TREE") {
			t.Errorf("%s: plan %q sorts in memory", c.name, plan)
		}
	}
}

// queryPlan returns SQLite's EXPLAIN QUERY PLAN of query, one line.
func queryPlan(t *testing.T, db *store.DB, query string) string {
	t.Helper()
	rows, err := db.Bun().DB.QueryContext(context.Background(), "EXPLAIN QUERY PLAN "+query)
	if err != nil {
		t.Fatalf("explain %s: %v", query, err)
	}
	defer rows.Close()
	var plan []string
	for rows.Next() {
		var id, parent, unused int
		var detail string
		if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
			t.Fatal(err)
		}
		plan = append(plan, detail)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return strings.Join(plan, "; ")
}
