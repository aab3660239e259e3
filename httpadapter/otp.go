package httpadapter

import (
	"context"
	"encoding/json"
	"net/http"
	"path"
	"strconv"

	"github.com/usermgmt/usermgmt"
)

// The two-factor routes: the second step of login, enrolment (QR code,
// setup, mailed code) and switching the method.

// otpCookie carries the login challenge between the two steps of a
// two-factor login, for browser clients.
const otpCookie = "otp_token"

// otpRequiredBody is the reference's two-factor answer, plus our code and
// the challenge for clients without cookies.
type otpRequiredBody struct {
	Detail   otpRequiredDetail `json:"detail"`
	Code     string            `json:"code"`
	OTPToken string            `json:"otp_token"`
	Method   string            `json:"otp_method"`
}

type otpRequiredDetail struct {
	Error string `json:"error"`
}

// otpPathKey is the request context key of the core OTP route's full
// path (withOTPPath), where the challenge cookie is scoped.
type otpPathKey struct{}

// otpRoutePath is the path of the core's second-step route, relative to
// the API prefix.
const otpRoutePath = "/auth/OTP"

// withOTPPath tells writeOTPChallenge where the API's OTP route is, so
// that the challenge of any route (a feature's /auth/email-code/verify or
// /auth/passkeys/login/finish as well as /auth/login) is scoped to
// {prefix}/auth/OTP, the one route that reads it.
func withOTPPath(prefix string, next http.Handler) http.Handler {
	p := prefix + otpRoutePath
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), otpPathKey{}, p)))
	})
}

// otpCookiePath is the path of the challenge cookie: the core OTP route,
// or, for a handler not bound by New, the OTP route beside r's route.
func otpCookiePath(r *http.Request) string {
	if p, ok := r.Context().Value(otpPathKey{}).(string); ok {
		return p
	}
	return path.Dir(r.URL.Path) + "/OTP"
}

// writeOTPChallenge answers a login that needs its second step: 401 with
// the challenge in the body and in an HttpOnly cookie scoped to the API's
// OTP route ({prefix}/auth/OTP), whichever route began the login.
func writeOTPChallenge(w http.ResponseWriter, r *http.Request, c *usermgmt.OTPChallengeError) {
	body, _ := json.Marshal(otpRequiredBody{
		Detail: otpRequiredDetail{Error: "OTP-REQUIRED"}, Code: usermgmt.ErrOTPRequired.Code,
		OTPToken: c.Token, Method: c.Method,
	})
	http.SetCookie(w, &http.Cookie{
		Name: otpCookie, Value: c.Token, Path: otpCookiePath(r),
		MaxAge: int(usermgmt.OTPChallengeTTL.Seconds()), HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode,
	})
	h := w.Header()
	h.Set("WWW-Authenticate", "Bearer")
	setNoStore(h)
	h.Set("Content-Type", "application/json")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	h.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusUnauthorized)
	_, _ = w.Write(body)
}

type otpLoginInput struct{ challenge, code string }

// decodeOTPLogin reads otp_code from the query or the body (a string or a
// JSON number) and the challenge from the otp_token field, the otp_token
// cookie or an Authorization: Bearer header, in that order.
func decodeOTPLogin(r *http.Request) (otpLoginInput, error) {
	q, err := Query(r)
	if err != nil {
		return otpLoginInput{}, err
	}
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return otpLoginInput{}, err
	}
	in := otpLoginInput{code: q.Get("otp_code")}
	if in.code == "" {
		in.code = codeField(f, "otp_code")
	}
	in.challenge, _ = f.String("otp_token")
	if err := f.Err(); err != nil {
		return otpLoginInput{}, err
	}
	if in.challenge == "" {
		if c, err := r.Cookie(otpCookie); err == nil {
			in.challenge = c.Value
		}
	}
	if in.challenge == "" {
		in.challenge, _ = bearerToken(r)
	}
	switch {
	case in.code == "":
		return otpLoginInput{}, invalid("otp_code: field required")
	case in.challenge == "":
		return otpLoginInput{}, usermgmt.ErrInvalidToken.WithMessage("No two-factor challenge: log in first.")
	}
	return in, nil
}

// codeField reads a code sent as a string or as a JSON number.
func codeField(f *Fields, name string) string {
	raw, v, ok := f.raw(name)
	if !ok {
		return ""
	}
	if raw == nil {
		return v
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String()
	}
	s, _ := f.String(name)
	return s
}

func (h *handler) loginOTP(w http.ResponseWriter, r *http.Request, _ *usermgmt.Principal, in otpLoginInput) error {
	t, err := h.m.LoginOTP(r.Context(), in.challenge, in.code)
	if err != nil {
		return err
	}
	http.SetCookie(w, &http.Cookie{Name: otpCookie, Path: r.URL.Path, MaxAge: -1, HttpOnly: true, Secure: true, SameSite: http.SameSiteStrictMode})
	jsonOK(newTokenResponse(t)).write(w, r, h.log)
	return nil
}

type otpMethodInput struct{ method, code, password string }

// decodeOTPMethod reads the path's method, otp_code from the query or the
// body, and an optional password from the body.
func decodeOTPMethod(r *http.Request) (otpMethodInput, error) {
	q, err := Query(r)
	if err != nil {
		return otpMethodInput{}, err
	}
	f, err := ReadFields(r, jsonOrForm)
	if err != nil {
		return otpMethodInput{}, err
	}
	in := otpMethodInput{method: r.PathValue("method"), code: q.Get("otp_code")}
	if in.code == "" {
		in.code = codeField(f, "otp_code")
	}
	in.password, _ = f.String("password")
	if err := f.Err(); err != nil {
		return otpMethodInput{}, err
	}
	switch in.method {
	case usermgmt.OTPAuthenticator, usermgmt.OTPEmail, usermgmt.OTPNone:
	default:
		return otpMethodInput{}, invalid("method: must be one of authenticator, email, none")
	}
	if in.code == "" && (in.method != usermgmt.OTPNone || in.password == "") {
		return otpMethodInput{}, invalid("otp_code: field required")
	}
	return in, nil
}

// otpMethodResult is the user after the change, with the recovery codes
// when two-factor was just enabled.
type otpMethodResult struct {
	userRead
	RecoveryCodes []string `json:"recovery_codes,omitempty"`
}

func (h *handler) changeOTPMethod(ctx context.Context, p *usermgmt.Principal, in otpMethodInput) (response, error) {
	u, codes, err := h.m.ChangeOTPMethod(ctx, p.User().UUID, in.method, in.code, in.password)
	if err != nil {
		return response{}, err
	}
	return jsonOK(otpMethodResult{userRead: h.wire.user(u), RecoveryCodes: codes}), nil
}

func (h *handler) otpQR(w http.ResponseWriter, r *http.Request, p *usermgmt.Principal, _ none) error {
	img, err := h.m.OTPQRCode(r.Context(), p.User().UUID)
	if err != nil {
		return err
	}
	hdr := w.Header()
	setNoStore(hdr)
	hdr.Set("Content-Type", "image/png")
	hdr.Set("Content-Length", strconv.Itoa(len(img)))
	hdr.Set("X-Content-Type-Options", "nosniff")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(img)
	return nil
}

// otpSetupRead is the JSON of an enrolment.
type otpSetupRead struct {
	URI    string `json:"uri"`
	Secret string `json:"secret"`
}

func (h *handler) otpSetup(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	s, err := h.m.SetupOTP(ctx, p.User().UUID)
	if err != nil {
		return response{}, err
	}
	return jsonOK(otpSetupRead{URI: s.URI, Secret: s.Secret}), nil
}

func (h *handler) sendEmailOTP(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	if err := h.m.SendEmailOTP(ctx, p.User().UUID); err != nil {
		return response{}, err
	}
	return textOK(h.mailNotice("A code was sent to your email address.", noCodeMail)), nil
}
