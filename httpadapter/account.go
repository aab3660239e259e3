package httpadapter

import (
	"context"
	"net/http"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// The email verification and password routes.

type verifyInput struct{ token, redirect string }

// decodeVerify reads the query: token (the reference's "bearer " prefix is
// tolerated) and an optional redirect.
func decodeVerify(r *http.Request) (verifyInput, error) {
	q, err := Query(r)
	if err != nil {
		return verifyInput{}, err
	}
	in := verifyInput{token: q.Get("token"), redirect: q.Get("redirect")}
	if t, ok := parseBearer(in.token); ok {
		in.token = t
	}
	if in.token == "" {
		return verifyInput{}, invalid("token: field required")
	}
	return in, nil
}

// verifyEmail verifies the address and redirects to FrontendURL, or the
// allow-listed redirect. With the pages served and no FrontendURL of its
// own (it is the BaseURL), the redirect goes to the pages' landing page,
// /email-verified, and a link that is not valid to /email-verified?error=1
// instead of a JSON error.
func (h *handler) verifyEmail(w http.ResponseWriter, r *http.Request, _ *usermgmt.Principal, in verifyInput) error {
	cfg := h.m.Config()
	target, onError := cfg.FrontendURL, ""
	if in.redirect != "" {
		if !h.m.AllowedRedirect(in.redirect) {
			return usermgmt.ErrInvalidInput.WithMessage("redirect: target not allowed")
		}
		target = in.redirect
	} else if h.pages != nil && strings.TrimRight(cfg.FrontendURL, "/") == strings.TrimRight(cfg.BaseURL, "/") {
		target, onError = "/email-verified", "/email-verified?error=1"
	}
	if target == "" {
		target = "/"
	}
	setNoStore(w.Header())
	if _, err := h.m.VerifyEmail(r.Context(), in.token); err != nil {
		if e := usermgmt.AsError(err); onError == "" || e.Status >= 500 {
			return err
		}
		redirectHTML(w, r, onError, http.StatusTemporaryRedirect)
		return nil
	}
	redirectHTML(w, r, target, http.StatusTemporaryRedirect)
	return nil
}

// decodeResend reads email (or username) from a form or JSON.
func decodeResend(r *http.Request) (string, error) {
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return "", err
	}
	login, _ := f.String("email")
	if login == "" {
		login, _ = f.String("username")
	}
	if err := f.Err(); err != nil {
		return "", err
	}
	if login == "" {
		return "", invalid("email: field required")
	}
	return login, nil
}

func (h *handler) resendVerification(ctx context.Context, _ *usermgmt.Principal, login string) (response, error) {
	if err := h.m.ResendVerification(ctx, login); err != nil {
		return response{}, err
	}
	return textOK(h.mailNotice("If this account exists and is not verified yet, a new link was sent.", noVerifyMail)), nil
}

// The answers of the routes that mail a link or a code: what they say
// when mail was queued, and what they say instead when the Manager has no
// mailer (usermgmt.HasMailer), where nothing is ever sent.
const (
	forgotSent   = "If this account exists, a password reset link was sent to its email address."
	resetSent    = "A password reset link was sent to your email address."
	noResetMail  = "This service sends no mail, so it cannot mail a password reset link; ask its administrator for help."
	noVerifyMail = "This service sends no mail, so it cannot mail a verification link; ask its administrator for help."
	noCodeMail   = "This service sends no mail, so it cannot mail a code; use another second factor or ask its administrator for help."
)

// mailNotice returns sent when the Manager sends mail, else unsent.
func (h *handler) mailNotice(sent, unsent string) string {
	if h.m.HasMailer() {
		return sent
	}
	return unsent
}

type forgotInput struct{ username, email string }

func (in forgotInput) check() (forgotInput, error) {
	if in.username == "" && in.email == "" {
		return forgotInput{}, invalid("username or email: field required")
	}
	return in, nil
}

// decodeForgotBody reads username and/or email from a form or JSON.
func decodeForgotBody(r *http.Request) (forgotInput, error) {
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return forgotInput{}, err
	}
	var in forgotInput
	in.username, _ = f.String("username")
	in.email, _ = f.String("email")
	if err := f.Err(); err != nil {
		return forgotInput{}, err
	}
	return in.check()
}

// decodeForgotQuery reads username and/or email from the query.
func decodeForgotQuery(r *http.Request) (forgotInput, error) {
	q, err := Query(r)
	if err != nil {
		return forgotInput{}, err
	}
	return forgotInput{username: q.Get("username"), email: q.Get("email")}.check()
}

func (h *handler) forgotPassword(ctx context.Context, _ *usermgmt.Principal, in forgotInput) (response, error) {
	if err := h.m.ForgotPassword(ctx, in.username, in.email); err != nil {
		return response{}, err
	}
	return textOK(h.mailNotice(forgotSent, noResetMail)), nil
}

type resetInput struct{ token, password, confirm string }

// decodeReset reads token, new_password and confirm_password; the token
// may instead come in the reference's "authorization-header: bearer ..."
// header.
func decodeReset(r *http.Request) (resetInput, error) {
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return resetInput{}, err
	}
	in := resetInput{password: f.Required("new_password"), confirm: f.Required("confirm_password")}
	in.token, _ = f.String("token")
	if err := f.Err(); err != nil {
		return resetInput{}, err
	}
	if in.token == "" {
		in.token, _ = parseBearer(r.Header.Get("Authorization-Header"))
	}
	if in.token == "" {
		return resetInput{}, invalid("token: field required")
	}
	return in, nil
}

func (h *handler) resetPassword(ctx context.Context, _ *usermgmt.Principal, in resetInput) (response, error) {
	if err := h.m.ResetPassword(ctx, in.token, in.password, in.confirm); err != nil {
		return response{}, err
	}
	return textOK("Password reset successful"), nil
}

type changePasswordInput struct{ old, password, confirm string }

// decodeChangePassword reads old_password, new_password and
// confirm_password.
func decodeChangePassword(r *http.Request) (changePasswordInput, error) {
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return changePasswordInput{}, err
	}
	in := changePasswordInput{old: f.Required("old_password"), password: f.Required("new_password"), confirm: f.Required("confirm_password")}
	return in, f.Err()
}

func (h *handler) changePassword(ctx context.Context, p *usermgmt.Principal, in changePasswordInput) (response, error) {
	if err := h.m.ChangePassword(ctx, p, in.old, in.password, in.confirm); err != nil {
		return response{}, err
	}
	return textOK("Password reset successful"), nil
}

func (h *handler) requestPasswordReset(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	if err := h.m.RequestPasswordReset(ctx, p); err != nil {
		return response{}, err
	}
	return textOK(h.mailNotice(resetSent, noResetMail)), nil
}
