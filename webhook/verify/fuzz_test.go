package verify_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt/webhook/verify"
)

// FuzzVerify: any headers and body are refused cleanly (no panic), and
// only the right signature passes.
func FuzzVerify(f *testing.F) {
	f.Add(vectorID, "1614265330", vectorSig, vectorBody)
	f.Add("", "", "", "")
	f.Add(vectorID, "-99999999999999999999", "v1,", "{}")
	f.Add(vectorID, "1614265330", "v1,a v1,b v2,c", vectorBody)
	v, err := verify.New(vectorSecret)
	if err != nil {
		f.Fatal(err)
	}
	key, _ := verify.ParseSecret(vectorSecret)
	now := time.Unix(vectorTS, 0)
	f.Fuzz(func(t *testing.T, id, ts, sig, body string) {
		h := http.Header{}
		h.Set(verify.HeaderID, id)
		h.Set(verify.HeaderTimestamp, ts)
		h.Set(verify.HeaderSignature, sig)
		err := v.Verify(h, []byte(body), now)
		if err == nil && ts != "" {
			// It passed: then one of the signatures is the right one.
			want := verify.Sign(key, id, vectorTS, []byte(body))
			if h.Get(verify.HeaderTimestamp) == "1614265330" && !containsField(h.Get(verify.HeaderSignature), want) {
				t.Fatalf("accepted %q %q %q without the right signature", id, ts, sig)
			}
		}
	})
}

func containsField(s, f string) bool {
	start := 0
	for i := 0; i <= len(s); i++ {
		if i == len(s) || s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r' || s[i] == '\v' || s[i] == '\f' {
			if s[start:i] == f {
				return true
			}
			start = i + 1
		}
	}
	return false
}
