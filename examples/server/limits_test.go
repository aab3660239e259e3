package main

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/usermgmt/usermgmt/internal/testredis"
)

// The server imports FEATURE_FLAGS_FILE and gates routes with
// FEATURE_FLAGS_ENABLED, and limits clients per RATE_LIMITER_*, in memory
// and over REDIS_URL.
func TestServerFlagsAndLimits(t *testing.T) {
	flags := filepath.Join(t.TempDir(), "flags.json")
	if err := os.WriteFile(flags, []byte(`{"_VERSION": false, "REGISTER": [{"userRoles": ["admin"]}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	_, prefix := testredis.Client(t) // this test's keys, deleted at its end
	tests := []struct {
		name string
		vars map[string]string
	}{
		{"memory", map[string]string{}},
		{"redis", map[string]string{"REDIS_URL": testredis.URL(t), "REDIS_FAILURE_MODE": "closed", "REDIS_KEY_PREFIX": prefix}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			vars := map[string]string{
				"FEATURE_FLAGS_ENABLED":       "true",
				"FEATURE_FLAGS_FILE":          flags,
				"RATE_LIMITER_ENABLED":        "true",
				"RATE_LIMITER_MAX_REQUESTS":   "4",
				"RATE_LIMITER_WINDOW_SECONDS": "3600",
			}
			for k, v := range tt.vars {
				vars[k] = v
			}
			s := startServer(t, vars)
			s.do(t, "GET", "/version", "", nil, 403, nil)
			s.do(t, "POST", "/api/auth/register", "", nil, 403, nil)
			s.do(t, "GET", "/ping", "", nil, 200, nil)
			s.do(t, "GET", "/ping", "", nil, 200, nil)
			s.do(t, "GET", "/ping", "", nil, 429, nil)
		})
	}
}
