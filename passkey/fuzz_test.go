package passkey_test

import (
	"testing"

	"github.com/go-webauthn/webauthn/protocol"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/passkey"
	"github.com/usermgmt/usermgmt/passkey/internal/softauthn"
)

// FuzzParseCredential: any input decodes or is ErrMalformed (a 400),
// never a panic. ParseCreation and ParseAssertion recover from a panic of
// go-webauthn's decoder, which would hide one from the fuzzer, so the
// decoder also runs here without that net: a panic it finds fails.
func FuzzParseCredential(f *testing.F) {
	a := softauthn.New(origin)
	reg, err := a.Create([]byte(`{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rp":{"id":"app.example.com"},"user":{"id":"dXNlcg"}}`))
	if err != nil {
		f.Fatal(err)
	}
	as, err := a.Get([]byte(`{"challenge":"AAAAAAAAAAAAAAAAAAAAAA","rpId":"app.example.com"}`))
	if err != nil {
		f.Fatal(err)
	}
	for _, s := range [][]byte{reg, as, []byte(`{}`), []byte(`{"id":"x","type":"public-key","response":{}}`), []byte(`null`), nil} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		for name, parse := range map[string]func([]byte) error{
			"creation":  func(b []byte) error { _, err := passkey.ParseCreation(b); return err },
			"assertion": func(b []byte) error { _, err := passkey.ParseAssertion(b); return err },
		} {
			if err := parse(data); err != nil {
				if e := usermgmt.AsError(err); e.Code != passkey.ErrMalformed.Code || e.Status != 400 {
					t.Fatalf("%s: %v (%d %s)", name, err, e.Status, e.Code)
				}
			}
		}
		// Unguarded: only a panic fails (the size check comes before the
		// decoder in ParseCreation and ParseAssertion).
		if len(data) > 0 && len(data) <= passkey.MaxCredentialBytes {
			_, _ = protocol.ParseCredentialCreationResponseBytes(data)
			_, _ = protocol.ParseCredentialRequestResponseBytes(data)
		}
	})
}
