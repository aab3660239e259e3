package adminmail

import (
	"encoding/json"
	"testing"

	"github.com/usermgmt/usermgmt"
)

func errStatus(err error) int { return usermgmt.AsError(err).Status }

// FuzzParseMailContent: any body is a content or a 4xx, never a panic; a
// content read is what the JSON said.
func FuzzParseMailContent(f *testing.F) {
	for _, s := range []string{`"<p>hi</p>"`, `{"content":"x"}`, `{"content":null}`, `42`, `"`, `{`, `  "a"  `, `["x"]`, ``} {
		f.Add("application/json", []byte(s))
	}
	f.Add("text/plain", []byte(`"x"`))
	f.Fuzz(func(t *testing.T, media string, body []byte) {
		s, err := parseMailContent(media, body)
		if err != nil {
			if status := errStatus(err); status < 400 || status > 499 {
				t.Fatalf("status %d for %q", status, body)
			}
			return
		}
		var v any
		if json.Unmarshal(body, &v) != nil {
			t.Fatalf("content %q read from invalid JSON %q", s, body)
		}
	})
}

func TestParseMailContent(t *testing.T) {
	tests := []struct {
		media, body, want string
		status            int
	}{
		{"", `"<p>a</p>"`, "<p>a</p>", 0},
		{"application/json", ` {"content": "b", "other": 1} `, "b", 0},
		{"application/json", `{"content": 5}`, "", 422},
		{"application/json", `["x"]`, "", 422},
		{"application/json", `null`, "", 422},
		{"text/html", `"x"`, "", 415},
	}
	for _, tt := range tests {
		got, err := parseMailContent(tt.media, []byte(tt.body))
		if tt.status != 0 {
			if errStatus(err) != tt.status {
				t.Errorf("%s: %v, want %d", tt.body, err, tt.status)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("%s = %q, %v", tt.body, got, err)
		}
	}
}
