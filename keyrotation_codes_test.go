package usermgmt_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"

	"github.com/usermgmt/usermgmt"
)

// TestCodesSurviveKeyRotation: recovery codes and the TOTP secret made
// under one JWT secret still work after it moves to JWTPreviousSecrets
// (found in review: recovery codes stopped matching after a rotation).
func TestCodesSurviveKeyRotation(t *testing.T) {
	ctx := context.Background()
	clock := newFakeClock()
	st := openStore(t)
	oldSecret := []byte("the-secret-before-the-rotation!!")
	build := func(secret []byte, previous ...[]byte) *usermgmt.Manager {
		t.Helper()
		m, err := usermgmt.New(usermgmt.Config{Store: st, JWTSecret: secret, JWTPreviousSecrets: previous,
			BcryptCost: 4, Clock: clock.Now, Logger: quiet})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = m.Close() })
		return m
	}
	before := build(oldSecret)
	u := mustCreate(t, before, "rotating_user")
	setup, err := before.SetupOTP(ctx, u.UUID)
	if err != nil {
		t.Fatal(err)
	}
	code := func() string {
		c, err := totp.GenerateCodeCustom(setup.Secret, clock.Now(), totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	_, recovery, err := before.ChangeOTPMethod(ctx, u.UUID, usermgmt.OTPAuthenticator, code(), "")
	if err != nil || len(recovery) == 0 {
		t.Fatalf("enable: %v, %d codes", err, len(recovery))
	}

	after := build([]byte("the-secret-after-the-rotation!!!"), oldSecret)
	challenge := func() string {
		t.Helper()
		_, err := after.Login(ctx, "rotating_user", goodPassword)
		var c *usermgmt.OTPChallengeError
		if !errors.As(err, &c) {
			t.Fatalf("login: %v", err)
		}
		return c.Token
	}
	if _, err := after.LoginOTP(ctx, challenge(), recovery[0]); err != nil {
		t.Fatalf("recovery code after the rotation: %v", err)
	}
	clock.Advance(30 * time.Second)
	if _, err := after.LoginOTP(ctx, challenge(), code()); err != nil {
		t.Fatalf("TOTP code after the rotation: %v", err)
	}
}
