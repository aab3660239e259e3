// Package testredis gives tests a Redis server and a key prefix of their
// own.
//
// The server is named by the environment variable USERMGMT_TEST_REDIS, a
// URL such as redis://127.0.0.1:6379/0 (scripts/test starts a throwaway
// server and sets it). Without it, tests that need Redis skip, except in CI
// (CI=true), where they fail: a missing Redis must never pass unnoticed
// there.
package testredis

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// EnvVar names the URL of the test server.
const EnvVar = "USERMGMT_TEST_REDIS"

// URL returns the test server's URL, skipping (or failing in CI) when it
// is not set.
func URL(t testing.TB) string {
	t.Helper()
	u := os.Getenv(EnvVar)
	if u == "" {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("testredis: %s is not set: in CI the tests that need Redis must run (use scripts/test)", EnvVar)
		}
		t.Skipf("testredis: %s is not set; run scripts/test to start a throwaway Redis", EnvVar)
	}
	return u
}

// Client returns a client of the test server, closed when the test ends,
// and a fresh key prefix ("test:<random>:") whose keys are deleted then.
func Client(t testing.TB) (*redis.Client, string) {
	t.Helper()
	o, err := redis.ParseURL(URL(t))
	if err != nil {
		t.Fatalf("testredis: %s is not a redis:// URL", EnvVar)
	}
	c := redis.NewClient(o)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("testredis: ping: %v", err)
	}
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testredis: random prefix: %v", err)
	}
	prefix := "test:" + hex.EncodeToString(b[:]) + ":"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			c.Del(ctx, iter.Val())
		}
		_ = c.Close()
	})
	return c, prefix
}
