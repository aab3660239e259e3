package emaillogin_test

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"net/http"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/emaillogin"
	"github.com/usermgmt/usermgmt/emaillogin/secretstore"
)

// BenchmarkMagicLinkVerify: GET /auth/magic-link/verify through the HTTP
// handler on SQLite, from the token to the token answer (the secret taken,
// the account read, the session stored and its tokens signed). Each link
// is stored outside the timer.
func BenchmarkMagicLinkVerify(b *testing.B) {
	e := newEnv(b, emaillogin.Config{}, nil)
	ctx := context.Background()
	u, err := e.m.CreateUser(ctx, usermgmt.NewUser{Username: "jane_doe", Email: "jane_doe@example.com", Password: password, EmailVerified: true})
	if err != nil {
		b.Fatal(err)
	}
	st := e.m.Store().(secretstore.Store)
	raw := make([]byte, 32)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; b.Loop(); i++ {
		b.StopTimer()
		_, _ = rand.Read(raw)
		token := base64.RawURLEncoding.EncodeToString(raw)
		h := sha256.Sum256([]byte(token))
		now := e.clock.Now()
		if err := st.PutSecret(ctx, &secretstore.Secret{ID: token[:22], Kind: secretstore.KindLink, Email: u.Email, UserUUID: u.UUID,
			Hash: h[:], CreatedAt: now, ExpiresAt: now.Add(15 * time.Minute)}); err != nil {
			b.Fatal(err)
		}
		b.StartTimer()
		if a := e.do(http.MethodGet, "/api/auth/magic-link/verify?token="+token, nil); a.status != http.StatusOK {
			b.Fatalf("verify %d: %d %s", i, a.status, a.body)
		}
	}
}
