package httpadapter

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"strconv"

	"github.com/usermgmt/usermgmt"
)

// The database routes: export, import (fill what is empty), recover
// (overwrite), and a user's export of their own data. An upload is read
// into memory within Options.MaxImportBytes; no file is ever written, so
// no client-named path is touched.

// uploadEncodings are the bodies /db/import and /db/recover take: the
// reference's multipart field "file", or the export itself as JSON.
var uploadEncodings = []string{mediaMultipart, mediaJSON}

// importRoutes are the routes whose bodies may reach
// Options.MaxImportBytes.
var importRoutes = []string{"db_import", "db_recover"}

// decodeExportUpload reads the uploaded export: the multipart part named file,
// or a JSON body.
func decodeExportUpload(r *http.Request) ([]byte, error) {
	media, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return nil, errUnsupportedMediaType
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
		return nil, errUnsupportedMediaType.WithMessage("Unsupported Content-Type; send multipart/form-data (field file) or application/json.")
	}
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return nil, errTooLarge
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

func (h *handler) dbExport(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	var buf bytes.Buffer
	if err := h.m.As(p.User()).ExportDatabase(ctx, &buf); err != nil {
		return response{}, err
	}
	name := "usermgmt_export_" + strconv.FormatInt(h.m.Config().Clock().Unix(), 10) + ".json"
	return response{status: http.StatusOK, kind: kindRaw, raw: buf.Bytes(), header: http.Header{
		"Content-Type":        {"application/json"},
		"Content-Disposition": {`attachment; filename="` + name + `"`},
	}}, nil
}

func (h *handler) dbImport(ctx context.Context, p *usermgmt.Principal, body []byte) (response, error) {
	return h.importAs(ctx, p, body, usermgmt.ImportFill)
}

func (h *handler) dbRecover(ctx context.Context, p *usermgmt.Principal, body []byte) (response, error) {
	return h.importAs(ctx, p, body, usermgmt.ImportOverwrite)
}

func (h *handler) importAs(ctx context.Context, p *usermgmt.Principal, body []byte, mode usermgmt.ImportMode) (response, error) {
	res, err := h.m.As(p.User()).ImportDatabase(ctx, bytes.NewReader(body), mode)
	if err != nil {
		return response{}, err
	}
	return jsonOK(res), nil
}

func (h *handler) meExport(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	ex, err := h.m.ExportUser(ctx, p.User().UUID)
	if err != nil {
		return response{}, err
	}
	res := jsonOK(ex)
	res.header = http.Header{"Content-Disposition": {`attachment; filename="my_data.json"`}}
	return res, nil
}
