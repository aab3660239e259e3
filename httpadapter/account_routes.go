package httpadapter

import (
	"net/http"

	"github.com/usermgmt/usermgmt"
)

// accountRoutes are the routes of account security: two-factor login and
// enrolment, email verification, and password forgot, reset and change.
func accountRoutes() []route {
	return []route{
		// two-factor
		{Route{Method: post, Path: "/auth/OTP", Name: "login_otp", Flag: "LOGIN_OTP", Tag: "auth", Statuses: []int{http.StatusUnauthorized},
			Summary: "Second step of a two-factor login: otp_code (query, form or JSON; a recovery code is accepted) and the challenge (otp_token field, otp_token cookie or bearer header).",
			Request: "OTPLoginForm", Encodings: jsonOrForm, Status: ok, Response: "Token"},
			rawOp[otpLoginInput]{decodeOTPLogin, (*handler).loginOTP}},
		{Route{Method: patch, Path: "/auth/OTP/{method}", Name: "change_otp_method", Flag: "CHANGE_OTP_METHOD", Tag: "auth", Statuses: []int{http.StatusConflict}, Auth: true,
			Summary: "Switch the caller's second factor (authenticator, email, none) after a valid otp_code (or, for none, the password); enabling answers ten recovery codes, once.",
			Request: "OTPMethodForm", Encodings: jsonOrForm, Status: ok, Response: "OTPMethodResult"},
			op[otpMethodInput]{decodeOTPMethod, (*handler).changeOTPMethod}},
		{Route{Method: get, Path: "/auth/QR", Name: "get_otp_qr", Flag: "GET_OTP_QR", Tag: "auth", Writes: true, Auth: true,
			Summary: "PNG QR code of the caller's TOTP provisioning URI (creating the secret if needed).",
			Status:  ok, Response: "image/png"},
			rawOp[none]{noInput, (*handler).otpQR}},
		{Route{Method: get, Path: "/auth/OTP/setup", Name: "otp_setup", Flag: "OTP_SETUP", Tag: "auth", Writes: true, Statuses: []int{http.StatusConflict}, Auth: true,
			Summary: "The caller's TOTP provisioning URI and secret, as JSON.", Status: ok, Response: "OTPSetup"},
			op[none]{noInput, (*handler).otpSetup}},
		{Route{Method: post, Path: "/auth/OTP/email/send", Name: "send_email_otp", Flag: "SEND_EMAIL_OTP", Tag: "auth", Auth: true,
			Summary: "Mail the caller a one-time code (to enrol the email method or disable two-factor).", Status: ok, Response: "text"},
			op[none]{noInput, (*handler).sendEmailOTP}},

		// email verification
		{Route{Method: get, Path: "/auth/email/verify", Name: "verify_email", Flag: "VERIFY_EMAIL", Tag: "auth", Writes: true, Statuses: []int{http.StatusUnauthorized},
			Summary: "Verify an address with the mailed token, then redirect to FRONTEND_URL (or an allow-listed redirect); with the pages served and no FRONTEND_URL, to /email-verified (?error=1 for a bad link).",
			Request: "VerifyEmailQuery", Status: http.StatusTemporaryRedirect},
			rawOp[verifyInput]{decodeVerify, (*handler).verifyEmail}},
		{Route{Method: post, Path: "/auth/email/verify/resend", Name: "resend_verification", Flag: "RESEND_VERIFICATION", Tag: "auth",
			Summary: "Send a new verification link (voiding the old) to an unverified account; the same answer whether or not it exists.",
			Request: "ResendVerificationForm", Encodings: jsonOrForm, Status: ok, Response: "text"},
			op[string]{decodeResend, (*handler).resendVerification}},

		// password
		{Route{Method: post, Path: "/auth/forgot-password/request", Name: "forgot_password_request", Flag: "FORGOT_PASSWORD_REQUEST", Tag: "auth",
			Summary: "Mail a password reset link; the same answer whether or not the account exists.",
			Request: "ForgotPasswordForm", Encodings: jsonOrForm, Status: ok, Response: "text"},
			op[forgotInput]{decodeForgotBody, (*handler).forgotPassword}},
		{Route{Method: get, Path: "/auth/forgot-password/request", Name: "forgot_password_request_get", Flag: "FORGOT_PASSWORD_REQUEST_GET", Tag: "auth", Writes: true,
			Summary: "The reference's GET form of forgot_password_request (query username, email).",
			Request: "ForgotPasswordQuery", Status: ok, Response: "text"},
			op[forgotInput]{decodeForgotQuery, (*handler).forgotPassword}},
		{Route{Method: post, Path: "/auth/forgot-password/reset", Name: "forgot_password_reset", Flag: "FORGOT_PASSWORD_RESET", Tag: "auth", Statuses: []int{http.StatusUnauthorized},
			Summary: "Set a new password with a reset token; revokes every session.",
			Request: "ResetPasswordForm", Encodings: jsonOrForm, Status: ok, Response: "text"},
			op[resetInput]{decodeReset, (*handler).resetPassword}},
		{Route{Method: get, Path: "/auth/forgot-password/reset", Name: "forgot_password_reset_get", Flag: "FORGOT_PASSWORD_RESET_GET", Tag: "auth", Writes: true, Statuses: []int{http.StatusUnauthorized},
			Summary: "The reference's GET form of forgot_password_reset: the same form body, the token in the Authorization-Header header (\"bearer <token>\") or the body.",
			Request: "ResetPasswordForm", Encodings: jsonOrForm, Status: ok, Response: "text"},
			op[resetInput]{decodeReset, (*handler).resetPassword}},
		{Route{Method: patch, Path: "/auth/password", Name: "change_password", Flag: "CHANGE_PASSWORD", Tag: "auth", Auth: true,
			Summary: "Change the caller's password; revokes their other sessions and mails a notice.",
			Request: "ChangePasswordForm", Encodings: jsonOrForm, Status: ok, Response: "text"},
			op[changePasswordInput]{decodeChangePassword, (*handler).changePassword}},
		{Route{Method: patch, Path: "/auth/password/reset", Name: "reset_password_reset", Flag: "RESET_PASSWORD_RESET", Tag: "auth", Auth: true,
			Summary: "The reference's path of change_password (same body).",
			Request: "ChangePasswordForm", Encodings: jsonOrForm, Status: ok, Response: "text"},
			op[changePasswordInput]{decodeChangePassword, (*handler).changePassword}},
		{Route{Method: get, Path: "/auth/password/reset", Name: "request_password_request", Flag: "REQUEST_PASSWORD_REQUEST", Tag: "auth", Writes: true, Auth: true,
			Summary: "Mail the caller a password reset link.", Status: ok, Response: "text"},
			op[none]{noInput, (*handler).requestPasswordReset}},
	}
}

// rawOp is an endpoint that writes its own success answer (a redirect, an
// image, a cookie); errors are answered as everywhere else.
type rawOp[In any] struct {
	decode func(r *http.Request) (In, error)
	call   func(h *handler, w http.ResponseWriter, r *http.Request, p *usermgmt.Principal, in In) error
}

func (o rawOp[In]) serve(h *handler, w http.ResponseWriter, r *http.Request, auth bool) {
	in, err := o.decode(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	var p *usermgmt.Principal
	if auth {
		if p, r, err = h.auth.authenticate(w, r); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if p != nil && p.Impersonator != "" {
		r = r.WithContext(usermgmt.ContextWithCaller(r.Context(), p))
	}
	if err := o.call(h, w, r, p, in); err != nil {
		h.fail(w, r, err)
	}
}
