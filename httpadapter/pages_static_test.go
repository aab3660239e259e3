package httpadapter_test

import (
	"bytes"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/usermgmt/usermgmt/files"
	"github.com/usermgmt/usermgmt/httpadapter"
)

// decodePNG decodes a PNG and checks its size.
func decodePNG(t *testing.T, b []byte, size int) image.Image {
	t.Helper()
	img, err := png.Decode(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("not a PNG: %v", err)
	}
	if got := img.Bounds(); got.Dx() != size || got.Dy() != size {
		t.Fatalf("image is %v, want %dx%d", got, size, size)
	}
	return img
}

// hasWhite reports whether the image has white (text) pixels.
func hasWhite(img image.Image) bool {
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if c := color.RGBAModel.Convert(img.At(x, y)).(color.RGBA); c.R == 0xff && c.G == 0xff && c.B == 0xff {
				return true
			}
		}
	}
	return false
}

func TestPagesImages(t *testing.T) {
	e := pagesEnv(t, backends[0].dsn(t), httpadapter.PagesOptions{ProjectName: "Acme Accounts"})

	logo := e.do(request{method: "GET", path: "/logo.png"})
	logo.wantStatus(t, 200)
	if ct := logo.header.Get("Content-Type"); ct != "image/png" {
		t.Fatalf("logo Content-Type = %q", ct)
	}
	img := decodePNG(t, logo.body, files.AvatarSize)
	if corner := color.RGBAModel.Convert(img.At(0, 0)).(color.RGBA); corner == (color.RGBA{255, 255, 255, 255}) || corner.A != 255 {
		t.Fatalf("logo background = %v", corner)
	}
	if !hasWhite(img) {
		t.Fatal("logo has no initials drawn")
	}

	ico := e.do(request{method: "GET", path: "/favicon.ico"})
	ico.wantStatus(t, 200)
	if ct := ico.header.Get("Content-Type"); ct != "image/x-icon" {
		t.Fatalf("favicon Content-Type = %q", ct)
	}
	if !bytes.HasPrefix(ico.body, []byte{0, 0, 1, 0, 1, 0, files.AvatarSize, files.AvatarSize}) || len(ico.body) < 22 {
		t.Fatalf("favicon is not a one-image %dx%[1]d ICO: % x", files.AvatarSize, ico.body[:min(len(ico.body), 16)])
	}
	if !bytes.Equal(ico.body[22:], logo.body) {
		t.Fatal("favicon has no initials drawn")
	}

	// Cached by ETag.
	etag := logo.header.Get("ETag")
	if r := e.do(request{method: "GET", path: "/logo.png", header: map[string]string{"If-None-Match": etag}}); r.status != 304 || len(r.body) != 0 {
		t.Fatalf("conditional GET = %d (%d bytes)", r.status, len(r.body))
	}

	// Configured images are served as given; the favicon falls back to the
	// logo.
	var custom bytes.Buffer
	_ = png.Encode(&custom, image.NewRGBA(image.Rect(0, 0, 3, 3)))
	e2 := pagesEnv(t, backends[0].dsn(t), httpadapter.PagesOptions{Logo: custom.Bytes()})
	for _, path := range []string{"/logo.png", "/favicon.ico"} {
		r := e2.do(request{method: "GET", path: path})
		if r.status != 200 || !bytes.Equal(r.body, custom.Bytes()) || r.header.Get("Content-Type") != "image/png" {
			t.Fatalf("%s = %d %q (%d bytes)", path, r.status, r.header.Get("Content-Type"), len(r.body))
		}
	}
	ico3 := []byte{0, 0, 1, 0, 1, 0, 16, 16, 0, 0, 1, 0, 32, 0}
	e3 := pagesEnv(t, backends[0].dsn(t), httpadapter.PagesOptions{Favicon: ico3})
	if r := e3.do(request{method: "GET", path: "/favicon.ico"}); !bytes.Equal(r.body, ico3) {
		t.Fatalf("configured favicon = % x", r.body)
	}
}

func TestPagesNotFoundAndAssets(t *testing.T) {
	e := pagesEnv(t, backends[0].dsn(t), httpadapter.PagesOptions{})
	html := map[string]string{"Accept": "text/html,application/xhtml+xml"}
	// / leads to the login page (issue 15 item 9: TestPagesIndex), the
	// others, not configured, to /404.
	for _, path := range []string{"/terms", "/privacy", "/support"} {
		r := e.do(request{method: "GET", path: path})
		if r.status != http.StatusTemporaryRedirect || r.header.Get("Location") != "/404" {
			t.Errorf("GET %s = %d to %q", path, r.status, r.header.Get("Location"))
		}
	}
	tests := []struct {
		name, path string
		header     map[string]string
		status     int
		want       string
	}{
		{"404 page", "/404", nil, 404, "404 - Page Not Found"},
		{"browser lost outside the API", "/nowhere", html, 404, "404 - Page Not Found"},
		{"client lost outside the API", "/nowhere", nil, 404, `"code":"not_found"`},
		{"browser lost in the API", "/api/nowhere", html, 404, `"code":"not_found"`},
		{"unknown asset", "/pages/secret.txt", nil, 404, "404 - Page Not Found"},
		{"stylesheet", "/pages/style.css", nil, 200, "--accent"},
		{"script", "/pages/pages.js", nil, 200, `"use strict"`},
		{"email verified", "/email-verified", nil, 200, "your email address is confirmed"},
		{"email not verified", "/email-verified?error=expired", nil, 400, "This verification link is invalid or has expired."},
		{"logout page, nobody signed in", "/logout", nil, 200, "You are not signed in."},
		{"redirect carried to the sign-up link", "/login?redirect_uri=%2Fapp%3Fx%3D1", nil, 200, `href="/register?redirect_uri=%2Fapp%3Fx%3D1"`},
		{"foreign redirect dropped", "/login?redirect_uri=https%3A%2F%2Fevil.example", nil, 200, `href="/register"`},
		{"malformed query", "/login?redirect_uri=%zz", nil, 200, `action="/login"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := e.do(request{method: "GET", path: tt.path, header: tt.header})
			if r.status != tt.status || !strings.Contains(string(r.body), tt.want) {
				t.Fatalf("GET %s = %d, want %d with %q:\n%s", tt.path, r.status, tt.status, tt.want, r.body)
			}
		})
	}
	if ct := e.do(request{method: "GET", path: "/pages/style.css"}).header.Get("Content-Type"); ct != "text/css; charset=utf-8" {
		t.Fatalf("style.css Content-Type = %q", ct)
	}

	// Without Options.Pages, none of it is served.
	plain := newEnv(t, backends[0].dsn(t), httpadapter.Options{})
	for _, path := range []string{"/login", "/logo.png", "/404", "/"} {
		plain.do(request{method: "GET", path: path, header: html}).wantError(t, 404, "not_found")
	}

	// The host's own routes win over the pages'.
	mux := http.NewServeMux()
	mux.Handle("/", e.h)
	mux.HandleFunc("GET /terms", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("our terms")) })
	if r := serve(t, mux, request{method: "GET", path: "/terms"}.build(t)); r.status != 200 || string(r.body) != "our terms" {
		t.Fatalf("host /terms = %s", r)
	}
}

func TestPagesOverrides(t *testing.T) {
	files := fstest.MapFS{
		"login.html": {Data: []byte(`{{define "content"}}<p>Custom login for {{.Project}}</p>{{end}}`)},
		"style.css":  {Data: []byte(`body { color: black; }`)},
	}
	e := pagesEnv(t, backends[0].dsn(t), httpadapter.PagesOptions{ProjectName: "Override Co", Files: files})
	r := e.do(request{method: "GET", path: "/login"})
	r.wantStatus(t, 200)
	if body := string(r.body); !strings.Contains(body, "<p>Custom login for Override Co</p>") || !strings.Contains(body, `<header class="brand">`) {
		t.Fatalf("override not used:\n%s", body)
	}
	if r := e.do(request{method: "GET", path: "/pages/style.css"}); string(r.body) != "body { color: black; }" {
		t.Fatalf("style.css = %s", r.body)
	}
	// Unchanged pages keep the embedded template.
	e.do(request{method: "GET", path: "/register"}).wantStatus(t, 200)

	defer func() {
		if v := recover(); v == nil || !strings.Contains(v.(string), "login") {
			t.Fatalf("a broken override: recover() = %v, want a panic naming the page", v)
		}
	}()
	pagesEnv(t, backends[0].dsn(t), httpadapter.PagesOptions{Files: fstest.MapFS{"login.html": {Data: []byte(`{{define "content"}}{{.Nope`)}}})
}
