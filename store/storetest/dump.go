package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/apikey/keystore"
	"github.com/usermgmt/usermgmt/dbtools/dump"
	"github.com/usermgmt/usermgmt/passkey/credstore"
)

var dumpCases = []testCase{
	{"ExportImportSelf", testDumpSelf},
	{"FillAndOverwrite", testDumpModes},
	{"BadDocuments", testDumpBad},
}

// Seed fills st with two users, a session and audit entries, with the kinds
// of values an export must carry: bytes, NULL, JSON lists, times.
// The store must have every capability (see Run).
func Seed(t *testing.T, store usermgmt.Store) {
	t.Helper()
	st := mustFull(t, store)
	ctx := context.Background()
	a, b := newUser(1), newUser(2)
	b.Roles = []string{"user", "admin"}
	b.BlockedUUIDs = []string{a.UUID}
	b.ProfilePictureID = nil
	b.Description = ""
	mustInsertUsers(t, st, a, b)
	s := newSession("sess-1", a.UUID, 1)
	if err := st.InsertSession(ctx, s); err != nil {
		t.Fatal(err)
	}
	for i, act := range []string{usermgmt.AuditRegister, usermgmt.AuditLogin, usermgmt.AuditBan} {
		if err := st.AppendAudit(ctx, &usermgmt.AuditEntry{Time: t0.Add(time.Duration(i) * time.Second), ActorUUID: b.UUID, SubjectUUID: a.UUID, Action: act, Detail: "d\"é\n", IP: "192.0.2.1"}); err != nil {
			t.Fatal(err)
		}
	}
	seedLater(t, st, a, b)
	if has[credstore.Store](store) {
		seedPasskeys(t, st, a)
	}
	if has[keystore.Store](store) {
		seedAPIKeys(t, st, a, b)
	}
}

// seedAPIKeys adds the rows of migration 0008: an API key of a, created
// by the admin b, used once, and one of b without scopes or expiry.
func seedAPIKeys(t *testing.T, st fullStore, a, b *usermgmt.User) {
	t.Helper()
	used := t0.Add(2 * time.Hour)
	k := newAPIKey(a.UUID, 2)
	k.CreatedBy, k.LastUsedAt, k.LastUsedIP = b.UUID, &used, "198.51.100.7"
	other := newAPIKey(b.UUID, 3)
	other.Scopes = nil
	mustInsertAPIKeys(t, st, k, other)
}

// seedPasskeys adds the rows of migration 0007: a passkey, which an
// export carries, and a pending ceremony, which it leaves out.
func seedPasskeys(t *testing.T, st fullStore, a *usermgmt.User) {
	t.Helper()
	used := t0.Add(time.Hour)
	p := newPasskey(a.UUID, 1)
	p.LastUsedAt = &used
	mustInsertPasskeys(t, st, p)
	if err := st.InsertCeremony(context.Background(), newCeremony(1, credstore.KindLogin, "", used)); err != nil {
		t.Fatal(err)
	}
}

// seedLater adds rows of the tables of migrations 0002 to 0005: those an
// export carries (recovery codes, a flag, files, an external identity) and
// those it leaves out (a one-time token, two-factor and lockout state, an
// OAuth flow, a pending file deletion).
func seedLater(t *testing.T, st fullStore, a, b *usermgmt.User) {
	t.Helper()
	ctx := context.Background()
	used := t0.Add(time.Hour)
	share := 0.25
	steps := []func() error{
		func() error {
			return st.ReplaceRecoveryCodes(ctx, a.UUID, []*usermgmt.RecoveryCode{
				{ID: "rc-1", UserUUID: a.UUID, CodeHash: []byte{0, 1, 2, 0xff}, CreatedAt: t0},
				{ID: "rc-2", UserUUID: a.UUID, CodeHash: []byte("hash-2"), UsedAt: &used, CreatedAt: t0},
			})
		},
		func() error { return st.PutFeatureFlag(ctx, "LOGIN", usermgmt.BoolFlag(false), t0) },
		func() error {
			return st.PutFeatureFlag(ctx, "READ_USERS", usermgmt.RuleFlag(usermgmt.FlagRule{PercentageOfUsers: &share, UserRoles: []string{"admin"}}), t0)
		},
		func() error {
			return st.InsertFile(ctx, &usermgmt.File{OwnerUUID: a.UUID, CreatedByUUID: b.UUID, FileName: "notes.txt", FileType: "txt",
				ContentType: "text/plain", Size: 5, SHA256: strings.Repeat("ab", 32), Description: "é\"x", StorageKey: a.UUID + "/notes.txt", CreatedAt: t0})
		},
		func() error {
			return st.InsertFile(ctx, &usermgmt.File{OwnerUUID: b.UUID, FileName: "pic.png", FileType: "png", ContentType: "image/png",
				StorageKey: b.UUID + "/pic.png", CreatedAt: t0.Add(time.Second)})
		},
		func() error {
			return st.InsertExternalIdentity(ctx, &usermgmt.ExternalIdentity{Provider: "github", Subject: "4242", UserUUID: a.UUID,
				Username: "octo", DisplayName: "Octo", Email: a.Email, PictureURL: "https://example.com/p.png",
				Tokens: []byte{9, 8, 7, 0}, CreatedAt: t0, UpdatedAt: used})
		},
		func() error {
			return st.InsertOneTimeToken(ctx, &usermgmt.OneTimeToken{ID: "ott-1", UserUUID: a.UUID, Purpose: usermgmt.PurposeResetPassword,
				TokenHash: []byte("token-hash"), ExpiresAt: used, CreatedAt: t0})
		},
		func() error {
			return st.SaveOTPState(ctx, &usermgmt.OTPState{UserUUID: a.UUID, LastStep: 7, Failures: 1})
		},
		func() error {
			_, err := st.CountLoginAttempt(ctx, b.UUID, t0, t0)
			return err
		},
		func() error {
			return st.InsertOAuthState(ctx, &usermgmt.OAuthState{StateHash: []byte("state-hash"), Provider: "github", CreatedAt: t0, ExpiresAt: used})
		},
		func() error {
			return st.AddFileDeletion(ctx, usermgmt.FileDeletion{Key: "gone/file", CreatedAt: t0})
		},
	}
	for i, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("seed step %d: %v", i, err)
		}
	}
}

// Export returns st's export with the fields that name its origin
// (exported_at, dialect) removed, so exports of two stores compare.
// The store must implement dump.Store.
func Export(t *testing.T, st usermgmt.Store) string {
	t.Helper()
	dump, ok := st.(dump.Store)
	if !ok {
		t.Fatalf("%T does not implement dump.Store", st)
	}
	var buf bytes.Buffer
	if err := dump.ExportAll(context.Background(), &buf); err != nil {
		t.Fatalf("ExportAll: %v", err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("export is not JSON: %v\n%s", err, buf.String())
	}
	if doc["format"] != "usermgmt-export" || doc["version"] != float64(1) {
		t.Fatalf("export header %v %v", doc["format"], doc["version"])
	}
	delete(doc, "exported_at")
	delete(doc, "dialect")
	out, _ := json.MarshalIndent(doc, "", " ")
	return string(out)
}

func testDumpSelf(t *testing.T, st fullStore) {
	Seed(t, st)
	before := Export(t, st)
	for _, want := range []string{`"roles": "[\"user\",\"admin\"]"`, `"profile_picture_id": null`, `"email_verified": true`, `"created_at": "2025-03-14T13:10:26.535897Z"`,
		`"name": "recovery_codes"`, `"code_hash": "AAEC/w=="`, `"name": "feature_flags"`, `"value": "false"`,
		`"name": "files"`, `"storage_key": "` + newUser(1).UUID + `/notes.txt"`, `"created_by_uuid": null`,
		`"name": "external_identities"`, `"tokens": "CQgHAA=="`,
		`"name": "passkeys"`, `"credential_id": "AP8BBw=="`, `"transports": "[\"usb\",\"hybrid\"]"`} {
		if !hasPasskeys(st) && strings.Contains(want, "passkey") {
			continue
		}
		if !strings.Contains(before, want) {
			t.Errorf("export lacks %s:\n%s", want, before)
		}
	}
	if hasAPIKeys(st) {
		for _, want := range []string{`"name": "api_keys"`, `"prefix": "um_pre00002"`, `"hash": "AP8CBwk="`, `"last_used_ip": "198.51.100.7"`} {
			if !strings.Contains(before, want) {
				t.Errorf("export lacks %s:\n%s", want, before)
			}
		}
	}
	// Short-lived secrets and transient counters stay behind.
	for _, absent := range []string{"one_time_tokens", "token-hash", "oauth_states", "passkey_ceremonies", "otp_state", "login_failures", "file_deletions", "feature_flags_version"} {
		if strings.Contains(before, absent) {
			t.Errorf("export carries %s:\n%s", absent, before)
		}
	}
	for _, mode := range []dump.Mode{dump.Fill, dump.Overwrite} {
		res, err := st.ImportAll(context.Background(), strings.NewReader(before), mode)
		if err != nil {
			t.Fatalf("ImportAll(%d): %v", mode, err)
		}
		for _, ti := range res.Tables {
			if ti.Inserted != 0 || ti.Updated != 0 {
				t.Errorf("mode %d re-import of itself changed %+v", mode, ti)
			}
		}
	}
	if after := Export(t, st); after != before {
		t.Fatalf("export changed by a re-import:\n%s\nvs\n%s", before, after)
	}
}

func testDumpModes(t *testing.T, st fullStore) {
	ctx := context.Background()
	Seed(t, st)
	var buf bytes.Buffer
	if err := st.ExportAll(ctx, &buf); err != nil {
		t.Fatal(err)
	}
	a, _ := st.UserByUUID(ctx, newUser(1).UUID)
	b, _ := st.UserByUUID(ctx, newUser(2).UUID)
	// Change a (a non-empty column) and empty b's blocked list; delete a session.
	a.DisplayName = "USER_001"
	a.Description = ""
	b.BlockedUUIDs = nil
	for _, u := range []*usermgmt.User{a, b} {
		if err := st.UpdateUser(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RevokeUserSessions(ctx, a.UUID, t0); err != nil {
		t.Fatal(err)
	}
	if err := st.AppendAudit(ctx, &usermgmt.AuditEntry{Time: t0, Action: "after-export"}); err != nil {
		t.Fatal(err)
	}

	// Fill: empty columns come back, changed ones stay.
	if _, err := st.ImportAll(ctx, bytes.NewReader(buf.Bytes()), dump.Fill); err != nil {
		t.Fatalf("fill: %v", err)
	}
	ga, _ := st.UserByUUID(ctx, a.UUID)
	gb, _ := st.UserByUUID(ctx, b.UUID)
	if ga.DisplayName != "USER_001" || ga.Description != "description of user 1" || len(gb.BlockedUUIDs) != 1 {
		t.Fatalf("after fill: %q %q %v", ga.DisplayName, ga.Description, gb.BlockedUUIDs)
	}
	s, _ := st.SessionByID(ctx, "sess-1")
	if s.RevokedAt == nil {
		t.Fatalf("fill cleared revoked_at")
	}

	// Overwrite: the upload's non-null values win.
	if _, err := st.ImportAll(ctx, bytes.NewReader(buf.Bytes()), dump.Overwrite); err != nil {
		t.Fatalf("overwrite: %v", err)
	}
	ga, _ = st.UserByUUID(ctx, a.UUID)
	if ga.DisplayName != "User_001" {
		t.Fatalf("after overwrite: %q", ga.DisplayName)
	}
	// The audit log is a record: an overwrite changes no entry.
	rewritten := strings.Replace(buf.String(), `"action":"register"`, `"action":"forged"`, -1)
	if rewritten == buf.String() {
		t.Fatal("the export has no register entry to rewrite")
	}
	if _, err := st.ImportAll(ctx, strings.NewReader(rewritten), dump.Overwrite); err != nil {
		t.Fatalf("overwrite of audit entries: %v", err)
	}
	if forged, err := st.Audit(ctx, usermgmt.AuditQuery{Actions: []string{"forged"}}); err != nil || len(forged) != 0 {
		t.Fatalf("an import rewrote %d audit entries (%v)", len(forged), err)
	}
	// Entries added after the export stay; new ones still get fresh IDs.
	es, err := st.Audit(ctx, usermgmt.AuditQuery{})
	if err != nil || len(es) != 4 {
		t.Fatalf("audit after import: %d entries, %v", len(es), err)
	}
	e := &usermgmt.AuditEntry{Time: t0, Action: "later"}
	if err := st.AppendAudit(ctx, e); err != nil || e.ID <= es[0].ID {
		t.Fatalf("append after import: id %d after %d, %v", e.ID, es[0].ID, err)
	}

	// A row conflicting on a unique column is a conflict, and nothing of
	// the import stays.
	doc := strings.Replace(buf.String(), newUser(1).UUID, "00000000-0000-4000-8000-00000000abcd", 1)
	_, err = st.ImportAll(ctx, strings.NewReader(doc), dump.Fill)
	if !errors.Is(err, usermgmt.ErrConflict) {
		t.Fatalf("conflicting import: %v, want a conflict", err)
	}
	if _, err := st.UserByUUID(ctx, "00000000-0000-4000-8000-00000000abcd"); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Fatalf("the failed import left a row: %v", err)
	}
}

func testDumpBad(t *testing.T, st fullStore) {
	for _, doc := range []string{
		``, `[]`, `{"format":"other","version":1}`, `{"format":"usermgmt-export","version":2}`,
		`{"format":"usermgmt-export","version":1,"tables":[{"name":"users","rows":[{"uuid":5}]}]}`,
		`{"format":"usermgmt-export","version":1,"tables":[{"name":"users","rows":[{"username":"x"}]}]}`,
		`{"format":"usermgmt-export","version":1,"tables":[{"name":"users","rows":[{"uuid":"x","created_at":"yesterday"}]}]}`,
		`{"format":"usermgmt-export","version":1,"tables":[{"name":"users","rows":[]},{"name":"users","rows":[]}]}`,
		`{"format":"usermgmt-export","version":1,"tables":[{"name":"sessions","rows":[{"id":"s","refresh_hash":"%%%"}]}]}`,
		// Flags the flag set could not load.
		`{"format":"usermgmt-export","version":1,"tables":[{"name":"feature_flags","rows":[{"name":"GOOD","value":"{not json","updated_at":"2026-01-02T03:04:05Z"}]}]}`,
		`{"format":"usermgmt-export","version":1,"tables":[{"name":"feature_flags","rows":[{"name":"bad name!","value":"true","updated_at":"2026-01-02T03:04:05Z"}]}]}`,
		// A required column missing, or a row whose parent is missing.
		`{"format":"usermgmt-export","version":1,"tables":[{"name":"audit_log","rows":[{"id":424242,"time":"2026-01-02T03:04:05Z"}]}]}`,
		`{"format":"usermgmt-export","version":1,"tables":[{"name":"sessions","rows":[{"id":"orphan","user_uuid":"00000000-0000-4000-8000-0000000fffff","created_at":"2026-01-02T03:04:05Z","rotated_at":"2026-01-02T03:04:05Z","expires_at":"2026-01-02T03:04:05Z"}]}]}`,
	} {
		if _, err := st.ImportAll(context.Background(), strings.NewReader(doc), dump.Fill); !errors.Is(err, dump.ErrBadExport) {
			t.Errorf("ImportAll(%s) = %v, want ErrBadExport", doc, err)
		}
	}
	// Unknown tables and columns are skipped.
	doc := `{"format":"usermgmt-export","version":1,"tables":[{"name":"nope","rows":[{"a":1}]}]}`
	if _, err := st.ImportAll(context.Background(), strings.NewReader(doc), dump.Fill); err != nil {
		t.Errorf("unknown table: %v", err)
	}
}
