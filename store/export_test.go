package store_test

import (
	"bytes"
	"context"
	"path/filepath"
	"reflect"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/storetest"
)

// TestExportRoundTrip moves a database SQLite → PostgreSQL → SQLite through
// exports: every export is the same document.
func TestExportRoundTrip(t *testing.T) {
	ctx := context.Background()
	sqlite1 := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "a.db"))
	defer sqlite1.Close()
	pg := openStore(t, testpg.DSN(t))
	defer pg.Close()
	sqlite2 := openStore(t, "sqlite://"+filepath.Join(t.TempDir(), "b.db"))
	defer sqlite2.Close()

	storetest.Seed(t, sqlite1)
	want := storetest.Export(t, sqlite1)
	copyInto := func(from, to *store.DB) {
		t.Helper()
		var buf bytes.Buffer
		if err := from.ExportAll(ctx, &buf); err != nil {
			t.Fatal(err)
		}
		res, err := to.ImportAll(ctx, &buf, dbtools.ImportFill)
		if err != nil {
			t.Fatalf("ImportAll: %v", err)
		}
		for _, ti := range res.Tables {
			if ti.Updated != 0 || ti.Unchanged != 0 || ti.Inserted == 0 {
				t.Fatalf("import into an empty database: %+v", res.Tables)
			}
		}
	}
	copyInto(sqlite1, pg)
	if got := storetest.Export(t, pg); got != want {
		t.Fatalf("PostgreSQL export differs:\n%s\nwant\n%s", got, want)
	}
	copyInto(pg, sqlite2)
	if got := storetest.Export(t, sqlite2); got != want {
		t.Fatalf("second SQLite export differs:\n%s\nwant\n%s", got, want)
	}
	// The data, not only the document, survived.
	for _, st := range []*store.DB{pg, sqlite2} {
		a, err := sqlite1.ListUsers(ctx, usermgmt.UserQuery{})
		if err != nil {
			t.Fatal(err)
		}
		b, err := st.ListUsers(ctx, usermgmt.UserQuery{})
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(a, b) {
			t.Fatalf("users differ after the round trip")
		}
		fa, err := sqlite1.ListFiles(ctx, usermgmt.FileQuery{})
		if err != nil {
			t.Fatal(err)
		}
		fb, err := st.ListFiles(ctx, usermgmt.FileQuery{})
		if err != nil || len(fa) != 2 || !reflect.DeepEqual(fa, fb) {
			t.Fatalf("files differ after the round trip: %v", err)
		}
		xa, _ := sqlite1.ExternalIdentity(ctx, "github", "4242")
		xb, err := st.ExternalIdentity(ctx, "github", "4242")
		if err != nil || !reflect.DeepEqual(xa, xb) {
			t.Fatalf("external identity differs after the round trip: %v", err)
		}
		ra, _ := sqlite1.RecoveryCodes(ctx, xa.UserUUID)
		rb, err := st.RecoveryCodes(ctx, xa.UserUUID)
		if err != nil || len(ra) == 0 || !reflect.DeepEqual(ra, rb) {
			t.Fatalf("recovery codes differ after the round trip: %v %v, %v", ra, rb, err)
		}
		ga, _ := sqlite1.FeatureFlags(ctx)
		gb, err := st.FeatureFlags(ctx)
		if err != nil || len(ga) != 2 || !reflect.DeepEqual(ga, gb) {
			t.Fatalf("flags differ after the round trip: %v %v, %v", ga, gb, err)
		}
		// The instances of the target database see the new flags.
		if v, err := st.FeatureFlagsVersion(ctx); err != nil || v == 0 {
			t.Fatalf("flags version after the import: %d, %v", v, err)
		}
	}
}

func TestExportTables(t *testing.T) {
	got := store.ExportTables()
	if len(got) < 3 || got[0] != "users" {
		t.Fatalf("ExportTables() = %v", got)
	}
}
