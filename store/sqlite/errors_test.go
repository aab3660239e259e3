package sqlite

import "testing"

func TestSQLiteConflictField(t *testing.T) {
	tests := []struct{ msg, want string }{
		{"constraint failed: UNIQUE constraint failed: users.username (2067)", "username"},
		{"constraint failed: UNIQUE constraint failed: users.uuid (1555)", "uuid"},
		{"constraint failed: UNIQUE constraint failed: index 'users_email_lower_key' (2067)", "email"},
		{"UNIQUE constraint failed: sessions.id", "id"},
		{"UNIQUE constraint failed: files.a, files.b (2067)", "files.a"},
		{"something else", ""},
	}
	for _, tt := range tests {
		if got := sqliteConflictField(tt.msg); got != tt.want {
			t.Errorf("sqliteConflictField(%q) = %q, want %q", tt.msg, got, tt.want)
		}
	}
}
