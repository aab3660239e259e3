package httpadapter_test

import (
	"bytes"
	"log/slog"
	"mime/multipart"
	"net/http/httptest"
	"testing"

	"github.com/usermgmt/usermgmt/httpadapter"
)

// FuzzUpload throws arbitrary file names, contents and raw multipart bodies
// at the upload routes: no client input may cause a 5xx.
func FuzzUpload(f *testing.F) {
	e := newEnv(f, backends[0].dsn(f), httpadapter.Options{Logger: slog.New(slog.DiscardHandler)})
	a := e.register("fuzz_user")
	paths := []string{"/api/file/", "/api/user/" + a.uuid + "/image", "/api/user/" + a.uuid + "/file"}
	methods := []string{"POST", "PUT", "PUT"}
	f.Add(0, "cv.txt", []byte("hello"), false)
	f.Add(1, "p.png", pngImage(f, 3, 3), false)
	f.Add(1, "p.gif", []byte("GIF89a\xff\xff\xff\xff"), false)
	f.Add(1, "../../x.jpg", []byte{0xff, 0xd8, 0xff, 0xc0, 0x00, 0x11, 0x08, 0xff, 0xff}, false)
	f.Add(2, "\x00\u202e.bmp", []byte("BM"), false)
	f.Add(0, "x", []byte("--b\r\nContent-Disposition: form-data; name=\"file\"; filename=\"a\"\r\n\r\nxx"), true)
	f.Fuzz(func(t *testing.T, which int, filename string, content []byte, raw bool) {
		if which < 0 {
			which = -which
		}
		which %= len(paths)
		var body bytes.Buffer
		ctype := "multipart/form-data; boundary=b"
		if raw {
			body.Write(content)
		} else {
			mw := multipart.NewWriter(&body)
			fw, err := mw.CreateFormFile("file", filename)
			if err != nil {
				return
			}
			_, _ = fw.Write(content)
			_ = mw.Close()
			ctype = mw.FormDataContentType()
		}
		r := httptest.NewRequest(methods[which], paths[which], &body)
		r.Header.Set("Content-Type", ctype)
		r.Header.Set("Authorization", "Bearer "+a.AccessToken)
		res := serve(t, e.h, r)
		if res.status >= 500 {
			t.Fatalf("%s %q (%d bytes) → %s", paths[which], filename, len(content), res)
		}
	})
}

// BenchmarkGeneratedPicture measures GET /api/user/{uuid}/image for a user
// without a picture: a user read and the (cached) initials PNG.
func BenchmarkGeneratedPicture(b *testing.B) {
	e := newEnv(b, backends[0].dsn(b), httpadapter.Options{Logger: slog.New(slog.DiscardHandler)})
	a := e.register("bench_user")
	r := httptest.NewRequest("GET", "/api/user/"+a.uuid+"/image", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}

// BenchmarkUploadedPicture measures GET /api/user/{uuid}/image for a user
// with a 400x400 PNG: a user read, a file read and the content from disk.
func BenchmarkUploadedPicture(b *testing.B) {
	e := newEnv(b, backends[0].dsn(b), httpadapter.Options{Logger: slog.New(slog.DiscardHandler)})
	a := e.register("bench_user")
	e.upload("PUT", "/api/user/"+a.uuid+"/image", a.AccessToken, "p.png", pngImage(b, 400, 400)).wantStatus(b, 200)
	r := httptest.NewRequest("GET", "/api/user/"+a.uuid+"/image", nil)
	b.ReportAllocs()
	for b.Loop() {
		rec := httptest.NewRecorder()
		e.h.ServeHTTP(rec, r)
		if rec.Code != 200 {
			b.Fatalf("status %d", rec.Code)
		}
	}
}
