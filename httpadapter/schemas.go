package httpadapter

// The JSON schemas of the route table's Request and Response names, for the
// OpenAPI document. Every name a route uses must be here (a test checks);
// a subject that adds routes adds its names in this one file.

import (
	"slices"
	"strings"
)

// js is a JSON Schema object.
type js = map[string]any

func str() js              { return js{"type": "string"} }
func strDesc(d string) js  { return js{"type": "string", "description": d} }
func integer() js          { return js{"type": "integer"} }
func boolean() js          { return js{"type": "boolean"} }
func uuidStr() js          { return js{"type": "string", "format": "uuid"} }
func unixTime() js         { return js{"type": "integer", "description": "Unix seconds"} }
func arrayOf(items js) js  { return js{"type": "array", "items": items} }
func ref(name string) js   { return js{"$ref": "#/components/schemas/" + name} }
func nullable(s string) js { return js{"type": []string{s, "null"}} }
func dateTime() js         { return js{"type": "string", "format": "date-time"} }
func obj(props js, required ...string) js {
	o := js{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// param is a query or header parameter of a request.
type param struct {
	name     string
	schema   js
	required bool
	desc     string
	// in is "query" (when empty) or "header".
	in string
}

// requestDef is what a Request name stands for: query and header
// parameters and/or a body (a component schema name). Path parameters come
// from the path, as strings unless path gives their schema.
type requestDef struct {
	params []param
	path   map[string]js
	body   string
	// bodyRequired is true when the body must be sent; a body whose
	// fields may all come elsewhere (query, header, cookie) or may all be
	// absent is optional.
	bodyRequired bool
	// media, when set, names another schema than body for some media
	// types (Input.Media).
	media map[string]string
}

var (
	pageParams = []param{
		{name: "skip", schema: js{"type": "integer", "minimum": 0, "default": 0}},
		{name: "limit", schema: js{"type": "integer", "minimum": 0, "maximum": 1000, "default": 100}},
	}
	fileIDPath   = map[string]js{"file_id": integer()}
	otpCodeQuery = param{name: "otp_code", schema: str(), desc: "Or otp_code in the body."}
)

// requestDefs maps every Request name of the route table but the pages'.
var requestDefs = map[string]requestDef{
	"RegisterForm":       {body: "RegisterForm", bodyRequired: true},
	"LoginForm":          {body: "LoginForm", bodyRequired: true},
	"RefreshForm":        {body: "RefreshForm", bodyRequired: true},
	"SessionID":          {},
	"UserUUID":           {},
	"UserCreate":         {body: "UserCreate", bodyRequired: true},
	"UserUpdate":         {body: "UserUpdate", bodyRequired: true},
	"BanForm":            {body: "BanForm", bodyRequired: true},
	"UnbanForm":          {body: "UnbanForm"},
	"BlockedUsersIDs":    {params: []param{{name: "users_ids", schema: arrayOf(uuidStr()), desc: "Repeatable; or users_ids in the JSON body."}}, body: "BlockedUsersIDs"},
	"BlockedUsersChange": {params: []param{{name: "remove", schema: arrayOf(uuidStr())}, {name: "add", schema: arrayOf(uuidStr())}}, body: "BlockedUsersChange"},
	"UserIDs":            {params: []param{{name: "users_ids", schema: arrayOf(str()), desc: "Repeatable."}}},
	"UserPage": {params: append(slices.Clone(pageParams),
		param{name: "search", schema: str(), desc: "Username or email prefix."},
		param{name: "cursor", schema: str(), desc: "The X-Next-Cursor header of the previous page."},
	)},
	"AuditQuery": {params: []param{
		{name: "actor", schema: uuidStr()},
		{name: "subject", schema: uuidStr()},
		{name: "action", schema: arrayOf(str()), desc: "Repeatable."},
		{name: "since", schema: js{"type": "string", "format": "date-time"}},
		{name: "until", schema: js{"type": "string", "format": "date-time"}},
		{name: "limit", schema: js{"type": "integer", "minimum": 0, "maximum": 1000, "default": 50}},
		{name: "cursor", schema: str(), desc: "next_cursor of the previous page."},
	}},

	// files
	"UploadForm": {params: []param{{name: "description", schema: str(), desc: "Or a description part before the file."}},
		body: "UploadForm", bodyRequired: true},
	"FilePage":   {params: pageParams},
	"FileIDs":    {params: []param{{name: "files_ids", schema: arrayOf(integer()), desc: "Repeatable."}}},
	"FileID":     {path: fileIDPath},
	"FileUpdate": {path: fileIDPath, body: "FileUpdate"},

	// third-party login
	"OAuthStart": {params: []param{
		{name: "redirect_uri", schema: str(), desc: "An allow-listed target to send the tokens to (in the fragment)."},
		{name: "ticket", schema: str(), desc: "A link ticket from POST /oauth/{provider}/link."},
	}},
	"OAuthCallback": {params: []param{{name: "state", schema: str()}, {name: "code", schema: str()}, {name: "error", schema: str()},
		{name: "iss", schema: str(), desc: "The issuer of the answer (RFC 9207); when sent, it must be the provider's."}}},
	"OAuthLinkForm": {body: "OAuthLinkForm"},
	"Provider":      {},

	// account security
	"OTPLoginForm": {params: []param{otpCodeQuery}, body: "OTPLoginForm"},
	"OTPMethodForm": {params: []param{otpCodeQuery}, body: "OTPMethodForm",
		path: map[string]js{"method": js{"type": "string", "enum": []string{"authenticator", "email", "none"}}}},
	"VerifyEmailQuery": {params: []param{
		{name: "token", schema: str(), required: true},
		{name: "redirect", schema: str(), desc: "An allow-listed target instead of FRONTEND_URL."},
	}},
	"ResendVerificationForm": {body: "ResendVerificationForm", bodyRequired: true},
	"ForgotPasswordForm":     {body: "ForgotPasswordForm", bodyRequired: true},
	"ForgotPasswordQuery":    {params: []param{{name: "username", schema: str()}, {name: "email", schema: str()}}},
	"ResetPasswordForm": {params: []param{{name: "Authorization-Header", in: "header", schema: str(),
		desc: "The reference's \"bearer <token>\", when token is not in the body."}}, body: "ResetPasswordForm", bodyRequired: true},
	"ChangePasswordForm": {body: "ChangePasswordForm", bodyRequired: true},

	// feature flags
	"FeatureFlagsUpdate": {body: "FeatureFlagsUpdate", bodyRequired: true},
}

// componentSchemas are the named schemas of request bodies and responses.
func componentSchemas() js {
	user := js{
		"uuid": uuidStr(), "username": str(), "display_name": str(), "email": str(),
		"email_verified": boolean(), "otp_method": js{"type": "string", "enum": []string{"none", "authenticator", "email"}},
		"roles": arrayOf(str()), "description": nullable("string"), "is_external_only": boolean(),
		"is_active": boolean(), "blocked_uuids": arrayOf(str()), "profile_picture": js{"oneOf": []any{ref("FileRead"), js{"type": "null"}}},
		"created_at": unixTime(), "updated_at": unixTime(),
		"user_history":      arrayOf(obj(js{"time": str(), "action": str(), "description": str(), "by": str()})),
		"external_accounts": arrayOf(obj(externalAccountProps)),
		"files":             arrayOf(ref("FileRead")), "picture_url": str(),
		"impersonated_by": js{"type": "string", "format": "uuid",
			"description": "GET /user/me only, while an admin impersonates the user: the admin's UUID (the token's act.sub). Absent otherwise."},
	}
	details := js{}
	for _, k := range []string{"uuid", "username", "display_name", "roles", "description", "is_active", "profile_picture", "created_at", "updated_at", "files", "picture_url"} {
		details[k] = user[k]
	}
	return js{
		"Error": obj(js{"detail": js{"description": "A message, or the reference's {\"error\": \"OTP-REQUIRED\"}."}, "code": str(),
			"otp_token":  strDesc("The second-factor challenge (code otp_required): send it with the code to POST /auth/OTP."),
			"otp_method": js{"type": "string", "enum": []string{"authenticator", "email"}, "description": "The second factor asked for (code otp_required)."}}, "detail"),
		"Token": obj(js{"access_token": str(), "token_type": js{"const": "bearer"}, "refresh_token": str(), "expires_in": integer()},
			"access_token", "token_type"),
		"RegisterForm": obj(js{"username": str(), "email": str(), "password": str(), "confirm_password": str(), "display_name": str()},
			"username", "email", "password", "confirm_password"),
		"LoginForm": obj(js{"grant_type": js{"const": "password"}, "username": strDesc("Username or email."), "password": str(),
			"scope": str(), "client_id": str(), "client_secret": str()}, "username", "password"),
		"RefreshForm": obj(js{"grant_type": js{"const": "refresh_token"}, "refresh_token": str()}, "refresh_token"),
		"Session": obj(js{"id": str(), "created_at": unixTime(), "last_used_at": unixTime(), "expires_at": unixTime(),
			"ip": str(), "user_agent": str(), "current": boolean()}),
		"UserRead":    obj(user),
		"UserDetails": obj(details),
		"FileRead": obj(js{"id": integer(), "file_name": str(), "file_type": str(), "description": nullable("string"),
			"created_at": unixTime(), "created_by_uuid": nullable("string"), "owner_uuid": str(), "content_type": str(),
			"size": integer(), "sha256": str(), "file_url": str()}),
		"UserCreate": obj(js{"username": str(), "email": str(), "password": str(), "display_name": str(), "roles": arrayOf(str()),
			"description": str(), "email_verified": boolean(), "is_active": boolean()}, "username", "email", "password"),
		"UserUpdate": obj(js{"username": str(), "display_name": str(), "email": str(), "password": str(), "description": str(),
			"roles": arrayOf(str()), "is_active": boolean(), "email_verified": boolean(),
			"otp_method": js{"type": "string", "enum": []string{"none", "authenticator", "email"},
				"description": "Only \"none\" (turning the second factor off) or the current method; turning one on is PATCH /auth/OTP/{method}."}}),
		"BanForm":   obj(js{"reason": str()}, "reason"),
		"UnbanForm": obj(js{"reason": str()}),
		"BanResult": obj(js{"Admin": str(), "Action": str(), "User": str(), "Reason": str()}),
		"Version":   obj(js{"Project_Version": str(), "Go_Version": str()}),
		"Ready":     obj(js{"status": js{"const": "ready"}}, "status"),
		"JWKS": obj(js{"keys": arrayOf(obj(js{"kty": str(), "use": str(), "alg": str(), "kid": str(),
			"crv": str(), "x": str(), "y": str(), "n": str(), "e": str()}, "kty", "alg", "kid"))}, "keys"),
		"OpenIDConfiguration": obj(js{"issuer": str(), "jwks_uri": str(),
			"id_token_signing_alg_values_supported": arrayOf(str())}, "issuer", "jwks_uri"),
		"BlockedUsersIDs":    obj(js{"users_ids": arrayOf(uuidStr())}),
		"BlockedUsersChange": obj(js{"remove": arrayOf(uuidStr()), "add": arrayOf(uuidStr())}),
		"AuditPage": obj(js{
			"entries": arrayOf(obj(js{"id": integer(), "time": js{"type": "string", "format": "date-time"}, "actor_uuid": str(),
				"subject_uuid": str(), "action": str(), "detail": str(), "ip": str(),
				"impersonator_uuid": strDesc("The admin who acted as actor_uuid, on an entry written while impersonating; absent otherwise.")})),
			"next_cursor": nullable("string"),
		}, "entries", "next_cursor"),
		"UserExport": obj(js{"exported_at": dateTime(), "user": obj(js{"uuid": uuidStr(), "username": str(), "display_name": str(),
			"email": str(), "email_verified": boolean(), "otp_method": str(), "roles": nullable("array"), "description": str(),
			"is_external_only": boolean(), "is_active": boolean(), "blocked_uuids": nullable("array"), "profile_picture_id": nullable("integer"),
			"created_at": dateTime(), "updated_at": dateTime()}, "uuid", "username", "email", "created_at"),
			"sessions": arrayOf(obj(js{"id": str(), "created_at": dateTime(), "rotated_at": dateTime(), "expires_at": dateTime(),
				"ip": str(), "user_agent": str()}, "id")),
			"audit": arrayOf(obj(js{"id": integer(), "time": dateTime(), "actor_uuid": str(), "subject_uuid": str(), "action": str(),
				"detail": str(), "ip": str()}, "id", "time", "action")),
			"two_factor": obj(js{"method": js{"type": "string", "enum": []string{"none", "authenticator", "email"}}}, "method"),
			"files": arrayOf(obj(js{"id": integer(), "file_name": str(), "file_type": str(), "content_type": str(), "size": integer(),
				"sha256": str(), "description": str(), "created_by_uuid": str(), "created_at": js{"type": "string", "format": "date-time"}})),
			"external_accounts": arrayOf(obj(js{"provider": str(), "subject": str(), "username": str(), "display_name": str(), "email": str(),
				"picture_url": str(), "created_at": js{"type": "string", "format": "date-time"}, "updated_at": js{"type": "string", "format": "date-time"}})),
		}, "exported_at", "user", "sessions", "audit", "two_factor", "files", "external_accounts"),

		// files
		"UploadForm": obj(js{"description": str(), "file": js{"type": "string", "contentMediaType": "application/octet-stream"}}, "file"),
		"FileUpdate": obj(js{"description": js{"type": []string{"string", "null"}, "description": "Absent or null clears it."}}),

		// third-party login
		// The required fields keep a token answer from matching
		// ExternalAccount too (OAuthResult is a oneOf).
		"ExternalAccount": obj(externalAccountProps, "external_account_id", "provider", "user_uuid"),
		"OAuthResult": js{"description": "The tokens of a login, or the linked account of a link flow.",
			"oneOf": []any{ref("Token"), ref("ExternalAccount")}},
		"OAuthLinkForm": obj(js{"redirect_uri": strDesc("An allow-listed target to return to after the link.")}),
		"OAuthURL":      obj(js{"url": str(), "expires_at": unixTime()}, "url", "expires_at"),

		// account security
		"OTPLoginForm":  obj(js{"otp_code": otpCode, "otp_token": strDesc("The challenge; or the otp_token cookie, or a bearer header.")}),
		"OTPMethodForm": obj(js{"otp_code": otpCode, "password": strDesc("Instead of otp_code, to turn two-factor off.")}),
		"OTPMethodResult": js{"allOf": []any{ref("UserRead"),
			obj(js{"recovery_codes": js{"type": "array", "items": str(), "description": "Only when two-factor was just turned on."}})}},
		"OTPSetup":               obj(js{"uri": str(), "secret": str()}, "uri", "secret"),
		"ResendVerificationForm": obj(js{"email": str(), "username": strDesc("Instead of email.")}),
		"ForgotPasswordForm":     obj(js{"username": str(), "email": str()}),
		"ResetPasswordForm": obj(js{"token": strDesc("Or the Authorization-Header header."), "new_password": str(), "confirm_password": str()},
			"new_password", "confirm_password"),
		"ChangePasswordForm": obj(js{"old_password": str(), "new_password": str(), "confirm_password": str()},
			"old_password", "new_password", "confirm_password"),

		// feature flags
		"Flag": js{"description": "true or false, or a list of rules of which any one must pass.", "oneOf": []any{boolean(),
			arrayOf(obj(js{"percentageOfUsers": js{"type": "number", "minimum": 0, "maximum": 1}, "userRoles": arrayOf(str())}))}},
		"FeatureFlags": js{"type": "object", "additionalProperties": ref("Flag")},
		"FeatureFlagsUpdate": obj(js{
			"add":    js{"type": "object", "additionalProperties": ref("Flag"), "description": "In a form, a JSON object."},
			"remove": js{"description": "Flag names (or an object whose keys are); in a form, JSON or repeated names.", "oneOf": []any{arrayOf(str()), js{"type": "object"}}},
		}),
	}
}

// otpCode is a one-time or recovery code, as a string or a number.
var otpCode = js{"type": []string{"string", "integer"}}

// externalAccountProps are the properties of the JSON of a linked third-party account.
var externalAccountProps = js{"external_account_id": str(), "provider": str(), "user_uuid": str(), "username": str(),
	"display_name": str(), "email": str(), "picture_url": str()}

// rawContent is the schema of raw content.
func rawContent(media string) js { return js{"type": "string", "contentMediaType": media} }

// imageTypes are the media types a stored picture is served as.
var imageTypes = []string{"image/png", "image/jpeg", "image/gif", "image/bmp"}

// responseContent returns the content (media type → schema) of a Response
// name; ok is false for a name without one.
func responseContent(name string, components js) (content js, ok bool) {
	one := func(media string, s js) (js, bool) { return js{media: js{"schema": s}}, true }
	switch name {
	case "text":
		return one("text/plain", str())
	case "html":
		return one("text/html", str())
	case "binary":
		return one("application/octet-stream", rawContent("application/octet-stream"))
	case "image/png":
		return one("image/png", rawContent("image/png"))
	case "image", "file":
		// A picture (or the generated initials, a PNG); a file's raster
		// images are inline, plain text is text, the rest octet-stream.
		c := js{}
		for _, t := range imageTypes {
			c[t] = js{"schema": rawContent(t)}
		}
		if name == "file" {
			for _, t := range []string{"text/plain", "application/octet-stream"} {
				c[t] = js{"schema": rawContent(t)}
			}
		}
		return c, true
	case "string":
		return one(mediaJSON, str())
	case "integer":
		return one(mediaJSON, integer())
	case "[]string":
		return one(mediaJSON, arrayOf(str()))
	}
	if elem, isList := strings.CutPrefix(name, "[]"); isList {
		if _, found := components[elem]; found {
			return one(mediaJSON, arrayOf(ref(elem)))
		}
		return nil, false
	}
	if _, found := components[name]; found {
		return one(mediaJSON, ref(name))
	}
	return nil, false
}
