package httpadapter_test

import (
	"strconv"
	"testing"
)

// TestMeListsFiles: /user/me lists the caller's files (with the route of
// their content) and forgets them when they are deleted; another user's
// profile lists only theirs.
func TestMeListsFiles(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		alice := e.register("alice_doe")
		bob := e.register("bob_smith")
		me := func(token string) []any {
			t.Helper()
			r := e.do(request{method: "GET", path: "/api/user/me", token: token})
			r.wantStatus(t, 200)
			files, ok := r.object(t)["files"].([]any)
			if !ok {
				t.Fatalf("files is not a list: %s", r.body)
			}
			return files
		}
		if got := me(alice.AccessToken); len(got) != 0 {
			t.Fatalf("files before any upload: %v", got)
		}
		f := e.upload("POST", "/api/file/", alice.AccessToken, "notes.txt", []byte("hello")).file(t)
		e.upload("POST", "/api/file/", bob.AccessToken, "other.txt", []byte("bob's")).file(t)
		got := me(alice.AccessToken)
		if len(got) != 1 {
			t.Fatalf("alice's files: %v", got)
		}
		entry := got[0].(map[string]any)
		if entry["file_name"] != "notes.txt" || entry["file_url"] == "" || int64(entry["id"].(float64)) != f.ID {
			t.Fatalf("listed file %v, uploaded %+v", entry, f)
		}
		e.do(request{method: "DELETE", path: "/api/file/" + strconv.FormatInt(f.ID, 10), token: alice.AccessToken}).wantStatus(t, 200)
		if got := me(alice.AccessToken); len(got) != 0 {
			t.Fatalf("files after the deletion: %v", got)
		}
		if got := me(bob.AccessToken); len(got) != 1 {
			t.Fatalf("bob's files: %v", got)
		}
	})
}
