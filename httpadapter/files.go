package httpadapter

import (
	"context"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/usermgmt/usermgmt"
	"github.com/usermgmt/usermgmt/files"
)

// The routes of files and profile pictures.

// uploadOverhead is the room an upload's body has beyond
// Config.MaxUploadBytes, for the multipart framing and small fields.
const uploadOverhead = 64 << 10

// Limits of an upload's form.
const (
	maxUploadParts     = 16
	maxUploadFieldSize = 4 << 10
)

// mediaOctetStream is the type of content that sniffs as nothing better.
const mediaOctetStream = "application/octet-stream"

// fileRoutes are the routes of files and profile pictures.
func fileRoutes() []route {
	return []route{
		// user pictures and files
		{Route{Method: put, Path: "/user/{uuid}/image", Name: "new_user_image", Flag: "NEW_USER_IMAGE", Tag: "user", Auth: true,
			Summary: "Set a user's profile picture (png, jpg, gif or bmp, at most 512x512), replacing any previous one.",
			Request: "UploadForm", Encodings: []string{mediaMultipart}, Upload: true, Status: ok, Response: "FileRead"},
			uploadOp{(*handler).newUserImage}},
		{Route{Method: get, Path: "/user/{uuid}/image", Name: "read_user_image", Flag: "READ_USER_IMAGE", Tag: "user", Statuses: []int{http.StatusNotModified},
			Summary: "A user's profile picture, or a generated one with their initials.", Request: "UserUUID",
			Status: ok, Response: "image"},
			downloadOp[string]{pathValue("uuid"), (*handler).readUserImage, "public, no-cache"}},
		{Route{Method: del, Path: "/user/{uuid}/image", Name: "delete_user_image", Flag: "DELETE_USER_IMAGE", Tag: "user", Auth: true,
			Summary: "Remove a user's profile picture.", Request: "UserUUID", Status: ok},
			op[string]{pathValue("uuid"), (*handler).deleteUserImage}},
		{Route{Method: put, Path: "/user/{uuid}/file", Name: "new_user_file", Flag: "NEW_USER_FILE", Tag: "user", Auth: true,
			Summary: "Store a file in a user's folder.", Request: "UploadForm", Encodings: []string{mediaMultipart},
			Upload: true, Status: ok, Response: "FileRead"},
			uploadOp{(*handler).newUserFile}},

		// file
		{Route{Method: post, Path: "/file/", Name: "new_file", Flag: "NEW_FILE", Tag: "file", Statuses: []int{http.StatusConflict}, Auth: true,
			Summary: "Store a file in the caller's folder.", Request: "UploadForm", Encodings: []string{mediaMultipart},
			Upload: true, Status: ok, Response: "FileRead"},
			uploadOp{(*handler).newFile}},
		{Route{Method: get, Path: "/file/", Name: "read_files", Flag: "READ_FILES", Tag: "file", Auth: true,
			Summary: "A page of files (skip, limit), oldest first.", Request: "FilePage", Status: ok, Response: "[]FileRead"},
			op[usermgmt.FileQuery]{decodeFilePage, (*handler).listFiles}},
		{Route{Method: get, Path: "/file/files", Name: "read_files_list", Flag: "READ_FILES_LIST", Tag: "file", Auth: true,
			Summary: "The files among files_ids that exist.", Request: "FileIDs", Status: ok, Response: "[]FileRead"},
			op[[]int64]{decodeFileIDs, (*handler).filesByIDs}},
		{Route{Method: get, Path: "/file/count", Name: "read_files_number", Flag: "READ_FILES_NUMBER", Tag: "file", Auth: true,
			Summary: "The number of files.", Status: ok, Response: "integer"},
			op[none]{noInput, (*handler).countFiles}},
		{Route{Method: get, Path: "/file/{file_id}", Name: "read_file", Flag: "READ_FILE", Tag: "file", Auth: true,
			Summary: "A file's metadata.", Request: "FileID", Status: ok, Response: "FileRead"},
			op[int64]{decodeFileID, (*handler).readFile}},
		{Route{Method: get, Path: "/file/{file_id}/file", Name: "read_file_file", Flag: "READ_FILE_FILE", Tag: "file", Statuses: []int{http.StatusNotModified}, Auth: true,
			Summary: "A file's content: raster images inline, anything else as an attachment.", Request: "FileID",
			Status: ok, Response: "file"},
			downloadOp[int64]{decodeFileID, (*handler).readFileContent, "private, no-cache"}},
		{Route{Method: patch, Path: "/file/{file_id}", Name: "patch_file", Flag: "PATCH_FILE", Tag: "file", Auth: true,
			Summary: "Change a file's description.", Request: "FileUpdate", Encodings: jsonOnly, Status: ok, Response: "FileRead"},
			op[fileUpdate]{decodeFileUpdate, (*handler).patchFile}},
		{Route{Method: del, Path: "/file/{file_id}", Name: "remove_file", Flag: "REMOVE_FILE", Tag: "file", Auth: true,
			Summary: "Delete a file (and clear a profile picture pointing at it).", Request: "FileID", Status: ok},
			op[int64]{decodeFileID, (*handler).removeFile}},
	}
}

// uploadInput is a decoded upload: the path's user (for the routes that
// name one) and the file.
type uploadInput struct {
	uuid string
	up   usermgmt.Upload
}

// uploadOp serves an upload route. Unlike op it authenticates before it
// reads the body (after checking the Content-Type), and it streams the file part to the Manager rather than
// reading it first: the body may be large.
type uploadOp struct {
	call func(h *handler, ctx context.Context, p *usermgmt.Principal, in uploadInput) (response, error)
}

func (o uploadOp) serve(h *handler, w http.ResponseWriter, r *http.Request, _ bool) {
	if media, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || media != mediaMultipart {
		h.fail(w, r, ErrUnsupportedMediaType.WithMessage("Unsupported Content-Type; send multipart/form-data with a part named file."))
		return
	}
	p, r, err := h.auth.authenticate(w, r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in, err := decodeUpload(r)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res, err := o.call(h, usermgmt.ContextWithCaller(r.Context(), p), p, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	res.write(w, r, h.log)
}

// decodeUpload reads the query parameter description and the multipart
// body up to its part "file" (the reference's field), whose content is
// left to stream. A "description" form field before the file counts when
// the query has none.
func decodeUpload(r *http.Request) (uploadInput, error) {
	q, err := Query(r)
	if err != nil {
		return uploadInput{}, err
	}
	in := uploadInput{uuid: r.PathValue("uuid"), up: usermgmt.Upload{Description: q.Get("description")}}
	mr, err := r.MultipartReader()
	if err != nil {
		return uploadInput{}, invalid("The multipart form is malformed.")
	}
	for range maxUploadParts {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return uploadInput{}, uploadError(err)
		}
		switch part.FormName() {
		case "file":
			in.up.FileName = part.FileName()
			in.up.Content = uploadReader{part}
			return in, nil
		case "description":
			b, err := io.ReadAll(io.LimitReader(part, maxUploadFieldSize+1))
			if err != nil {
				return uploadInput{}, uploadError(err)
			}
			if len(b) > maxUploadFieldSize {
				return uploadInput{}, usermgmt.ErrInvalidDescription
			}
			if in.up.Description == "" {
				in.up.Description = string(b)
			}
		}
	}
	return uploadInput{}, invalid("file: field required")
}

// uploadError maps an error reading an upload's body: the body limit
// tripping is 413, anything else a malformed form.
func uploadError(err error) error {
	if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
		return usermgmt.ErrFileTooLarge
	}
	return invalid("The multipart form is malformed.")
}

// uploadReader reports read errors of the file part as client errors.
type uploadReader struct{ r io.Reader }

func (u uploadReader) Read(p []byte) (int, error) {
	n, err := u.r.Read(p)
	if err != nil && !errors.Is(err, io.EOF) {
		return n, uploadError(err)
	}
	return n, err
}

func (h *handler) newUserImage(ctx context.Context, p *usermgmt.Principal, in uploadInput) (response, error) {
	f, err := h.m.As(p.User()).SetProfilePicture(ctx, in.uuid, in.up)
	if err != nil {
		return response{}, err
	}
	return jsonOK(h.wire.file(f)), nil
}

func (h *handler) newUserFile(ctx context.Context, p *usermgmt.Principal, in uploadInput) (response, error) {
	f, err := h.m.As(p.User()).UploadUserFile(ctx, in.uuid, in.up)
	if err != nil {
		return response{}, err
	}
	return jsonOK(h.wire.file(f)), nil
}

func (h *handler) newFile(ctx context.Context, p *usermgmt.Principal, in uploadInput) (response, error) {
	f, err := h.m.As(p.User()).UploadFile(ctx, in.up)
	if err != nil {
		return response{}, err
	}
	return jsonOK(h.wire.file(f)), nil
}

func (h *handler) deleteUserImage(ctx context.Context, p *usermgmt.Principal, uuid string) (response, error) {
	if err := h.m.As(p.User()).DeleteProfilePicture(ctx, uuid); err != nil {
		return response{}, err
	}
	return empty(http.StatusOK), nil
}

// readUserImage needs no caller, as in the reference: pictures are public.
func (h *handler) readUserImage(ctx context.Context, _ *usermgmt.Principal, uuid string) (*usermgmt.Download, error) {
	return h.m.ProfilePicture(ctx, uuid)
}

func (h *handler) readFileContent(ctx context.Context, p *usermgmt.Principal, id int64) (*usermgmt.Download, error) {
	return h.m.As(p.User()).OpenFile(ctx, id)
}

// decodeFileID reads the path's file_id, an integer (422 otherwise, as in
// the reference).
func decodeFileID(r *http.Request) (int64, error) {
	id, err := strconv.ParseInt(r.PathValue("file_id"), 10, 64)
	if err != nil {
		return 0, invalid("file_id: must be an integer")
	}
	return id, nil
}

// decodeFilePage reads skip (default 0) and limit (default 100).
func decodeFilePage(r *http.Request) (usermgmt.FileQuery, error) {
	q, err := decodeUserPage(r)
	return usermgmt.FileQuery{Offset: q.Offset, Limit: q.Limit}, err
}

// decodeFileIDs reads the repeated query parameter files_ids (integers).
func decodeFileIDs(r *http.Request) ([]int64, error) {
	q, err := Query(r)
	if err != nil {
		return nil, err
	}
	ids := make([]int64, 0, len(q["files_ids"]))
	for _, s := range q["files_ids"] {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return nil, invalid("files_ids: must be integers")
		}
		ids = append(ids, id)
	}
	return ids, nil
}

func (h *handler) listFiles(ctx context.Context, p *usermgmt.Principal, q usermgmt.FileQuery) (response, error) {
	fs, err := h.m.As(p.User()).ListFiles(ctx, q)
	if err != nil {
		return response{}, err
	}
	return jsonOK(h.wire.files(fs)), nil
}

func (h *handler) filesByIDs(ctx context.Context, p *usermgmt.Principal, ids []int64) (response, error) {
	fs, err := h.m.As(p.User()).FilesByIDs(ctx, ids)
	if err != nil {
		return response{}, err
	}
	return jsonOK(h.wire.files(fs)), nil
}

func (h *handler) countFiles(ctx context.Context, p *usermgmt.Principal, _ none) (response, error) {
	n, err := h.m.As(p.User()).CountFiles(ctx)
	if err != nil {
		return response{}, err
	}
	return jsonOK(n), nil
}

func (h *handler) readFile(ctx context.Context, p *usermgmt.Principal, id int64) (response, error) {
	f, err := h.m.As(p.User()).File(ctx, id)
	if err != nil {
		return response{}, err
	}
	return jsonOK(h.wire.file(f)), nil
}

type fileUpdate struct {
	id          int64
	description string
}

// decodeFileUpdate reads the reference's JSON {"description": ...}; an
// absent or null description clears it.
func decodeFileUpdate(r *http.Request) (fileUpdate, error) {
	id, err := decodeFileID(r)
	if err != nil {
		return fileUpdate{}, err
	}
	f, err := ReadFields(r, jsonOnly)
	if err != nil {
		return fileUpdate{}, err
	}
	d, _ := f.String("description")
	return fileUpdate{id: id, description: d}, f.Err()
}

func (h *handler) patchFile(ctx context.Context, p *usermgmt.Principal, in fileUpdate) (response, error) {
	f, err := h.m.As(p.User()).UpdateFile(ctx, in.id, in.description)
	if err != nil {
		return response{}, err
	}
	return jsonOK(h.wire.file(f)), nil
}

func (h *handler) removeFile(ctx context.Context, p *usermgmt.Principal, id int64) (response, error) {
	if err := h.m.As(p.User()).DeleteFile(ctx, id); err != nil {
		return response{}, err
	}
	return empty(http.StatusOK), nil
}

// downloadOp serves file content: decode, authenticate when the route
// requires it, get the content from the Manager, answer it with its
// validators.
type downloadOp[In any] struct {
	decode func(r *http.Request) (In, error)
	call   func(h *handler, ctx context.Context, p *usermgmt.Principal, in In) (*usermgmt.Download, error)
	// cacheControl is the answer's Cache-Control: pictures are public,
	// files private; both revalidate with the ETag every time.
	cacheControl string
}

func (o downloadOp[In]) serve(h *handler, w http.ResponseWriter, r *http.Request, auth bool) {
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
	d, err := o.call(h, usermgmt.ContextWithCaller(r.Context(), p), p, in)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	defer d.Content.Close()
	writeDownload(w, r, h, d, o.cacheControl)
}

// writeDownload answers d: 304 when If-None-Match names its ETag, the
// content otherwise. Raster images are shown inline; anything else is an
// attachment, and never sniffed or run by the browser.
func writeDownload(w http.ResponseWriter, r *http.Request, h *handler, d *usermgmt.Download, cacheControl string) {
	hdr := w.Header()
	hdr.Set("Cache-Control", cacheControl)
	hdr.Set("ETag", d.ETag)
	hdr.Set("X-Content-Type-Options", "nosniff")
	hdr.Set("Content-Security-Policy", "default-src 'none'; sandbox")
	if etagMatch(r.Header.Get("If-None-Match"), d.ETag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	ctype := d.ContentType
	if ctype == "" {
		ctype = mediaOctetStream
	}
	disposition := "inline"
	if !files.InlineSafe(ctype) {
		disposition = "attachment"
		if !strings.HasPrefix(ctype, "text/plain") {
			ctype = mediaOctetStream // nothing the browser could render
		}
	}
	if d.File != nil {
		if v := mime.FormatMediaType(disposition, map[string]string{"filename": d.File.FileName}); v != "" {
			disposition = v
		}
	}
	hdr.Set("Content-Type", ctype)
	hdr.Set("Content-Disposition", disposition)
	hdr.Set("Content-Length", strconv.FormatInt(d.Size, 10))
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	if _, err := io.Copy(w, d.Content); err != nil {
		h.log.WarnContext(r.Context(), "sending a file", "path", r.URL.Path, "err", err)
	}
}

// etagMatch reports whether an If-None-Match value names etag (weak
// comparison, as RFC 9110 asks for If-None-Match), or is "*".
func etagMatch(header, etag string) bool {
	for c := range strings.SplitSeq(header, ",") {
		c = strings.TrimPrefix(strings.TrimSpace(c), "W/")
		if c == "*" || c == etag {
			return true
		}
	}
	return false
}
