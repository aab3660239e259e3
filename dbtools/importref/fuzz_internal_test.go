package importref

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/store/sqlite"
)

// FuzzConvert feeds arbitrary reference rows (text and JSON columns of a
// user, a file and an external account) to the converter: it refuses or
// converts, and never panics.
func FuzzConvert(f *testing.F) {
	f.Add("jane_doe", "Jane Doe", "jane@example.com", "ThirdPartyOnlyAcc", "authenticator", "KzQwErTyUiOpAsDfGhJkLzXcVbNmQwEr",
		`["user"]`, `[{"time": "2024-11-02 10:00:00 UTC", "action": "ban", "description": "spam", "by": "x"}]`, `["a"]`, "cv.pdf", "github")
	f.Add("Bob", "", "not an email", "$2b$04$short", "email", "", `{}`, `null`, `[1]`, "../../etc/passwd", "")
	f.Add("admin", "Admin", "admin@example.com", "", "none", "changeme", `[]`, `[{"time": 5}]`, `[]`, ".", "GitHub")
	st, err := sqlite.Open(context.Background(), ":memory:")
	if err != nil {
		f.Fatal(err)
	}
	defer st.Close()
	m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: []byte("a fuzz secret of at least thirty-two bytes"), BcryptCost: 4})
	if err != nil {
		f.Fatal(err)
	}
	defer m.Close()
	const id = "0b0b0b0b-0000-4000-8000-000000000002"
	f.Fuzz(func(t *testing.T, username, display, email, hash, method, secret, roles, history, blocked, fileName, provider string) {
		data := &refData{tables: map[string][]row{
			"users": {{"uuid": id, "username": username, "display_name": display, "email": email, "email_verified": int64(1),
				"hashed_password": hash, "otp_method": method, "otp_secret": secret, "roles": roles, "description": nil,
				"created_at": int64(1700000000), "updated_at": "1700000000", "is_external_only": int64(0), "is_active": true,
				"user_history": history, "blocked_uuids": blocked, "profile_picture_id": int64(1)}},
			"files": {{"id": int64(1), "file_name": fileName, "file_type": "", "file_path": "/d/users/" + id + "/" + fileName,
				"description": nil, "created_at": int64(1), "created_by_uuid": id}},
			"users_files_links": {{"user_uuid": id, "file_id": int64(1)}},
			"external_accounts": {{"external_account_id": username, "provider": provider, "username": display, "display_name": nil,
				"email": email, "picture_url": nil, "user_uuid": id}},
		}}
		c := &converter{m: m, now: time.Unix(1700000000, 0).UTC(), nextAudit: 1, rep: &Report{}}
		doc, err := c.convert(data)
		var ue *usermgmt.Error
		switch {
		case err == nil && len(doc.Tables) != 4:
			t.Fatalf("%d tables", len(doc.Tables))
		case err != nil && !errors.As(err, &ue):
			t.Fatalf("an error without a code: %v", err)
		case err != nil && ue.Params["table"] == nil:
			t.Fatalf("an error naming no table: %v", err)
		}
	})
}
