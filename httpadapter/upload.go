package httpadapter

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
)

// DecodeFileOrJSON reads an uploaded document: the multipart/form-data
// part named "file" (its file name ignored), or the JSON body itself. The
// body is read into memory (within the route's body limit), never to a
// file. A missing or empty document is 422 invalid_request, another media
// type 415, a body over the limit 413: the decoder a feature's upload
// route uses (the database import does).
func DecodeFileOrJSON(r *http.Request) ([]byte, error) {
	media, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, ErrUnsupportedMediaType
	}
	var body []byte
	switch media {
	case mediaJSON:
		body, err = io.ReadAll(r.Body)
	case mediaMultipart:
		if params["boundary"] == "" {
			return nil, invalid("The multipart form has no boundary.")
		}
		body, err = readFilePart(multipart.NewReader(r.Body, params["boundary"]))
	default:
		return nil, ErrUnsupportedMediaType.WithMessage("Unsupported Content-Type; send multipart/form-data (field file) or application/json.")
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, ErrTooLarge
	}
	if err != nil {
		return nil, err
	}
	if len(bytes.TrimSpace(body)) == 0 {
		return nil, invalid("file: field required")
	}
	return body, nil
}

// readFilePart returns the content of the part named file, ignoring its
// file name.
func readFilePart(mr *multipart.Reader) ([]byte, error) {
	for parts := 0; parts < maxFormParts; parts++ {
		p, err := mr.NextPart()
		if err == io.EOF {
			return nil, invalid("file: field required")
		}
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, err
			}
			return nil, invalid("The multipart form is malformed.")
		}
		if p.FormName() != "file" {
			continue
		}
		b, err := io.ReadAll(p)
		if err != nil {
			if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
				return nil, err
			}
			return nil, invalid("The multipart form is malformed.")
		}
		return b, nil
	}
	return nil, invalid("The multipart form has too many fields.")
}
