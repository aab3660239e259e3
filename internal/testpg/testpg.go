// Package testpg gives tests a fresh PostgreSQL database each.
//
// The server is named by the environment variable USERMGMT_TEST_POSTGRES, an
// admin DSN such as postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
// (scripts/test starts a throwaway server and sets it). Without it, tests
// that need PostgreSQL skip, except in CI (CI=true), where they fail: a
// missing database must never pass unnoticed there.
package testpg

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers the "pgx" driver
)

// EnvVar names the admin DSN of the test server.
const EnvVar = "USERMGMT_TEST_POSTGRES"

// DSN creates an empty database usermgmt_test_<random> on the test server and
// returns a postgres:// DSN to it; the database is dropped (WITH (FORCE),
// so connections left open do not block it) when the test ends.
func DSN(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(EnvVar)
	if admin == "" {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" && ci != "0" {
			t.Fatalf("testpg: %s is not set: in CI the tests that need PostgreSQL must run (use scripts/test)", EnvVar)
		}
		t.Skipf("testpg: %s is not set; run scripts/test to start a throwaway PostgreSQL", EnvVar)
	}
	u, err := url.Parse(admin)
	if err != nil || (u.Scheme != "postgres" && u.Scheme != "postgresql") {
		// Do not print the DSN: it may carry a password.
		t.Fatalf("testpg: %s is not a postgres:// URL", EnvVar)
	}

	name := "usermgmt_test_" + randomSuffix(t)
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	db, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatalf("testpg: open admin connection: %v", err)
	}
	defer db.Close()
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+name); err != nil {
		t.Fatalf("testpg: create database %s: %v", name, err)
	}

	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		db, err := sql.Open("pgx", admin)
		if err != nil {
			t.Errorf("testpg: open admin connection: %v", err)
			return
		}
		defer db.Close()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)"); err != nil {
			t.Errorf("testpg: drop database %s: %v", name, err)
		}
	})

	u.Path = "/" + name
	return u.String()
}

// randomSuffix returns 16 lower-case hex digits (a valid, unquoted
// identifier part).
func randomSuffix(t testing.TB) string {
	var b [8]byte
	if _, err := rand.Read(b[:]); err != nil {
		t.Fatalf("testpg: random name: %v", err)
	}
	return hex.EncodeToString(b[:])
}
