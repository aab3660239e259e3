package verify_test

import (
	"errors"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt/webhook/verify"
)

// The test vector published with the Standard Webhooks specification
// (and its reference libraries' tests).
const (
	vectorSecret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
	vectorID     = "msg_p5jXN8AQM9LWM0D4loKWxJek"
	vectorTS     = 1614265330
	vectorBody   = `{"test": 2432232314}`
	vectorSig    = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="
)

func header(id, ts, sig string) http.Header {
	h := http.Header{}
	h.Set(verify.HeaderID, id)
	h.Set(verify.HeaderTimestamp, ts)
	h.Set(verify.HeaderSignature, sig)
	return h
}

func TestSpecVector(t *testing.T) {
	key, err := verify.ParseSecret(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	if got := verify.Sign(key, vectorID, vectorTS, []byte(vectorBody)); got != vectorSig {
		t.Fatalf("Sign = %s, want %s", got, vectorSig)
	}
	v, err := verify.New(vectorSecret)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(vectorTS, 0).Add(time.Minute)
	if err := v.Verify(header(vectorID, "1614265330", vectorSig), []byte(vectorBody), now); err != nil {
		t.Fatalf("Verify: %v", err)
	}
}

func TestVerifyRefuses(t *testing.T) {
	other := "whsec_" + "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	v, err := verify.New(other, vectorSecret) // rotation: either secret
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(vectorTS, 0)
	tests := []struct {
		name string
		h    http.Header
		body string
		now  time.Time
		want error
	}{
		{"ok, second of two signatures", header(vectorID, "1614265330", "v1,bm90IGl0 "+vectorSig), vectorBody, now, nil},
		{"body changed", header(vectorID, "1614265330", vectorSig), `{"test": 2432232315}`, now, verify.ErrSignature},
		{"id changed", header("msg_other", "1614265330", vectorSig), vectorBody, now, verify.ErrSignature},
		{"other scheme", header(vectorID, "1614265330", "v1a,"+vectorSig[3:]), vectorBody, now, verify.ErrSignature},
		{"too old", header(vectorID, "1614265330", vectorSig), vectorBody, now.Add(6 * time.Minute), verify.ErrTimestamp},
		{"in the future", header(vectorID, "1614265330", vectorSig), vectorBody, now.Add(-6 * time.Minute), verify.ErrTimestamp},
		{"bad timestamp", header(vectorID, "soon", vectorSig), vectorBody, now, verify.ErrTimestamp},
		{"no signature", header(vectorID, "1614265330", ""), vectorBody, now, verify.ErrMissingHeaders},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := v.Verify(tt.h, []byte(tt.body), tt.now); !errors.Is(err, tt.want) {
				t.Fatalf("Verify = %v, want %v", err, tt.want)
			}
		})
	}
	if _, err := verify.New("whsec_c2hvcnQ="); !errors.Is(err, verify.ErrSecret) {
		t.Fatalf("a short secret: %v", err)
	}
	if _, err := verify.New("whsec_not base64!"); !errors.Is(err, verify.ErrSecret) {
		t.Fatalf("a bad secret: %v", err)
	}
}

func ExampleVerifier_Verify() {
	v, _ := verify.New(vectorSecret)
	h := header(vectorID, "1614265330", vectorSig)
	err := v.Verify(h, []byte(vectorBody), time.Unix(vectorTS, 0))
	fmt.Println(err == nil)
	// Output: true
}
