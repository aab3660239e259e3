package storetest

import (
	"bytes"
	"context"
	"crypto/sha256"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/usermgmt/usermgmt"
)

var securityCases = []testCase{
	{"OneTimeTokens", testOneTimeTokens},
	{"RecoveryCodes", testRecoveryCodes},
	{"OTPState", testOTPState},
	{"CascadeOnUserDelete", testSecurityCascade},
}

func tokenHash(s string) []byte {
	h := sha256.Sum256([]byte(s))
	return h[:]
}

func newToken(n int, user, purpose string) *usermgmt.OneTimeToken {
	return &usermgmt.OneTimeToken{
		ID: fmt.Sprintf("10000000-0000-4000-8000-%012d", n), UserUUID: user, Purpose: purpose,
		TokenHash: tokenHash(fmt.Sprint("token ", n)), Detail: fmt.Sprint("detail ", n),
		ExpiresAt: t0.Add(time.Hour), CreatedAt: t0.Add(time.Duration(n) * time.Second),
	}
}

func testOneTimeTokens(t *testing.T, st fullStore) {
	ctx := context.Background()
	u1, u2 := newUser(1), newUser(2)
	mustInsertUsers(t, st, u1, u2)
	tokens := []*usermgmt.OneTimeToken{
		newToken(1, u1.UUID, usermgmt.PurposeVerifyEmail),
		newToken(2, u1.UUID, usermgmt.PurposeVerifyEmail),
		newToken(3, u1.UUID, usermgmt.PurposeResetPassword),
		newToken(4, u2.UUID, usermgmt.PurposeVerifyEmail),
	}
	for _, tk := range tokens {
		if err := st.InsertOneTimeToken(ctx, tk); err != nil {
			t.Fatalf("InsertOneTimeToken: %v", err)
		}
	}
	orphan := newToken(9, newUser(9).UUID, usermgmt.PurposeVerifyEmail)
	if err := st.InsertOneTimeToken(ctx, orphan); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Fatalf("token of a missing user: %v, want ErrNotFound", err)
	}

	got, err := st.OneTimeTokenByHash(ctx, usermgmt.PurposeVerifyEmail, tokens[1].TokenHash)
	if err != nil {
		t.Fatal(err)
	}
	if got.ID != tokens[1].ID || got.Detail != "detail 2" || !bytes.Equal(got.TokenHash, tokens[1].TokenHash) ||
		!got.ExpiresAt.Equal(stored(tokens[1].ExpiresAt)) || got.UsedAt != nil || got.ExpiresAt.Location() != time.UTC {
		t.Fatalf("OneTimeTokenByHash = %+v", got)
	}
	// The purpose is part of the key.
	if _, err := st.OneTimeTokenByHash(ctx, usermgmt.PurposeResetPassword, tokens[1].TokenHash); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Fatalf("wrong purpose: %v", err)
	}

	list, err := st.OneTimeTokensByUser(ctx, u1.UUID, usermgmt.PurposeVerifyEmail)
	if err != nil || len(list) != 2 || list[0].ID != tokens[1].ID || list[1].ID != tokens[0].ID {
		t.Fatalf("OneTimeTokensByUser = %v, %v; want tokens 2, 1", list, err)
	}

	// Use is a compare-and-swap.
	at := t0.Add(time.Minute)
	if ok, err := st.UseOneTimeToken(ctx, tokens[1].ID, at); err != nil || !ok {
		t.Fatalf("first use: %v %v", ok, err)
	}
	if ok, err := st.UseOneTimeToken(ctx, tokens[1].ID, at); err != nil || ok {
		t.Fatalf("second use: %v %v", ok, err)
	}
	got, err = st.OneTimeTokenByHash(ctx, usermgmt.PurposeVerifyEmail, tokens[1].TokenHash)
	if err != nil || got.UsedAt == nil || !got.UsedAt.Equal(stored(at)) {
		t.Fatalf("used token = %+v, %v", got, err)
	}
	if list, _ := st.OneTimeTokensByUser(ctx, u1.UUID, usermgmt.PurposeVerifyEmail); len(list) != 1 {
		t.Fatalf("unused tokens = %d, want 1", len(list))
	}

	// Delete by purpose, then all.
	if err := st.DeleteOneTimeTokens(ctx, u1.UUID, usermgmt.PurposeVerifyEmail); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OneTimeTokenByHash(ctx, usermgmt.PurposeVerifyEmail, tokens[0].TokenHash); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Fatalf("deleted token: %v", err)
	}
	if _, err := st.OneTimeTokenByHash(ctx, usermgmt.PurposeResetPassword, tokens[2].TokenHash); err != nil {
		t.Fatalf("token of another purpose deleted: %v", err)
	}
	if _, err := st.OneTimeTokenByHash(ctx, usermgmt.PurposeVerifyEmail, tokens[3].TokenHash); err != nil {
		t.Fatalf("token of another user deleted: %v", err)
	}
	if err := st.DeleteOneTimeTokens(ctx, u1.UUID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OneTimeTokenByHash(ctx, usermgmt.PurposeResetPassword, tokens[2].TokenHash); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Fatalf("DeleteOneTimeTokens without purposes kept %v", err)
	}
}

func testRecoveryCodes(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	codes := func(prefix string, n int) []*usermgmt.RecoveryCode {
		var out []*usermgmt.RecoveryCode
		for i := range n {
			out = append(out, &usermgmt.RecoveryCode{
				ID: fmt.Sprintf("20000000-0000-4000-8000-%s%011d", prefix, i), UserUUID: u.UUID,
				CodeHash: tokenHash(prefix + fmt.Sprint(i)), CreatedAt: t0,
			})
		}
		return out
	}
	first := codes("1", 10)
	if err := st.InTx(ctx, func(ctx context.Context, tx usermgmt.Store) error { return tx.ReplaceRecoveryCodes(ctx, u.UUID, first) }); err != nil {
		t.Fatal(err)
	}
	got, err := st.RecoveryCodes(ctx, u.UUID)
	if err != nil || len(got) != 10 || !bytes.Equal(got[0].CodeHash, first[0].CodeHash) {
		t.Fatalf("RecoveryCodes = %d, %v", len(got), err)
	}
	if ok, err := st.UseRecoveryCode(ctx, first[3].ID, t0); err != nil || !ok {
		t.Fatalf("use: %v %v", ok, err)
	}
	if ok, err := st.UseRecoveryCode(ctx, first[3].ID, t0); err != nil || ok {
		t.Fatalf("reuse: %v %v", ok, err)
	}
	if got, _ := st.RecoveryCodes(ctx, u.UUID); len(got) != 9 {
		t.Fatalf("unused codes = %d, want 9", len(got))
	}
	second := codes("2", 10)
	if err := st.ReplaceRecoveryCodes(ctx, u.UUID, second); err != nil {
		t.Fatal(err)
	}
	got, _ = st.RecoveryCodes(ctx, u.UUID)
	if len(got) != 10 || got[0].ID != second[0].ID {
		t.Fatalf("after replace: %d codes, first %v", len(got), got)
	}
	if err := st.ReplaceRecoveryCodes(ctx, u.UUID, nil); err != nil {
		t.Fatal(err)
	}
	if got, _ := st.RecoveryCodes(ctx, u.UUID); len(got) != 0 {
		t.Fatalf("replace with none left %d", len(got))
	}
}

func testOTPState(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	s, err := st.OTPState(ctx, u.UUID)
	if err != nil || s.UserUUID != u.UUID || s.LastStep != 0 || s.Failures != 0 || s.LockedUntil != nil {
		t.Fatalf("zero state = %+v, %v", s, err)
	}
	lock := t0.Add(time.Hour)
	for _, want := range []usermgmt.OTPState{
		{UserUUID: u.UUID, LastStep: 58000000001, Failures: 2},
		{UserUUID: u.UUID, LastStep: 58000000002, Failures: 0, LockedUntil: &lock},
	} {
		if err := st.SaveOTPState(ctx, &want); err != nil {
			t.Fatal(err)
		}
		got, err := st.OTPState(ctx, u.UUID)
		if err != nil || got.LastStep != want.LastStep || got.Failures != want.Failures ||
			(got.LockedUntil == nil) != (want.LockedUntil == nil) || (got.LockedUntil != nil && !got.LockedUntil.Equal(stored(lock))) {
			t.Fatalf("OTPState = %+v, %v; want %+v", got, err, want)
		}
	}
	if err := st.SaveOTPState(ctx, &usermgmt.OTPState{UserUUID: newUser(9).UUID}); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Fatalf("state of a missing user: %v", err)
	}
}

func testSecurityCascade(t *testing.T, st fullStore) {
	ctx := context.Background()
	u := newUser(1)
	mustInsertUsers(t, st, u)
	tk := newToken(1, u.UUID, usermgmt.PurposeResetPassword)
	if err := st.InsertOneTimeToken(ctx, tk); err != nil {
		t.Fatal(err)
	}
	if err := st.ReplaceRecoveryCodes(ctx, u.UUID, []*usermgmt.RecoveryCode{{ID: "30000000-0000-4000-8000-000000000001", UserUUID: u.UUID, CodeHash: tokenHash("c"), CreatedAt: t0}}); err != nil {
		t.Fatal(err)
	}
	if err := st.SaveOTPState(ctx, &usermgmt.OTPState{UserUUID: u.UUID, Failures: 3}); err != nil {
		t.Fatal(err)
	}
	if err := st.DeleteUser(ctx, u.UUID); err != nil {
		t.Fatal(err)
	}
	if _, err := st.OneTimeTokenByHash(ctx, tk.Purpose, tk.TokenHash); !errors.Is(err, usermgmt.ErrNotFound) {
		t.Fatalf("token outlived its user: %v", err)
	}
	if got, _ := st.RecoveryCodes(ctx, u.UUID); len(got) != 0 {
		t.Fatal("recovery codes outlived their user")
	}
	if s, _ := st.OTPState(ctx, u.UUID); s.Failures != 0 {
		t.Fatal("otp state outlived its user")
	}
}
