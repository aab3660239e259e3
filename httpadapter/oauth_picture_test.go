package httpadapter_test

import (
	"bytes"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/usermgmt/usermgmt"
)

// pngOfSize encodes a w x h image.
func pngOfSize(t *testing.T, w, h int) []byte {
	t.Helper()
	img := image.NewRGBA(image.Rect(0, 0, w, h))
	for x := range w {
		img.Set(x, x%h, color.RGBA{R: 200, A: 255})
	}
	var b bytes.Buffer
	if err := png.Encode(&b, img); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestOAuthImportsPicture: a new account gets its provider's picture as its
// profile picture, scaled down when larger than 512 px; a picture that
// cannot be imported leaves the generated one and does not fail the login.
func TestOAuthImportsPicture(t *testing.T) {
	large, small := pngOfSize(t, 800, 600), pngOfSize(t, 64, 64)
	pics := http.NewServeMux()
	pics.HandleFunc("/large.png", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(large)
	})
	pics.HandleFunc("/small.png", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write(small)
	})
	pics.HandleFunc("/broken.png", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "image/png")
		_, _ = w.Write([]byte("not a png"))
	})
	srv := httptest.NewServer(pics)
	t.Cleanup(srv.Close)

	withFiles := func(c *usermgmt.Config) {
		c.DataDir = t.TempDir()
		// The pictures are served on loopback, which the default picture
		// client refuses.
		c.OAuthPictureClient = http.DefaultClient
	}
	eachOAuthBackend(t, withFiles, func(t *testing.T, e *oauthEnv) {
		for i, tc := range []struct {
			path         string
			wantW, wantH int
			generated    bool
		}{
			{"/large.png", 256, 192, false},
			{"/small.png", 64, 64, false},
			{"/broken.png", 0, 0, true},
		} {
			id := identity("github", i+1, fmt.Sprintf("pic%d@example.org", i))
			id.Picture = srv.URL + tc.path
			tk := e.login(t, "github", id).tokens(t)
			me := e.me(t, tk.AccessToken)
			r := e.do(request{method: "GET", path: "/api/user/" + me["uuid"].(string) + "/image"})
			r.wantStatus(t, http.StatusOK)
			cfg, err := png.DecodeConfig(bytes.NewReader(r.body))
			if err != nil {
				t.Fatalf("%s: picture is not a PNG: %v", tc.path, err)
			}
			if tc.generated {
				if me["profile_picture"] != nil {
					t.Errorf("%s: picture id %v after a failed import", tc.path, me["profile_picture"])
				}
				continue
			}
			if me["profile_picture"] == nil || cfg.Width != tc.wantW || cfg.Height != tc.wantH {
				t.Errorf("%s: picture id %v, %dx%d; want %dx%d", tc.path, me["profile_picture"], cfg.Width, cfg.Height, tc.wantW, tc.wantH)
			}
		}
	})
}
