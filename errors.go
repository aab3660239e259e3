package usermgmt

import (
	"errors"
	"fmt"
	"net/http"
)

// Error is the error every Manager method returns for a failure a caller can act
// on. Code is stable and snake_case (clients may switch on it); Status is the
// HTTP status httpadapter answers with; Message is safe to show to an end user.
// Err, when set, is the internal cause: it is logged, never sent to a client.
//
// Match an Error with errors.Is against the sentinels below (codes are
// compared), or read it with errors.As.
type Error struct {
	Code    string
	Status  int
	Message string
	Params  map[string]any
	Err     error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return e.Code + ": " + e.Message
}

// Unwrap returns the internal cause.
func (e *Error) Unwrap() error { return e.Err }

// Is reports whether target is an *Error with the same code.
func (e *Error) Is(target error) bool {
	t, ok := target.(*Error)
	return ok && t.Code == e.Code
}

// WithMessage returns a copy of e carrying another message.
func (e *Error) WithMessage(msg string) *Error {
	c := *e
	c.Message = msg
	return &c
}

// WithParam returns a copy of e carrying one more parameter.
func (e *Error) WithParam(key string, value any) *Error {
	c := *e
	c.Params = make(map[string]any, len(e.Params)+1)
	for k, v := range e.Params {
		c.Params[k] = v
	}
	c.Params[key] = value
	return &c
}

// Wrap returns a copy of e whose internal cause is err.
func (e *Error) Wrap(err error) *Error {
	c := *e
	c.Err = err
	return &c
}

func newError(status int, code, msg string) *Error {
	return &Error{Code: code, Status: status, Message: msg}
}

// The error catalogue. Each is a sentinel for errors.Is; Manager methods return
// copies that may carry a more specific message and parameters.
var (
	// Storage outcomes, returned by Store implementations.
	ErrNotFound = newError(http.StatusNotFound, "not_found", "Not found")
	ErrConflict = newError(http.StatusConflict, "conflict", "Already exists")

	// Input validation.
	ErrInvalidInput       = newError(http.StatusBadRequest, "invalid_input", "Invalid input")
	ErrInvalidUsername    = newError(http.StatusBadRequest, "invalid_username", "Username must be 5 to 32 characters long and contain only lowercase letters, numbers and underscores.")
	ErrInvalidDisplayName = newError(http.StatusBadRequest, "invalid_display_name", "The display name must be the same as the username. Capitalization allowed. Spaces are only allowed in place of underscores.")
	ErrInvalidEmail       = newError(http.StatusBadRequest, "invalid_email", "Email is not valid.")
	ErrWeakPassword       = newError(http.StatusBadRequest, "weak_password", "Password does not meet the password policy.")
	ErrPasswordTooLong    = newError(http.StatusBadRequest, "password_too_long", "Password is too long: use at most 72 characters (a letter with an accent or a symbol may count as 2 to 4).")
	// ErrInvalidPasswordHash is a hash to store as is (NewUser.PasswordHash,
	// an import) that the hasher cannot check: unknown format, malformed or
	// of absurd parameters.
	ErrInvalidPasswordHash = newError(http.StatusUnprocessableEntity, "invalid_password_hash", "The password hash is in no supported format or has parameters out of bounds.")
	ErrPasswordMismatch    = newError(http.StatusBadRequest, "password_mismatch", "Passwords do not match")
	ErrInvalidRole         = newError(http.StatusBadRequest, "invalid_role", "Unknown role.")
	ErrInvalidDescription  = newError(http.StatusBadRequest, "invalid_description", "Description must be at most 256 characters long, with no control characters but line breaks and tabs.")
	ErrInvalidUUID         = newError(http.StatusBadRequest, "invalid_uuid", "Invalid UUID.")

	// Accounts.
	ErrUserNotFound     = newError(http.StatusNotFound, "user_not_found", "User not found")
	ErrUsernameTaken    = newError(http.StatusConflict, "username_taken", "This username is already taken.")
	ErrEmailTaken       = newError(http.StatusConflict, "email_taken", "This email is already registered.")
	ErrCannotBanSelf    = newError(http.StatusBadRequest, "cannot_ban_self", "You cannot ban yourself")
	ErrSessionNotFound  = newError(http.StatusNotFound, "session_not_found", "Session not found")
	ErrInactiveUser     = newError(http.StatusBadRequest, "inactive_user", "Inactive user, please contact support.")
	ErrForbidden        = newError(http.StatusForbidden, "forbidden", "Forbidden")
	ErrInvalidLogin     = newError(http.StatusUnauthorized, "invalid_credentials", "Incorrect username/email or password")
	ErrNotAuthenticated = newError(http.StatusUnauthorized, "not_authenticated", "Not authenticated")
	ErrInvalidToken     = newError(http.StatusUnauthorized, "invalid_token", "Invalid or expired token")
	ErrSessionRevoked   = newError(http.StatusUnauthorized, "session_revoked", "Session is no longer valid")
	// ErrAccessTokenClaims fails a login or refresh whose
	// Config.AccessTokenClaims hook returned an error (other than a 4xx
	// *Error, which is answered as it is) or a reserved, unencodable or
	// oversized claim. Nothing was stored: the client may try again.
	ErrAccessTokenClaims = newError(http.StatusServiceUnavailable, "access_token_claims_failed", "The sign-in could not be completed; try again later.")

	// Files and profile pictures.
	ErrFileNotFound       = newError(http.StatusNotFound, "file_not_found", "File not found")
	ErrFileNameTaken      = newError(http.StatusConflict, "file_name_taken", "You already have a file with this name.")
	ErrInvalidFileName    = newError(http.StatusBadRequest, "invalid_file_name", "The file needs a name.")
	ErrFileTooLarge       = newError(http.StatusRequestEntityTooLarge, "file_too_large", "The file is too large.")
	ErrInvalidImage       = newError(http.StatusBadRequest, "invalid_image", "File must be a valid image format")
	ErrImageTooLarge      = newError(http.StatusBadRequest, "image_too_large", "Image must be below 512x512 px")
	ErrStorageUnavailable = newError(http.StatusNotImplemented, "storage_unavailable", "File storage is not configured.")
	// Third-party login.
	ErrUnsupportedProvider  = newError(http.StatusNotFound, "unsupported_provider", "Unsupported provider")
	ErrOAuthState           = newError(http.StatusBadRequest, "invalid_oauth_state", "Invalid or expired login state; start the login again.")
	ErrOAuthFailed          = newError(http.StatusUnauthorized, "oauth_failed", "The provider did not confirm the login.")
	ErrOAuthProfile         = newError(http.StatusBadRequest, "oauth_profile_unavailable", "Unable to fetch user information")
	ErrOAuthEmailUnverified = newError(http.StatusUnauthorized, "oauth_email_unverified", "You need to verify your email associated with your account at the provider.")
	ErrLinkEmailNotVerified = newError(http.StatusConflict, "link_email_not_verified", "Email is not verified")
	ErrOAuthAlreadyLinked   = newError(http.StatusConflict, "oauth_already_linked", "This account is already linked to another user")
	ErrOAuthNotLinked       = newError(http.StatusBadRequest, "oauth_not_linked", "You don't have any account of this provider linked to your account.")
	ErrLastLoginMethod      = newError(http.StatusConflict, "last_login_method", "This is your only way to log in; set a password first.")
	ErrRedirectNotAllowed   = newError(http.StatusBadRequest, "redirect_not_allowed", "The redirect target is not allowed.")
	// Account security.
	ErrOTPRequired         = newError(http.StatusUnauthorized, "otp_required", "OTP-REQUIRED")
	ErrInvalidOTP          = newError(http.StatusUnauthorized, "invalid_otp", "Invalid OTP code")
	ErrAccountLocked       = newError(http.StatusTooManyRequests, "account_locked", "This account is locked after too many failed logins; try again later or reset your password.")
	ErrOTPLocked           = newError(http.StatusTooManyRequests, "otp_locked", "Too many failed codes; try again later.")
	ErrInvalidOTPMethod    = newError(http.StatusBadRequest, "invalid_otp_method", "Invalid OTP method")
	ErrOTPProofRequired    = newError(http.StatusUnprocessableEntity, "otp_proof_required", "A second factor is turned on by its owner with a code (PATCH /auth/OTP/{method}); an edit can only turn it off.")
	ErrEmailNotVerified    = newError(http.StatusForbidden, "email_not_verified", "Email not verified; check your inbox for the verification link.")
	ErrEmailUndeliverable  = newError(http.StatusBadRequest, "email_undeliverable", "This email address cannot receive mail.")
	ErrWrongPasswordChange = newError(http.StatusBadRequest, "invalid_password", "Invalid password")
	ErrSamePassword        = newError(http.StatusBadRequest, "same_password", "New password cannot be the same as old password")
	// Admin mail.
	ErrConfirmRequired     = newError(http.StatusBadRequest, "confirmation_required", "You must confirm the email")
	ErrInvalidMailTemplate = newError(http.StatusBadRequest, "invalid_mail_template", "The mail content is not a valid template.")
	// Feature flags and rate limits.
	ErrFeatureDisabled    = newError(http.StatusForbidden, "feature_disabled", "This feature is not available.")
	ErrRateLimited        = newError(http.StatusTooManyRequests, "rate_limited", "Too Many Requests")
	ErrLimiterUnavailable = newError(http.StatusServiceUnavailable, "rate_limiter_unavailable", "Service temporarily unavailable, try again later.")

	// Service state.
	ErrInternal = newError(http.StatusInternalServerError, "internal_error", "Internal server error")
	// ErrUnavailable is an outage of a part the service depends on (the
	// database refused or dropped the connection, timed out, is shutting
	// down, or its pool had no connection in time): the request may
	// succeed later. The HTTP layer answers 503 with Retry-After.
	ErrUnavailable = newError(http.StatusServiceUnavailable, "service_unavailable", "Service temporarily unavailable, try again later.")
	// ErrInsufficientStorage is a write refused for lack of space (ENOSPC,
	// EDQUOT, a full database): nothing was kept. The HTTP layer answers
	// 507.
	ErrInsufficientStorage = newError(http.StatusInsufficientStorage, "insufficient_storage", "The server has no room to store this; nothing was saved.")
)

// ConflictOn returns ErrConflict naming the unique field that was violated
// ("username", "email", ...). Store implementations use it so the Manager can
// tell which value was taken.
func ConflictOn(field string, cause error) *Error {
	return ErrConflict.WithParam("field", field).Wrap(cause)
}

// conflictField returns the field a conflict error names, or "".
func conflictField(err error) string {
	var e *Error
	if errors.As(err, &e) && e.Code == ErrConflict.Code {
		if f, ok := e.Params["field"].(string); ok {
			return f
		}
	}
	return ""
}

// AsError returns err as an *Error: itself when it is one (or wraps one), and
// ErrInternal wrapping it otherwise.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return ErrInternal.Wrap(err)
}
