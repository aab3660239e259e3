package httpadapter

import (
	"net/http/httptest"
	"testing"
)

// FuzzDecodeOAuthCallback feeds the callback decoder arbitrary queries and
// Cookie headers: it must answer a 4xx or an input no longer than its
// bounds, never panic.
func FuzzDecodeOAuthCallback(f *testing.F) {
	f.Add("code=abc&state=AAAA", "usermgmt_oauth=AAAA")
	f.Add("error=access_denied", "")
	f.Add("code=%zz", "usermgmt_oauth")
	f.Add("state=a;b", "a=b; usermgmt_oauth=\"quoted\"; usermgmt_oauth=second")
	f.Fuzz(func(t *testing.T, rawQuery, cookie string) {
		r := httptest.NewRequest("GET", "/api/oauth/github/callback", nil)
		r.URL.RawQuery = rawQuery
		r.Header.Set("Cookie", cookie)
		r.SetPathValue("provider", "github")
		cb, err := decodeOAuthCallback(r)
		checkDecodeErr(t, err)
		if err == nil && (len(cb.Code) > maxFlowParam || len(cb.State) > maxFlowParam || len(cb.Error) > maxFlowParam) {
			t.Fatalf("oversized parameter accepted: %d %d %d", len(cb.Code), len(cb.State), len(cb.Error))
		}
	})
}

func FuzzDecodeOAuthStart(f *testing.F) {
	f.Add("redirect_uri=https%3A%2F%2Fapp.example.com%2F&ticket=x")
	f.Add("redirect_uri=%")
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := httptest.NewRequest("GET", "/api/oauth/github", nil)
		r.URL.RawQuery = rawQuery
		r.SetPathValue("provider", "github")
		_, err := decodeOAuthStart(r)
		checkDecodeErr(t, err)
	})
}

func FuzzDecodeOAuthLink(f *testing.F) {
	fuzzDecoder(f, "/api/oauth/github/link", decodeOAuthLink, "redirect_uri")
}
