package dbtools

import (
	"bytes"
	"context"
	"net/http"
	"strconv"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// uploadEncodings are the bodies /db/import and /db/recover take: the
// reference's multipart field "file", or the export itself as JSON.
var uploadEncodings = []string{"multipart/form-data", "application/json"}

// Endpoints implements httpadapter.Feature: export, import (fill what is
// empty) and recover (overwrite), under the API prefix. An upload is read
// into memory within Options.MaxImportBytes; no file is ever written, so
// no client-named path is touched.
func (t *Tools) Endpoints() []httpadapter.Endpoint {
	upload := httpadapter.Input{Body: "Export", BodyRequired: true, Media: map[string]string{"multipart/form-data": "ExportUpload"}}
	importAs := func(mode ImportMode) func(context.Context, *usermgmt.Principal, []byte) (httpadapter.Response, error) {
		return func(ctx context.Context, p *usermgmt.Principal, body []byte) (httpadapter.Response, error) {
			res, err := t.ImportAs(ctx, p.User(), bytes.NewReader(body), mode)
			if err != nil {
				return httpadapter.Response{}, err
			}
			return httpadapter.JSON(http.StatusOK, res), nil
		}
	}
	eps := []httpadapter.Endpoint{
		httpadapter.Handle(httpadapter.Route{Method: http.MethodGet, Path: "/db/export", Name: "db_export", Flag: "DB_EXPORT", Tag: "db", Auth: true,
			Summary: "A portable, versioned JSON export of every table.", Status: http.StatusOK, Response: "Export"},
			httpadapter.NoInput, t.serveExport),
		httpadapter.Handle(httpadapter.Route{Method: http.MethodPost, Path: "/db/import", Name: "db_import", Flag: "DB_IMPORT", Tag: "db", Auth: true,
			Summary: "Merge an export: add missing rows, fill empty columns.", Request: "Export",
			Encodings: uploadEncodings, Status: http.StatusOK, Response: "ImportResult"},
			httpadapter.DecodeFileOrJSON, importAs(ImportFill)),
		httpadapter.Handle(httpadapter.Route{Method: http.MethodPost, Path: "/db/recover", Name: "db_recover", Flag: "DB_RECOVER", Tag: "db", Auth: true,
			Summary: "Restore an export: add missing rows, overwrite differing columns.", Request: "Export",
			Encodings: uploadEncodings, Status: http.StatusOK, Response: "ImportResult"},
			httpadapter.DecodeFileOrJSON, importAs(ImportOverwrite)),
	}
	for i := range eps[1:] {
		eps[1+i].Input, eps[1+i].MaxBodyBytes = upload, t.opts.MaxImportBytes
	}
	return eps
}

func (t *Tools) serveExport(ctx context.Context, p *usermgmt.Principal, _ struct{}) (httpadapter.Response, error) {
	var buf bytes.Buffer
	if err := t.ExportAs(ctx, p.User(), &buf); err != nil {
		return httpadapter.Response{}, err
	}
	name := "usermgmt_export_" + strconv.FormatInt(t.m.Config().Clock().Unix(), 10) + ".json"
	return httpadapter.Bytes(http.StatusOK, "application/json", buf.Bytes()).
		WithHeader("Content-Disposition", `attachment; filename="`+name+`"`), nil
}

// Schemas implements httpadapter.Feature: the export document, its upload
// and the import's answer.
func (t *Tools) Schemas() map[string]any {
	type js = map[string]any
	str := js{"type": "string"}
	integer := js{"type": "integer"}
	object := js{"type": "object"}
	return map[string]any{
		"Export": js{"type": "object", "properties": js{
			"format": js{"const": "usermgmt-export"}, "version": js{"const": 1}, "dialect": str,
			"exported_at": js{"type": "string", "format": "date-time"},
			"tables": js{"type": "array", "items": js{"type": "object", "properties": js{
				"name": str, "key": js{"type": "array", "items": str}, "rows": js{"type": "array", "items": object}}}},
		}, "required": []string{"format", "version", "tables"}},
		"ExportUpload": js{"description": "The multipart/form-data upload: the export (Export) in the part \"file\". A JSON body is the export itself.",
			"type": "object", "properties": js{"file": js{"type": "string", "contentMediaType": "application/json"}}, "required": []string{"file"}},
		"ImportResult": js{"type": "object", "properties": js{"tables": js{"type": "array", "items": js{"type": "object", "properties": js{
			"table": str, "inserted": integer, "updated": integer, "unchanged": integer}}}}},
	}
}
