package hashers_test

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
	"github.com/usermgmt/usermgmt/hashers"
	"github.com/usermgmt/usermgmt/internal/testpg"
	"github.com/usermgmt/usermgmt/mail"
	"github.com/usermgmt/usermgmt/store"
	"github.com/usermgmt/usermgmt/store/postgres"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// eachStore runs f on a fresh SQLite and a fresh PostgreSQL store, each
// in a subtest (testpg skips the PostgreSQL one without a server, and
// fails it in CI).
func eachStore(t *testing.T, f func(t *testing.T, st *store.DB)) {
	ctx := context.Background()
	t.Run("sqlite", func(t *testing.T) {
		st, err := sqlite.Open(ctx, ":memory:")
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		f(t, st)
	})
	t.Run("postgres", func(t *testing.T) {
		st, err := postgres.Open(ctx, testpg.DSN(t))
		if err != nil {
			t.Fatal(err)
		}
		defer st.Close()
		f(t, st)
	})
}

func manager(t *testing.T, st *store.DB, h usermgmt.Hasher, opts ...usermgmt.Option) *usermgmt.Manager {
	t.Helper()
	if h != nil {
		opts = append(opts, usermgmt.WithHasher(h))
	}
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("a secret of at least 16 bytes, better 32"), BcryptCost: 4}, opts...)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	return m
}

// oneOfEach returns the first vector of each format from testdata.
func oneOfEach(t *testing.T) map[string][2]string {
	t.Helper()
	f, err := os.Open("testdata/vectors.tsv")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	out := map[string][2]string{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		p := strings.Split(sc.Text(), "\t")
		if p[0] == hashers.SchemeFirebaseScrypt {
			continue // needs FirebaseParams.Encode; covered in the unit tests
		}
		if _, ok := out[p[0]]; !ok {
			out[p[0]] = [2]string{p[1], p[2]}
		}
	}
	return out
}

func rehashAudits(t *testing.T, m *usermgmt.Manager, st *store.DB, uuid string) int {
	t.Helper()
	es, err := st.Audit(context.Background(), usermgmt.AuditQuery{SubjectUUID: uuid, Actions: []string{usermgmt.AuditPasswordRehash}})
	if err != nil {
		t.Fatal(err)
	}
	return len(es)
}

// Users created with a foreign hash log in with their old password; the
// login rehashes to argon2id in its transaction, audited once; the next
// login verifies the new hash and writes nothing more. On both databases.
func TestLoginRehashesForeignHashes(t *testing.T) {
	ctx := context.Background()
	eachStore(t, func(t *testing.T, st *store.DB) {
		{
			h, err := hashers.New(hashers.Options{Algorithm: hashers.Argon2id, MaxConcurrent: 2})
			if err != nil {
				t.Fatal(err)
			}
			m := manager(t, st, h)
			i := 0
			for format, v := range oneOfEach(t) {
				i++
				name := "user_" + strings.ReplaceAll(format, "_", "") + string(rune('a'+i))
				u, err := m.CreateUser(ctx, usermgmt.NewUser{Username: name, Email: name + "@example.com", PasswordHash: v[1]})
				if err != nil {
					t.Fatalf("%s: %v", format, err)
				}
				if _, err := m.Login(ctx, name, v[0]+"!"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
					t.Errorf("%s: wrong password = %v", format, err)
				}
				if _, err := m.Login(ctx, name, v[0]); err != nil {
					t.Fatalf("%s: login with the old password: %v", format, err)
				}
				got, _ := st.UserByUUID(ctx, u.UUID)
				if !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") {
					t.Errorf("%s: hash after login = %.40s", format, got.PasswordHash)
				}
				if _, err := m.Login(ctx, name, v[0]); err != nil {
					t.Fatalf("%s: login after the rehash: %v", format, err)
				}
				want := 1
				if !h.NeedsRehash(v[1]) { // argon2id of the current parameters stays
					want = 0
					if got.PasswordHash != v[1] {
						t.Errorf("%s: a current hash was replaced", format)
					}
				}
				if n := rehashAudits(t, m, st, u.UUID); n != want {
					t.Errorf("%s: %d rehash audit entries, want %d", format, n, want)
				}
				es, _ := st.Audit(ctx, usermgmt.AuditQuery{SubjectUUID: u.UUID, Actions: []string{usermgmt.AuditPasswordRehash}})
				if len(es) == 1 && es[0].Detail != "from="+format+" to=argon2id" {
					t.Errorf("%s: rehash detail %q", format, es[0].Detail)
				}
			}
			for _, bad := range []string{"$2b$31$0123456789ABCDEFGHIJKupb5UqG1Hv51Waxiq1a2YwqGBvVz7lj2", "md5$abc", "$argon2id$v=19$m=4194304,t=2,p=1$c29tZXNhbHR2YWx1ZQ$POzBpd2z+GmuLn1ZTFr1R4tdvZ1IrZEDwzLs2/RrYnc"} {
				if _, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "bad_hash", Email: "bad@example.com", PasswordHash: bad}); !errors.Is(err, usermgmt.ErrInvalidPasswordHash) {
					t.Errorf("CreateUser(%.20s) = %v, want ErrInvalidPasswordHash", bad, err)
				}
			}
		}
	})
}

// The database import refuses a users row whose hash is unknown, malformed
// or absurd, naming the row, and imports nothing; with good hashes the
// imported users log in with their old passwords.
func TestImportChecksHashes(t *testing.T) {
	ctx := context.Background()
	eachStore(t, func(t *testing.T, st *store.DB) {
		{
			src, err := sqlite.Open(ctx, ":memory:")
			if err != nil {
				t.Fatal(err)
			}
			defer src.Close()
			srcTools := dbtools.New(dbtools.Options{})
			from := manager(t, src, nil, usermgmt.WithFeature(srcTools))
			vs := oneOfEach(t)
			names := map[string]string{}
			i := 0
			for format, v := range vs {
				i++
				name := "imp_" + strings.ReplaceAll(format, "_", "") + string(rune('a'+i))
				names[name] = v[0]
				if _, err := from.CreateUser(ctx, usermgmt.NewUser{Username: name, Email: name + "@example.com", PasswordHash: v[1]}); err != nil {
					t.Fatal(err)
				}
			}
			var buf bytes.Buffer
			if err := srcTools.Export(ctx, &buf); err != nil {
				t.Fatal(err)
			}
			h, err := hashers.New(hashers.Options{MaxConcurrent: 2})
			if err != nil {
				t.Fatal(err)
			}
			tools := dbtools.New(dbtools.Options{})
			to := manager(t, st, h, usermgmt.WithFeature(tools))

			var doc map[string]any
			if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
				t.Fatal(err)
			}
			for _, tb := range doc["tables"].([]any) {
				tb := tb.(map[string]any)
				if tb["name"] == "users" {
					tb["rows"].([]any)[2].(map[string]any)["password_hash"] = "$2b$31$0123456789ABCDEFGHIJKupb5UqG1Hv51Waxiq1a2YwqGBvVz7lj2"
				}
			}
			bad, _ := json.Marshal(doc)
			_, err = tools.Import(ctx, bytes.NewReader(bad), dbtools.ImportFill)
			var ue *usermgmt.Error
			if !errors.As(err, &ue) || ue.Code != "invalid_password_hash" || ue.Params["row"] != 3 || !strings.Contains(ue.Message, "Row 3 ") {
				t.Fatalf("import with a bad row = %#v", err)
			}
			if n, _ := to.CountUsers(ctx); n != 0 {
				t.Errorf("%d users imported from a refused document", n)
			}
			if _, err := tools.Import(ctx, &buf, dbtools.ImportFill); err != nil {
				t.Fatal(err)
			}
			for name, pw := range names {
				if _, err := to.Login(ctx, name, pw); err != nil {
					t.Errorf("imported %s: %v", name, err)
				}
			}
		}
	})
}

// A login that stops at the second factor rehashes too: the second step
// never sees the password, so the first one replaces the hash once the
// password is proven, audited once; the challenge is answered as before,
// and the next login verifies the new hash. On both databases.
func TestRehashBeforeSecondFactor(t *testing.T) {
	ctx := context.Background()
	eachStore(t, func(t *testing.T, st *store.DB) {
		h, err := hashers.New(hashers.Options{Algorithm: hashers.Argon2id, MaxConcurrent: 2})
		if err != nil {
			t.Fatal(err)
		}
		m := manager(t, st, h, usermgmt.WithMailer(&mail.Memory{}))
		v := oneOfEach(t)[hashers.SchemePBKDF2SHA256]
		u, err := m.CreateUser(ctx, usermgmt.NewUser{Username: "two_factor", Email: "tf@example.com", EmailVerified: true, PasswordHash: v[1]})
		if err != nil {
			t.Fatal(err)
		}
		n := *u
		n.OTPMethod = usermgmt.OTPEmail
		if err := st.UpdateUser(ctx, &n); err != nil {
			t.Fatal(err)
		}
		m.ForgetCached(u.UUID)
		var challenge *usermgmt.OTPChallengeError
		if _, err := m.Login(ctx, "two_factor", v[0]+"x"); !errors.Is(err, usermgmt.ErrInvalidLogin) {
			t.Fatalf("wrong password = %v", err)
		}
		if got, _ := st.UserByUUID(ctx, u.UUID); got.PasswordHash != v[1] || rehashAudits(t, m, st, u.UUID) != 0 {
			t.Fatal("a wrong password rehashed")
		}
		if _, err := m.Login(ctx, "two_factor", v[0]); !errors.As(err, &challenge) || challenge.Token == "" {
			t.Fatalf("login = %v, want the second-factor challenge", err)
		}
		got, _ := st.UserByUUID(ctx, u.UUID)
		if !strings.HasPrefix(got.PasswordHash, "$argon2id$v=19$m=19456,t=2,p=1$") || got.OTPMethod != usermgmt.OTPEmail {
			t.Fatalf("after the first step: hash %.40s, otp %s", got.PasswordHash, got.OTPMethod)
		}
		if n := rehashAudits(t, m, st, u.UUID); n != 1 {
			t.Fatalf("%d rehash entries, want 1", n)
		}
		if _, err := m.Login(ctx, "two_factor", v[0]); !errors.As(err, &challenge) {
			t.Fatalf("login with the new hash = %v", err)
		}
		if n := rehashAudits(t, m, st, u.UUID); n != 1 {
			t.Fatalf("%d rehash entries after a second login, want 1", n)
		}
	})
}
