package httpadapter_test

import (
	"bytes"
	"context"
	"mime/multipart"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/dbtools"
)

func TestAdminAudit(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		mod := e.user("mod_user", usermgmt.RoleModerator)
		jane := e.register("jane_doe")
		e.clock.Advance(10 * time.Minute)
		e.do(request{method: "POST", path: "/api/admin/ban/" + jane.uuid, token: mod.AccessToken, form: url.Values{"reason": {"spam"}}}).wantStatus(t, 200)
		e.do(request{method: "POST", path: "/api/admin/unban/" + jane.uuid, token: admin.AccessToken}).wantStatus(t, 200)

		type page struct {
			Entries []struct {
				ID          int64  `json:"id"`
				Time        string `json:"time"`
				ActorUUID   string `json:"actor_uuid"`
				SubjectUUID string `json:"subject_uuid"`
				Action      string `json:"action"`
				Detail      string `json:"detail"`
			} `json:"entries"`
			NextCursor *string `json:"next_cursor"`
		}
		get := func(q url.Values) page {
			t.Helper()
			r := e.do(request{method: "GET", path: "/api/admin/audit?" + q.Encode(), token: admin.AccessToken})
			r.wantStatus(t, 200)
			var p page
			r.decode(t, &p)
			return p
		}
		p := get(url.Values{"subject": {jane.uuid}})
		if len(p.Entries) < 3 || p.Entries[0].Action != usermgmt.AuditUnban || p.Entries[1].Action != usermgmt.AuditBan || p.NextCursor != nil {
			t.Fatalf("subject page %+v", p)
		}
		p = get(url.Values{"actor": {mod.uuid}, "action": {usermgmt.AuditBan}})
		if len(p.Entries) != 1 || p.Entries[0].Detail != "spam" || p.Entries[0].SubjectUUID != jane.uuid {
			t.Fatalf("actor page %+v", p)
		}
		since := e.clock.Now().Add(-time.Minute).Format(time.RFC3339)
		p = get(url.Values{"since": {since}})
		if len(p.Entries) != 2 {
			t.Fatalf("since page %+v", p)
		}
		p = get(url.Values{"until": {since}, "action": {usermgmt.AuditLogin}})
		if len(p.Entries) != 2 { // admin's and mod's logins
			t.Fatalf("until page %+v", p)
		}

		// Cursor pages, one entry at a time, cover the log once.
		all := get(url.Values{"limit": {"1000"}})
		var walked []int64
		q := url.Values{"limit": {"2"}}
		for {
			p := get(q)
			for _, en := range p.Entries {
				walked = append(walked, en.ID)
			}
			if p.NextCursor == nil {
				break
			}
			q.Set("cursor", *p.NextCursor)
		}
		if len(walked) != len(all.Entries) {
			t.Fatalf("walked %d entries, the log has %d", len(walked), len(all.Entries))
		}

		// Refusals.
		for _, bad := range []string{"since=yesterday", "cursor=%%%", "cursor=abc", "limit=x", "limit=5000", "actor=nope",
			"since=2025-01-02T00:00:00Z&until=2025-01-01T00:00:00Z"} {
			r := e.do(request{method: "GET", path: "/api/admin/audit?" + bad, token: admin.AccessToken})
			if r.status != 400 && r.status != 422 {
				t.Errorf("%s: %s, want 400 or 422", bad, r)
			}
		}
		e.do(request{method: "GET", path: "/api/admin/audit", token: mod.AccessToken}).wantError(t, 403, "forbidden")
		bob := e.register("bob_smith")
		e.do(request{method: "GET", path: "/api/admin/audit", token: bob.AccessToken}).wantError(t, 403, "forbidden")
	})
}

func TestUserSearchAndCursor(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		e.clock.Advance(time.Second)
		for _, n := range []string{"anna_one", "anna_two", "annabel_x", "bob_smith", "carl_anna"} {
			e.user(n)
			e.clock.Advance(time.Second)
		}
		list := func(q url.Values) ([]string, string) {
			t.Helper()
			r := e.do(request{method: "GET", path: "/api/user/?" + q.Encode(), token: admin.AccessToken})
			r.wantStatus(t, 200)
			var us []map[string]any
			r.decode(t, &us)
			var names []string
			for _, u := range us {
				names = append(names, u["username"].(string))
			}
			return names, r.header.Get("X-Next-Cursor")
		}
		names, next := list(url.Values{"search": {"Anna_"}})
		if strings.Join(names, " ") != "anna_one anna_two" || next != "" {
			t.Fatalf("search anna_ = %v, next %q", names, next)
		}
		names, _ = list(url.Values{"search": {"carl_anna@"}})
		if strings.Join(names, " ") != "carl_anna" {
			t.Fatalf("email search = %v", names)
		}
		names, next = list(url.Values{"limit": {"2"}})
		var all []string
		all = append(all, names...)
		for next != "" {
			names, next = list(url.Values{"limit": {"2"}, "cursor": {next}})
			all = append(all, names...)
		}
		if strings.Join(all, " ") != "admin_user anna_one anna_two annabel_x bob_smith carl_anna" {
			t.Fatalf("walked %v", all)
		}
		e.do(request{method: "GET", path: "/api/user/?cursor=bad", token: admin.AccessToken}).wantError(t, 422, "invalid_request")
		e.do(request{method: "GET", path: "/api/user/?search=" + strings.Repeat("a", 300), token: admin.AccessToken}).wantError(t, 400, "invalid_input")
	})
}

// upload builds a multipart body with the field file.
func upload(t *testing.T, content []byte) (string, *bytes.Buffer) {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	fw, err := mw.CreateFormFile("file", "../../etc/passwd")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = fw.Write(content)
	_ = mw.Close()
	return mw.FormDataContentType(), &buf
}

func TestDatabaseExportImport(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		mod := e.user("mod_user", usermgmt.RoleModerator)
		jane := e.register("jane_doe")
		e.do(request{method: "PATCH", path: "/api/user/" + jane.uuid, token: jane.AccessToken, json: map[string]any{"description": "hello"}}).wantStatus(t, 200)

		r := e.do(request{method: "GET", path: "/api/db/export", token: admin.AccessToken})
		r.wantStatus(t, 200)
		if !strings.HasPrefix(r.header.Get("Content-Disposition"), "attachment;") || !strings.Contains(string(r.body), `"format":"usermgmt-export"`) {
			t.Fatalf("export %s %s", r.header, r.body[:min(len(r.body), 200)])
		}
		exported := r.body
		e.do(request{method: "GET", path: "/api/db/export", token: mod.AccessToken}).wantError(t, 403, "forbidden")
		e.do(request{method: "GET", path: "/api/db/export", token: jane.AccessToken}).wantError(t, 403, "forbidden")

		// Change jane, then import (fill: her new description stays) and
		// recover (the export's wins).
		e.do(request{method: "PATCH", path: "/api/user/" + jane.uuid, token: jane.AccessToken, json: map[string]any{"description": "changed"}}).wantStatus(t, 200)
		post := func(path, token string, body []byte) result {
			ct, buf := upload(t, body)
			req := httptest.NewRequest("POST", path, buf)
			req.Header.Set("Content-Type", ct)
			req.Header.Set("Authorization", "Bearer "+token)
			return serve(t, e.h, req)
		}
		description := func() string {
			u, err := e.m.User(t.Context(), jane.uuid)
			if err != nil {
				t.Fatal(err)
			}
			return u.Description
		}
		post("/api/db/import", admin.AccessToken, exported).wantStatus(t, 200)
		if d := description(); d != "changed" {
			t.Fatalf("after import: %q", d)
		}
		r = post("/api/db/recover", admin.AccessToken, exported)
		r.wantStatus(t, 200)
		if !strings.Contains(string(r.body), `"table":"users"`) {
			t.Fatalf("recover answer %s", r.body)
		}
		if d := description(); d != "hello" {
			t.Fatalf("after recover: %q", d)
		}
		// Both are in the audit log, by the admin.
		for _, action := range []string{dbtools.AuditDatabaseExport, dbtools.AuditDatabaseImport} {
			es, err := e.m.Audit(t.Context(), usermgmt.AuditQuery{ActorUUID: admin.uuid, Actions: []string{action}})
			if err != nil || len(es) == 0 {
				t.Fatalf("no %s entry: %v", action, err)
			}
		}
		// JSON body too.
		e.do(request{method: "POST", path: "/api/db/import", token: admin.AccessToken, raw: string(exported), contentType: "application/json"}).wantStatus(t, 200)

		// Refusals.
		post("/api/db/import", mod.AccessToken, exported).wantError(t, 403, "forbidden")
		post("/api/db/recover", jane.AccessToken, exported).wantError(t, 403, "forbidden")
		post("/api/db/import", admin.AccessToken, []byte(`{"format":"x"}`)).wantError(t, 400, "invalid_export")
		post("/api/db/import", admin.AccessToken, []byte(`not json`)).wantError(t, 400, "invalid_export")
		e.do(request{method: "POST", path: "/api/db/import", token: admin.AccessToken, form: url.Values{"a": {"b"}}}).wantError(t, 415, "unsupported_media_type")
		e.do(request{method: "POST", path: "/api/db/import", token: admin.AccessToken, multipart: url.Values{"other": {"b"}}}).wantError(t, 422, "invalid_request")
	})
}

func TestImportSizeLimit(t *testing.T) {
	e := newEnvWith(t, "sqlite://"+t.TempDir()+"/db.sqlite", baseURL, httpadapterOptions(0), dbtools.New(dbtools.Options{MaxImportBytes: 1000}))
	admin := e.user("admin_user", usermgmt.RoleAdmin)
	big := `{"format":"usermgmt-export","version":1,"tables":[],"pad":"` + strings.Repeat("x", 2000) + `"}`
	e.do(request{method: "POST", path: "/api/db/import", token: admin.AccessToken, raw: big, contentType: "application/json"}).wantError(t, 413, "request_too_large")
	small := `{"format":"usermgmt-export","version":1,"tables":[]}`
	e.do(request{method: "POST", path: "/api/db/import", token: admin.AccessToken, raw: small, contentType: "application/json"}).wantStatus(t, 200)
	// Other routes keep the general limit (1 MiB), larger than this one.
	e.do(request{method: "PATCH", path: "/api/user/" + admin.uuid, token: admin.AccessToken, json: map[string]any{"description": strings.Repeat("y", 200)}}).wantStatus(t, 200)
}

func TestUserSelfExport(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		jane := e.register("jane_doe")
		bob := e.register("bob_smith")
		e.upload("POST", "/api/file/?description=my%20notes", jane.AccessToken, "notes.txt", []byte("hello")).wantStatus(t, 200)
		e.upload("POST", "/api/file/", bob.AccessToken, "bobs.txt", []byte("other")).wantStatus(t, 200)
		now := e.clock.Now()
		if err := e.m.Config().Store.(usermgmt.ExternalStore).InsertExternalIdentity(context.Background(), &usermgmt.ExternalIdentity{
			Provider: "github", Subject: "4242", UserUUID: jane.uuid, Username: "janeocto", Email: "jane@github.example",
			Tokens: []byte("sealed-provider-token"), CreatedAt: now, UpdatedAt: now,
		}); err != nil {
			t.Fatal(err)
		}
		// An admin's change is listed, without the admin's address.
		admin := e.user("admin_user", usermgmt.RoleAdmin)
		e.from("198.51.100.7:1", request{method: "PATCH", path: "/api/user/" + jane.uuid, token: admin.AccessToken,
			json: map[string]any{"description": "edited by staff"}}).wantStatus(t, 200)
		r := e.do(request{method: "GET", path: "/api/user/me/export", token: jane.AccessToken})
		r.wantStatus(t, 200)
		body := string(r.body)
		if !strings.Contains(body, admin.uuid) || strings.Contains(body, "198.51.100.7") || !strings.Contains(body, `"ip":"192.0.2.1"`) {
			t.Errorf("the export shows another actor's address, or not the user's own: %s", body)
		}
		for _, want := range []string{jane.uuid, `"username":"jane_doe"`, `"sessions":[{`, `"action":"register"`,
			`"two_factor":{"method":"none"}`, `"file_name":"notes.txt"`, `"description":"my notes"`, `"size":5`,
			`"external_accounts":[{"provider":"github","subject":"4242","username":"janeocto"`} {
			if !strings.Contains(body, want) {
				t.Errorf("export lacks %s: %s", want, body)
			}
		}
		for _, secret := range []string{"$2a$", "PasswordHash", "OTPSecret", "refresh", "bobs.txt", "storage", "c2VhbGVk", "sealed", "Tokens", "recovery"} {
			if strings.Contains(body, secret) {
				t.Errorf("export carries %s: %s", secret, body)
			}
		}
		e.do(request{method: "GET", path: "/api/user/me/export"}).wantError(t, 401, "not_authenticated")
	})
}
