package httpadapter_test

import (
	"strconv"
	"strings"
	"testing"
)

// TestUploadLongName: a name as long as a safe name may be (200 bytes,
// here with multi-byte letters) is stored and listed whole; the storage key
// keeps only its end. Found in review: such names answered 500.
func TestUploadLongName(t *testing.T) {
	eachBackend(t, func(t *testing.T, e *env) {
		alice := e.register("alice_doe")
		name := strings.Repeat("é", 97) + ".txt" // 198 bytes
		f := e.upload("POST", "/api/file/", alice.AccessToken, name, []byte("hello")).file(t)
		if f.FileName != name {
			t.Fatalf("stored name %q", f.FileName)
		}
		r := e.do(request{method: "GET", path: "/api/file/" + strconv.FormatInt(f.ID, 10) + "/file", token: alice.AccessToken})
		r.wantStatus(t, 200)
		if string(r.body) != "hello" {
			t.Fatalf("content %q", r.body)
		}
	})
}
