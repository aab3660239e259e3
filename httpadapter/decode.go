package httpadapter

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// Request bodies arrive as JSON or as a form (urlencoded or multipart); both
// decode to the same fields with the same names, so a handler reads its
// input through fields and never looks at the encoding.

// Encodings a route may accept, by media type.
const (
	mediaJSON      = "application/json"
	mediaForm      = "application/x-www-form-urlencoded"
	mediaMultipart = "multipart/form-data"
)

var (
	// jsonOnly is the encoding of routes the reference served JSON on.
	jsonOnly = []string{mediaJSON}
	// jsonOrForm is the encoding of routes the reference served a form on.
	jsonOrForm = []string{mediaJSON, mediaForm, mediaMultipart}
)

// maxFormParts bounds the parts of a multipart body (the standard library
// default is larger than any form of this API needs).
const maxFormParts = 64

// Fields is a decoded request body: a JSON object or a form, read with
// ReadFields. Its getters record what is wrong with each field; Err then
// reports every problem at once (422 invalid_request), as the reference's
// validation did.
type Fields struct {
	json map[string]json.RawMessage // nil for a form
	form url.Values
	errs []string
}

// ReadFields reads and decodes r's body in one of the accepted media types
// ("application/json", "application/x-www-form-urlencoded",
// "multipart/form-data"); another is 415.
// Without a Content-Type, an empty body decodes as an empty form, so that
// required fields are reported missing (422) rather than the encoding (415),
// and a non-empty one as JSON when the route takes JSON, as FastAPI does.
func ReadFields(r *http.Request, accepted []string) (*Fields, error) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			return nil, ErrTooLarge
		}
		return nil, invalid("Could not read the request body.")
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		if len(bytes.TrimSpace(body)) == 0 {
			return &Fields{form: url.Values{}}, nil
		}
		ct = mediaJSON
	}
	media, params, err := mime.ParseMediaType(ct)
	if err != nil {
		return nil, ErrUnsupportedMediaType
	}
	if strings.HasSuffix(media, "+json") {
		media = mediaJSON
	}
	ok := false
	for _, a := range accepted {
		ok = ok || a == media
	}
	if !ok {
		return nil, ErrUnsupportedMediaType.WithMessage("Unsupported Content-Type; send " + strings.Join(accepted, " or ") + ".")
	}
	switch media {
	case mediaJSON:
		var obj map[string]json.RawMessage
		if err := json.Unmarshal(body, &obj); err != nil || obj == nil {
			return nil, invalid("The body must be a JSON object.")
		}
		return &Fields{json: obj}, nil
	case mediaForm:
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, invalid("The form is malformed.")
		}
		return &Fields{form: form}, nil
	default: // multipart
		boundary := params["boundary"]
		if boundary == "" {
			return nil, invalid("The multipart form has no boundary.")
		}
		mr := multipart.NewReader(bytes.NewReader(body), boundary)
		form, err := mr.ReadForm(int64(len(body)) + 1) // never spills to disk: the body is in memory
		if err != nil {
			return nil, invalid("The multipart form is malformed.")
		}
		defer form.RemoveAll()
		if len(form.Value) > maxFormParts {
			return nil, invalid("The multipart form has too many fields.")
		}
		return &Fields{form: url.Values(form.Value)}, nil
	}
}

// raw returns a field's JSON value or form value, and whether it was sent
// with a value: JSON null and an empty form value count as absent (as in
// FastAPI).
func (f *Fields) raw(name string) (json.RawMessage, string, bool) {
	if f.json != nil {
		v, ok := f.json[name]
		if !ok || string(v) == "null" {
			return nil, "", false
		}
		return v, "", true
	}
	v := f.form.Get(name)
	return nil, v, v != ""
}

func (f *Fields) fail(name, problem string) {
	f.errs = append(f.errs, name+": "+problem)
}

// String returns a string field; ok is false when it is absent.
func (f *Fields) String(name string) (s string, ok bool) {
	raw, v, ok := f.raw(name)
	if !ok || raw == nil {
		return v, ok
	}
	if err := json.Unmarshal(raw, &s); err != nil {
		f.fail(name, "must be a string")
		return "", false
	}
	return s, true
}

// Required returns a string field that must be present and not empty.
func (f *Fields) Required(name string) string {
	s, ok := f.String(name)
	if !ok || s == "" {
		if !f.failed(name) {
			f.fail(name, "field required")
		}
		return ""
	}
	return s
}

// OptionalString returns a string field as a pointer, nil when absent.
func (f *Fields) OptionalString(name string) *string {
	if s, ok := f.String(name); ok {
		return &s
	}
	return nil
}

// Bool returns a boolean field, nil when absent. Forms spell it as pydantic
// accepts: true/false, 1/0, yes/no, on/off.
func (f *Fields) Bool(name string) *bool {
	raw, v, ok := f.raw(name)
	if !ok {
		return nil
	}
	var b bool
	if raw != nil {
		if err := json.Unmarshal(raw, &b); err != nil {
			f.fail(name, "must be a boolean")
			return nil
		}
		return &b
	}
	b, valid := ParseBool(v)
	if !valid {
		f.fail(name, "must be a boolean")
		return nil
	}
	return &b
}

// Strings returns a list field (a JSON array of strings, or a repeated form
// field), nil when absent.
func (f *Fields) Strings(name string) []string {
	if f.json == nil {
		vs, ok := f.form[name]
		if !ok {
			return nil
		}
		return append([]string{}, vs...)
	}
	raw, _, ok := f.raw(name)
	if !ok {
		return nil
	}
	var ss []string
	if err := json.Unmarshal(raw, &ss); err != nil {
		f.fail(name, "must be a list of strings")
		return nil
	}
	if ss == nil {
		ss = []string{}
	}
	return ss
}

func (f *Fields) failed(name string) bool {
	for _, e := range f.errs {
		if strings.HasPrefix(e, name+": ") {
			return true
		}
	}
	return false
}

// Err returns the 422 naming every faulty field, or nil.
func (f *Fields) Err() error {
	if len(f.errs) == 0 {
		return nil
	}
	return invalid(strings.Join(f.errs, "; "))
}

// ParseBool reads a boolean as every route does (pydantic's lax mode):
// true, 1, yes, on, t, y and their opposites, in any case; ok is false for
// anything else.
func ParseBool(s string) (bool, bool) {
	switch strings.ToLower(s) {
	case "true", "1", "yes", "on", "t", "y":
		return true, true
	case "false", "0", "no", "off", "f", "n":
		return false, true
	}
	return false, false
}

// queryInt reads an integer query parameter, def when absent.
func queryInt(q url.Values, name string, def int) (int, error) {
	s := q.Get(name)
	if s == "" {
		return def, nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, invalid(name + ": must be an integer")
	}
	return n, nil
}

// Query parses r's query string, refusing a malformed one (422).
func Query(r *http.Request) (url.Values, error) {
	q, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, invalid("The query string is malformed.")
	}
	return q, nil
}
