package httpadapter

// The JSON schemas of the route table's Request and Response names, for the
// OpenAPI document. Every name a route uses must be here (a test checks);
// a subject that adds routes adds its names in this one file.

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
func obj(props js, required ...string) js {
	o := js{"type": "object", "properties": props}
	if len(required) > 0 {
		o["required"] = required
	}
	return o
}

// param is a query parameter of a request.
type param struct {
	name     string
	schema   js
	required bool
	desc     string
}

// requestDef is what a Request name stands for: query parameters and/or a
// body (a component schema name). Path parameters come from the path.
type requestDef struct {
	query []param
	body  string
}

// requestDefs maps every Request name of the route table.
var requestDefs = map[string]requestDef{
	"RegisterForm":       {body: "RegisterForm"},
	"LoginForm":          {body: "LoginForm"},
	"RefreshForm":        {body: "RefreshForm"},
	"SessionID":          {},
	"UserUUID":           {},
	"UserCreate":         {body: "UserCreate"},
	"UserUpdate":         {body: "UserUpdate"},
	"BanForm":            {body: "BanForm"},
	"UnbanForm":          {body: "UnbanForm"},
	"ExportUpload":       {body: "ExportUpload"},
	"BlockedUsersIDs":    {query: []param{{name: "users_ids", schema: arrayOf(uuidStr()), desc: "Repeatable; or users_ids in the JSON body."}}, body: "BlockedUsersIDs"},
	"BlockedUsersChange": {query: []param{{name: "remove", schema: arrayOf(uuidStr())}, {name: "add", schema: arrayOf(uuidStr())}}, body: "BlockedUsersChange"},
	"UserIDs":            {query: []param{{name: "users_ids", schema: arrayOf(str()), desc: "Repeatable."}}},
	"UserPage": {query: []param{
		{name: "skip", schema: js{"type": "integer", "minimum": 0, "default": 0}},
		{name: "limit", schema: js{"type": "integer", "minimum": 0, "maximum": 1000, "default": 100}},
		{name: "search", schema: str(), desc: "Username or email prefix."},
		{name: "cursor", schema: str(), desc: "The X-Next-Cursor header of the previous page."},
	}},
	"AuditQuery": {query: []param{
		{name: "actor", schema: uuidStr()},
		{name: "subject", schema: uuidStr()},
		{name: "action", schema: arrayOf(str()), desc: "Repeatable."},
		{name: "since", schema: js{"type": "string", "format": "date-time"}},
		{name: "until", schema: js{"type": "string", "format": "date-time"}},
		{name: "limit", schema: js{"type": "integer", "minimum": 0, "maximum": 1000, "default": 50}},
		{name: "cursor", schema: str(), desc: "next_cursor of the previous page."},
	}},
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
		"external_accounts": arrayOf(obj(js{"external_account_id": str(), "provider": str(), "user_uuid": str(), "username": str(), "display_name": str(), "email": str(), "picture_url": str()})),
		"files":             arrayOf(ref("FileRead")), "picture_url": str(),
	}
	details := js{}
	for _, k := range []string{"uuid", "username", "display_name", "roles", "description", "is_active", "profile_picture", "created_at", "updated_at", "files", "picture_url"} {
		details[k] = user[k]
	}
	return js{
		"Error": obj(js{"detail": js{"description": "A message, or the reference's {\"error\": \"OTP-REQUIRED\"}."}, "code": str()}, "detail"),
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
		"FileRead": obj(js{"id": integer(), "file_name": str(), "file_type": str(), "description": str(),
			"created_at": unixTime(), "created_by_uuid": str()}),
		"UserCreate": obj(js{"username": str(), "email": str(), "password": str(), "display_name": str(), "roles": arrayOf(str()),
			"description": str(), "email_verified": boolean(), "is_active": boolean()}, "username", "email", "password"),
		"UserUpdate": obj(js{"username": str(), "display_name": str(), "email": str(), "password": str(), "description": str(),
			"roles": arrayOf(str()), "is_active": boolean()}),
		"BanForm":            obj(js{"reason": str()}, "reason"),
		"UnbanForm":          obj(js{"reason": str()}),
		"BanResult":          obj(js{"Admin": str(), "Action": str(), "User": str(), "Reason": str()}),
		"Version":            obj(js{"Project_Version": str(), "Go_Version": str()}),
		"BlockedUsersIDs":    obj(js{"users_ids": arrayOf(uuidStr())}),
		"BlockedUsersChange": obj(js{"remove": arrayOf(uuidStr()), "add": arrayOf(uuidStr())}),
		"AuditPage": obj(js{
			"entries": arrayOf(obj(js{"id": integer(), "time": js{"type": "string", "format": "date-time"}, "actor_uuid": str(),
				"subject_uuid": str(), "action": str(), "detail": str(), "ip": str()})),
			"next_cursor": nullable("string"),
		}, "entries", "next_cursor"),
		"Export": obj(js{
			"format": js{"const": "usermgmt-export"}, "version": js{"const": 1}, "dialect": str(),
			"exported_at": js{"type": "string", "format": "date-time"},
			"tables":      arrayOf(obj(js{"name": str(), "key": arrayOf(str()), "rows": arrayOf(js{"type": "object"})})),
		}, "format", "version", "tables"),
		"ExportUpload": js{"description": "multipart/form-data with the export in the part \"file\", or the export as the JSON body.",
			"oneOf": []any{obj(js{"file": js{"type": "string", "contentMediaType": "application/json"}}, "file"), ref("Export")}},
		"ImportResult": obj(js{"tables": arrayOf(obj(js{"table": str(), "inserted": integer(), "updated": integer(), "unchanged": integer()}))}),
		"UserExport": obj(js{"exported_at": js{"type": "string", "format": "date-time"}, "user": js{"type": "object"},
			"sessions": arrayOf(js{"type": "object"}), "audit": arrayOf(js{"type": "object"})}),
	}
}

// responseSchema returns the schema and media type of a Response name; ok
// is false for a name without one.
func responseSchema(name string, components js) (schema js, media string, ok bool) {
	switch name {
	case "text":
		return str(), "text/plain", true
	case "html":
		return str(), "text/html", true
	case "binary":
		return js{"type": "string", "contentMediaType": "application/octet-stream"}, "application/octet-stream", true
	case "string":
		return str(), mediaJSON, true
	case "integer":
		return integer(), mediaJSON, true
	case "[]string":
		return arrayOf(str()), mediaJSON, true
	}
	if len(name) > 2 && name[:2] == "[]" {
		if _, found := components[name[2:]]; found {
			return arrayOf(ref(name[2:])), mediaJSON, true
		}
		return nil, "", false
	}
	if _, found := components[name]; found {
		return ref(name), mediaJSON, true
	}
	return nil, "", false
}
