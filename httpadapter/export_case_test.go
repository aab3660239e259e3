package httpadapter_test

import (
	"context"
	"encoding/json"
	"regexp"
	"testing"

	"github.com/usermgmt/usermgmt"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestUserSelfExportSnakeCase: every key of GET /user/me/export, at any
// depth, is spelled in snake_case, with every part of the export filled
// (a session, audit entries, a file, a linked account, a picture), so no
// Go field name (UUID, DisplayName, ActorUUID) slips through.
func TestUserSelfExportSnakeCase(t *testing.T) {
	e := newEnv(t, backends[0].dsn(t), httpadapterOptions(0))
	jane := e.register("jane_doe")
	e.upload("PUT", "/api/user/"+jane.uuid+"/image", jane.AccessToken, "me.gif", gifImage(t, 8, 8)).wantStatus(t, 200)
	e.upload("POST", "/api/file/", jane.AccessToken, "notes.txt", []byte("hello")).wantStatus(t, 200)
	now := e.clock.Now()
	if err := e.m.Config().Store.(usermgmt.ExternalStore).InsertExternalIdentity(context.Background(), &usermgmt.ExternalIdentity{
		Provider: "github", Subject: "4242", UserUUID: jane.uuid, Username: "janeocto", CreatedAt: now, UpdatedAt: now,
	}); err != nil {
		t.Fatal(err)
	}
	r := e.do(request{method: "GET", path: "/api/user/me/export", token: jane.AccessToken})
	r.wantStatus(t, 200)
	var doc any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	keys := map[string]bool{}
	var walk func(path string, v any)
	walk = func(path string, v any) {
		switch v := v.(type) {
		case map[string]any:
			for k, x := range v {
				keys[k] = true
				if !snakeCase.MatchString(k) {
					t.Errorf("%s.%s is not snake_case", path, k)
				}
				walk(path+"."+k, x)
			}
		case []any:
			for _, x := range v {
				walk(path+"[]", x)
			}
		}
	}
	walk("export", doc)
	for _, k := range []string{"uuid", "display_name", "actor_uuid", "subject_uuid", "profile_picture_id", "created_at", "file_name", "provider", "user_agent"} {
		if !keys[k] {
			t.Errorf("export has no key %q: %s", k, r.body)
		}
	}
}
