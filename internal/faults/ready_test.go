package faults_test

import (
	"context"
	"net/http"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/internal/testlog"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/internal/testredis"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/postgres"
	"github.com/usermgmt/usermgmt/store/redisstore"
)

// TestReadyOutages (issue 19 item 2): GET /ready says which part is down
// while a real Redis, then a real PostgreSQL, is stopped, within the
// readiness timeout, while /ping (liveness) stays 200; it is ready again
// once they are back.
func TestReadyOutages(t *testing.T) {
	pg := testpg.StartServer(t)
	rd := testredis.StartServer(t)
	ctx := context.Background()
	st, err := postgres.Open(ctx, pg.DSN(), store.WithLogger((&testlog.Buffer{}).Logger()))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	redis.SetLogger(redisstore.NewLogger((&testlog.Buffer{}).Logger()))
	s := newStack(t, st, rd.URL(), redisstore.FailToFallback)

	// ready asks /ready and checks the answer.
	ready := func(t *testing.T, status int, body string) {
		t.Helper()
		a := s.get("/ready", "")
		if a.status != status || a.body != body {
			t.Fatalf("/ready = %v, want %d %s", a, status, body)
		}
		if a.took > 2*usermgmt.DefaultReadyTimeout {
			t.Fatalf("/ready took %v", a.took)
		}
		if p := s.get("/ping", ""); p.status != http.StatusOK {
			t.Fatalf("/ping = %v", p)
		}
	}
	const isReady = `{"status":"ready"}`
	ready(t, http.StatusOK, isReady)

	rd.Stop()
	ready(t, http.StatusServiceUnavailable,
		`{"status":"not_ready","detail":"Not ready: rate_limiter did not answer.","code":"not_ready","failed":["rate_limiter"]}`)

	pg.Stop()
	ready(t, http.StatusServiceUnavailable,
		`{"status":"not_ready","detail":"Not ready: database, rate_limiter did not answer.","code":"not_ready","failed":["database","rate_limiter"]}`)

	rd.Start()
	ready(t, http.StatusServiceUnavailable,
		`{"status":"not_ready","detail":"Not ready: database did not answer.","code":"not_ready","failed":["database"]}`)

	pg.Start()
	deadline := time.Now().Add(10 * time.Second) // the pool drops its dead connections as they fail
	for {
		a := s.get("/ready", "")
		if a.status == http.StatusOK && a.body == isReady {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("/ready after the restarts = %v", a)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
