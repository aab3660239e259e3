package httpadapter

import (
	"bytes"
	"errors"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// Every decoder must answer any input without panicking, and refuse what
// it refuses with a 4xx *usermgmt.Error (never a 5xx).

// fuzzRequest builds a POST with the given body and Content-Type, bounded
// like New bounds it.
func fuzzRequest(target, ctype string, body []byte) *http.Request {
	r := httptest.NewRequest("POST", target, bytes.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	r.Body = http.MaxBytesReader(httptest.NewRecorder(), r.Body, 1<<16)
	return r
}

// checkDecodeErr fails unless err is nil or a client error.
func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	if err == nil {
		return
	}
	var e *usermgmt.Error
	if !errors.As(err, &e) || e.Status < 400 || e.Status > 499 || e.Code == "" || e.Message == "" {
		t.Fatalf("decoder error %v is not a client error", err)
	}
}

// multipartBody returns a multipart body with fields and its Content-Type.
func multipartBody(fields ...string) (string, []byte) {
	var buf bytes.Buffer
	w := multipart.NewWriter(&buf)
	for i := 0; i+1 < len(fields); i += 2 {
		_ = w.WriteField(fields[i], fields[i+1])
	}
	_ = w.Close()
	return w.FormDataContentType(), buf.Bytes()
}

// bodySeeds are the seed corpus shared by the body decoders.
func bodySeeds(f *testing.F, fields ...string) {
	f.Helper()
	form := make([]string, 0, len(fields))
	obj := make([]string, 0, len(fields))
	for _, k := range fields {
		form = append(form, k+"=value_"+k)
		obj = append(obj, `"`+k+`":"value_`+k+`"`)
	}
	f.Add(mediaJSON, []byte("{"+strings.Join(obj, ",")+"}"))
	f.Add(mediaForm, []byte(strings.Join(form, "&")))
	mpFields := []string{}
	for _, k := range fields {
		mpFields = append(mpFields, k, "v")
	}
	ct, body := multipartBody(mpFields...)
	f.Add(ct, body)
	for _, s := range []struct{ ct, body string }{
		{mediaJSON, `{"username":1}`}, {mediaJSON, `null`}, {mediaJSON, `[]`}, {mediaJSON, `{"a":`},
		{mediaJSON, `{"roles":[1,2]}`}, {mediaJSON, `{"is_active":"yes"}`}, {mediaJSON + "; charset=utf-8", `{}`},
		{"application/problem+json", `{}`}, {mediaForm, "a=%zz"}, {mediaForm, "a=1;b=2"}, {"", ""}, {"", "x"},
		{"text/plain", "x"}, {"multipart/form-data", "x"}, {"multipart/form-data; boundary=zz", "--zz\r\n"},
		{"bad/;;", "x"}, {mediaJSON, strings.Repeat("[", 20000)}, {mediaJSON, `{"grant_type":"password","username":"u","password":"p"}`},
		{mediaForm, "grant_type=refresh_token&refresh_token=x"}, {mediaJSON, "{\"username\":\"\xff\xfe\"}"},
	} {
		f.Add(s.ct, []byte(s.body))
	}
}

func fuzzDecoder[In any](f *testing.F, target string, decode func(*http.Request) (In, error), fields ...string) {
	bodySeeds(f, fields...)
	f.Fuzz(func(t *testing.T, ctype string, body []byte) {
		r := fuzzRequest(target, ctype, body)
		r.SetPathValue("uuid", "00000000-0000-4000-8000-000000000000")
		_, err := decode(r)
		checkDecodeErr(t, err)
	})
}

func FuzzDecodeLogin(f *testing.F) {
	fuzzDecoder(f, "/api/auth/login", decodeLogin, "username", "password", "grant_type", "scope", "client_id")
}

func FuzzDecodeRegister(f *testing.F) {
	fuzzDecoder(f, "/api/auth/register", decodeRegister, "username", "email", "password", "confirm_password", "display_name")
}

func FuzzDecodeRefresh(f *testing.F) {
	fuzzDecoder(f, "/api/auth/refresh", decodeRefresh, "grant_type", "refresh_token")
}

func FuzzDecodeUserCreate(f *testing.F) {
	fuzzDecoder(f, "/api/user/", decodeUserCreate, "username", "email", "password", "roles", "is_active", "email_verified")
}

func FuzzDecodeUserPatch(f *testing.F) {
	fuzzDecoder(f, "/api/user/x", decodeUserPatch, "username", "display_name", "email", "password", "description", "roles", "is_active")
}

func FuzzDecodeBan(f *testing.F) {
	fuzzDecoder(f, "/api/admin/ban/x", decodeBan, "reason")
}

func FuzzDecodeUnban(f *testing.F) {
	fuzzDecoder(f, "/api/admin/unban/x", decodeUnban, "reason")
}

func FuzzDecodeQuery(f *testing.F) {
	for _, q := range []string{"", "skip=1&limit=2", "skip=-1", "limit=abc", "skip=99999999999999999999", "users_ids=a&users_ids=b", "%zz", "a;b", "users_ids="} {
		f.Add(q)
	}
	f.Fuzz(func(t *testing.T, rawQuery string) {
		r := httptest.NewRequest("GET", "/api/user/", nil)
		r.URL.RawQuery = rawQuery
		_, err := decodeUserPage(r)
		checkDecodeErr(t, err)
		ids, err := decodeUserIDs(r)
		checkDecodeErr(t, err)
		if err == nil && ids == nil {
			t.Fatal("users_ids decoded to nil")
		}
	})
}

// TestDecodeFields pins the decoding rules shared by every body.
func TestDecodeFields(t *testing.T) {
	mpType, mpBody := multipartBody("username", "jane_doe", "password", "pw")
	tests := []struct {
		name      string
		ctype     string
		body      string
		wantLogin loginInput
		wantCode  string
	}{
		{"json", mediaJSON, `{"username":"jane_doe","password":"pw"}`, loginInput{"jane_doe", "pw"}, ""},
		{"json with charset", mediaJSON + "; charset=utf-8", `{"username":"jane_doe","password":"pw"}`, loginInput{"jane_doe", "pw"}, ""},
		{"json suffix type", "application/vnd.api+json", `{"username":"jane_doe","password":"pw"}`, loginInput{"jane_doe", "pw"}, ""},
		{"form", mediaForm, "username=jane_doe&password=pw", loginInput{"jane_doe", "pw"}, ""},
		{"multipart", mpType, string(mpBody), loginInput{"jane_doe", "pw"}, ""},
		{"json null is absent", mediaJSON, `{"username":"jane_doe","password":null}`, loginInput{}, "invalid_request"},
		{"json empty string is absent for a required field", mediaJSON, `{"username":"jane_doe","password":""}`, loginInput{}, "invalid_request"},
		{"json trailing data", mediaJSON, `{"username":"jane_doe","password":"pw"} {}`, loginInput{}, "invalid_request"},
		{"grant_type wrong", mediaForm, "grant_type=implicit&username=a&password=b", loginInput{}, "unsupported_grant_type"},
		{"grant_type not a string", mediaJSON, `{"grant_type":1,"username":"a","password":"b"}`, loginInput{}, "invalid_request"},
		{"unknown type", "application/xml", `<a/>`, loginInput{}, "unsupported_media_type"},
		{"malformed type", "a/b; c", `x`, loginInput{}, "unsupported_media_type"},
		{"json without a type", "", `{"username":"jane_doe","password":"pw"}`, loginInput{"jane_doe", "pw"}, ""},
		{"form without a type is not json", "", `username=a&password=b`, loginInput{}, "invalid_request"},
		{"empty body without a type", "", "", loginInput{}, "invalid_request"},
		{"multipart without boundary", "multipart/form-data", "x", loginInput{}, "invalid_request"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in, err := decodeLogin(fuzzRequest("/", tt.ctype, []byte(tt.body)))
			if tt.wantCode == "" {
				if err != nil || in != tt.wantLogin {
					t.Fatalf("decodeLogin = %+v, %v; want %+v", in, err, tt.wantLogin)
				}
				return
			}
			var e *usermgmt.Error
			if !errors.As(err, &e) || e.Code != tt.wantCode {
				t.Fatalf("decodeLogin error = %v, want %s", err, tt.wantCode)
			}
		})
	}
}

func TestDecodePatchFields(t *testing.T) {
	r := fuzzRequest("/", mediaJSON, []byte(`{"username":null,"display_name":"Jane Doe","roles":["user","tester"],"is_active":false,"extra":{"x":1}}`))
	r.SetPathValue("uuid", "u-1")
	in, err := decodeUserPatch(r)
	if err != nil {
		t.Fatal(err)
	}
	p := in.patch
	if in.uuid != "u-1" || p.Username != nil || p.DisplayName == nil || *p.DisplayName != "Jane Doe" ||
		p.Roles == nil || strings.Join(*p.Roles, ",") != "user,tester" || p.IsActive == nil || *p.IsActive ||
		p.Email != nil || p.Password != nil || p.Description != nil {
		t.Fatalf("patch = %+v", in)
	}
	// An empty description is sent (it clears the description).
	in, err = decodeUserPatch(fuzzRequest("/", mediaJSON, []byte(`{"description":""}`)))
	if err != nil || in.patch.Description == nil || *in.patch.Description != "" {
		t.Fatalf("empty description = %+v, %v", in.patch, err)
	}
	// Several faults are reported together.
	_, err = decodeUserPatch(fuzzRequest("/", mediaJSON, []byte(`{"roles":"admin","is_active":"maybe"}`)))
	if err == nil || !strings.Contains(err.Error(), "roles") || !strings.Contains(err.Error(), "is_active") {
		t.Fatalf("faults = %v", err)
	}
}

func TestDecodeCreateForm(t *testing.T) {
	// UserCreate is JSON only, as in the reference.
	_, err := decodeUserCreate(fuzzRequest("/", mediaForm, []byte("username=a")))
	if !errors.Is(err, ErrUnsupportedMediaType) {
		t.Fatalf("form UserCreate = %v", err)
	}
	// Without a Content-Type, a body is JSON.
	if nu, err := decodeUserCreate(fuzzRequest("/", "", []byte(`{"username":"a_user","email":"a@b.co","password":"pw"}`))); err != nil || nu.Username != "a_user" {
		t.Fatalf("UserCreate without a type = %+v, %v", nu, err)
	}
	nu, err := decodeUserCreate(fuzzRequest("/", mediaJSON, []byte(`{"username":"a_user","email":"a@b.co","password":"pw","is_active":false,"email_verified":true,"roles":null}`)))
	if err != nil || !nu.Inactive || !nu.EmailVerified || nu.Roles != nil {
		t.Fatalf("UserCreate = %+v, %v", nu, err)
	}
}

func TestRecoverPanics(t *testing.T) {
	var logs bytes.Buffer
	log := newTestLogger(&logs)
	h := recoverPanics(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x?secret=1", nil))
	if rec.Code != 500 || rec.Body.String() != `{"detail":"Internal server error","code":"internal_error"}` {
		t.Fatalf("panic answer = %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "boom") || strings.Contains(logs.String(), "secret") {
		t.Fatalf("panic log = %s", logs.String())
	}

	// A panic after the answer started cannot change it.
	h = recoverPanics(log)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(202)
		panic("late")
	}))
	rec = httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 202 || rec.Body.Len() != 0 {
		t.Fatalf("late panic answer = %d %s", rec.Code, rec.Body)
	}

	// http.ErrAbortHandler is re-raised for net/http to handle.
	h = recoverPanics(log)(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic(http.ErrAbortHandler) }))
	func() {
		defer func() {
			if v := recover(); v != http.ErrAbortHandler {
				t.Fatalf("recovered %v, want http.ErrAbortHandler", v)
			}
		}()
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", "/", nil))
	}()
}

func TestInternalErrorsAreNotSent(t *testing.T) {
	var logs bytes.Buffer
	rec := httptest.NewRecorder()
	writeError(rec, httptest.NewRequest("GET", "/api/user/me?token=hunter3", nil), newTestLogger(&logs), errors.New("db password=hunter2 refused"))
	if rec.Code != 500 || strings.Contains(rec.Body.String(), "hunter2") {
		t.Fatalf("answer = %d %s", rec.Code, rec.Body)
	}
	if !strings.Contains(logs.String(), "refused") {
		t.Fatalf("cause not logged: %s", logs.String())
	}
	if !strings.Contains(logs.String(), "method=GET path=/api/user/me ") || strings.Contains(logs.String(), "hunter3") {
		t.Fatalf("the log line lacks the method and path, or has the query: %s", logs.String())
	}
	// A conflict from the store is a 409, never a 500.
	rec = httptest.NewRecorder()
	writeError(rec, httptest.NewRequest("GET", "/api/user/me?token=hunter3", nil), newTestLogger(&logs), usermgmt.ConflictOn("username", errors.New("UNIQUE constraint failed")))
	if rec.Code != 409 || strings.Contains(rec.Body.String(), "UNIQUE") {
		t.Fatalf("conflict = %d %s", rec.Code, rec.Body)
	}
}
