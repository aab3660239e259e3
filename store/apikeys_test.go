package store_test

import (
	"context"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt/apikey/keystore"
)

// TestAPIKeyLookupIsOneIndexedQuery checks the API-key hot path: a key is
// found by its prefix in one statement that SQLite answers from the
// prefix's unique index.
func TestAPIKeyLookupIsOneIndexedQuery(t *testing.T) {
	db := openStore(t, "sqlite://"+t.TempDir()+"/hot.db")
	defer closeStore(t, db)
	ctx := context.Background()
	u := user(1)
	if err := db.InsertUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	k := &keystore.Key{ID: "k1", UserUUID: u.UUID, Name: "ci", Prefix: "um_abcdefgh", Hash: make([]byte, 32), CreatedAt: time.Now()}
	if err := db.InsertAPIKey(ctx, k); err != nil {
		t.Fatal(err)
	}
	log := &queryLog{}
	db.Bun().AddQueryHook(log)
	if _, err := db.APIKeyByPrefix(ctx, k.Prefix); err != nil {
		t.Fatal(err)
	}
	queries := log.take()
	if len(queries) != 1 {
		t.Fatalf("APIKeyByPrefix sent %d statements, want 1: %q", len(queries), queries)
	}
	plan := queryPlan(t, db, queries[0])
	if !strings.Contains(plan, "sqlite_autoindex_api_keys_2") || strings.Contains(plan, "SCAN ") {
		t.Errorf("plan %q does not use the prefix's index\nquery: %s", plan, queries[0])
	}
}

// TestAPIKeyFeatureNotLinked: the store implements the API keys'
// interface through apikey/keystore alone, so that it links neither the
// feature nor httpadapter; the core links neither.
func TestAPIKeyFeatureNotLinked(t *testing.T) {
	const mod = "github.com/usermgmt/usermgmt"
	for _, pkg := range []string{mod, mod + "/store"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == mod+"/apikey" || dep == mod+"/httpadapter" {
				t.Errorf("%s links %s", pkg, dep)
			}
		}
	}
}

// TestWebhookFeatureNotLinked: the store implements the outbox through
// webhook/hookstore alone; neither it nor the core links the feature.
func TestWebhookFeatureNotLinked(t *testing.T) {
	const mod = "github.com/usermgmt/usermgmt"
	for _, pkg := range []string{mod, mod + "/store"} {
		out, err := exec.Command("go", "list", "-deps", pkg).Output()
		if err != nil {
			t.Fatalf("go list -deps %s: %v", pkg, err)
		}
		for _, dep := range strings.Fields(string(out)) {
			if dep == mod+"/webhook" || dep == mod+"/webhook/verify" {
				t.Errorf("%s links %s", pkg, dep)
			}
		}
	}
}
