package passkey_test

import (
	"context"
	"encoding/json"
	"net/http"
	"testing"

	"github.com/usermgmt/usermgmt/passkey"
	"github.com/usermgmt/usermgmt/passkey/internal/softauthn"
)

// BenchmarkPasskeyLoginFinish measures FinishLogin (decode, take the
// ceremony, verify the ES256 signature, record the use, open the
// session) on SQLite in memory; the begin and the signing are outside the
// timer.
func BenchmarkPasskeyLoginFinish(b *testing.B) {
	e := newEnv(b)
	_, tok := e.user("jane_doe", "Secret-pass-123")
	auth := softauthn.New(origin)
	auth.UV = true
	if a := e.register(auth, tok, "k"); a.status != http.StatusCreated {
		b.Fatalf("register: %d %s", a.status, a.body)
	}
	var pk *passkey.Passkeys
	for _, f := range e.m.Features() {
		pk, _ = f.(*passkey.Passkeys)
	}
	ctx := context.Background()
	for b.Loop() {
		b.StopTimer()
		begin, err := pk.BeginLogin(ctx, "")
		if err != nil {
			b.Fatal(err)
		}
		opts, _ := json.Marshal(begin.PublicKey)
		cred, err := auth.Get(opts)
		if err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if _, err := pk.FinishLogin(ctx, begin.Ceremony, cred); err != nil {
			b.Fatal(err)
		}
	}
}
