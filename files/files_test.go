package files_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"image"
	"image/color"
	"image/gif"
	"image/jpeg"
	"image/png"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/usermgmt/usermgmt/files"
)

func TestSafeName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"cv.pdf", "cv.pdf"},
		{"../../etc/passwd", "passwd"},
		{`C:\Users\x\report.docx`, "report.docx"},
		{"..", ""},
		{".", ""},
		{".bashrc", "bashrc"},
		{"  spaced name.txt  ", "spaced name.txt"},
		{"tab\tand\nnewline.txt", "tabandnewline.txt"},
		{"evil\u202etxt.exe", "eviltxt.exe"},
		{"bad\xffutf8.png", "badutf8.png"},
		{"dir/", ""},
		{"", ""},
		{strings.Repeat("é", 150) + ".png", strings.Repeat("é", 98) + ".png"},
	}
	for _, tt := range tests {
		got, err := files.SafeName(tt.in)
		if tt.want == "" {
			if !errors.Is(err, files.ErrBadName) {
				t.Errorf("SafeName(%q) = %q, %v; want ErrBadName", tt.in, got, err)
			}
			continue
		}
		if err != nil || got != tt.want {
			t.Errorf("SafeName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func FuzzSafeName(f *testing.F) {
	for _, s := range []string{"a.png", "../x", `..\..\x`, "\x00", ". .", strings.Repeat("a", 300) + ".txt", "é\u200b.txt"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, in string) {
		got, err := files.SafeName(in)
		if err != nil {
			if got != "" {
				t.Fatalf("error with a name %q", got)
			}
			return
		}
		if got == "" || got == "." || got == ".." || strings.ContainsAny(got, `/\`) || strings.HasPrefix(got, ".") ||
			len(got) > files.MaxNameBytes || !utf8.ValidString(got) {
			t.Fatalf("SafeName(%q) = %q: not safe", in, got)
		}
		for _, r := range got {
			if r < 0x20 || r == 0x7f {
				t.Fatalf("SafeName(%q) = %q keeps a control character", in, got)
			}
		}
		if again, err := files.SafeName(got); err != nil || again != got {
			t.Fatalf("SafeName is not idempotent: %q -> %q -> %q, %v", in, got, again, err)
		}
		if !files.ValidKey("users/" + got) {
			t.Fatalf("ValidKey refuses safe name %q", got)
		}
	})
}

func TestExt(t *testing.T) {
	for in, want := range map[string]string{"a.PNG": "png", "a.tar.gz": "gz", "noext": "", "dot.": ""} {
		if got := files.Ext(in); got != want {
			t.Errorf("Ext(%q) = %q, want %q", in, got, want)
		}
	}
}

// encoded returns a w×h image in format.
func encoded(t testing.TB, format string, w, h int) []byte {
	t.Helper()
	img := image.NewPaletted(image.Rect(0, 0, w, h), color.Palette{color.Black, color.White})
	var buf bytes.Buffer
	var err error
	switch format {
	case "png":
		err = png.Encode(&buf, img)
	case "jpg":
		err = jpeg.Encode(&buf, img, nil)
	case "gif":
		err = gif.Encode(&buf, img, nil)
	case "bmp":
		buf.Write(bmpHeader(w, h, 40))
	}
	if err != nil {
		t.Fatal(err)
	}
	return buf.Bytes()
}

// bmpHeader is a BMP file header and DIB header of the given size.
func bmpHeader(w, h int, dib uint32) []byte {
	b := make([]byte, 14+dib)
	copy(b, "BM")
	binary.LittleEndian.PutUint32(b[14:], dib)
	if dib == 12 {
		binary.LittleEndian.PutUint16(b[18:], uint16(w))
		binary.LittleEndian.PutUint16(b[20:], uint16(h))
	} else {
		binary.LittleEndian.PutUint32(b[18:], uint32(int32(w)))
		binary.LittleEndian.PutUint32(b[22:], uint32(int32(h)))
	}
	return b
}

func TestInspectImage(t *testing.T) {
	// A PNG header claiming 100000×100000 pixels, in 33 bytes.
	bomb := encoded(t, "png", 1, 1)[:33]
	binary.BigEndian.PutUint32(bomb[16:], 100000)
	binary.BigEndian.PutUint32(bomb[20:], 100000)
	// A JPEG with an APP1 segment before its frame header.
	jpg := encoded(t, "jpg", 31, 17)
	withApp := append([]byte{0xff, 0xd8, 0xff, 0xe1, 0x00, 0x06, 'E', 'x', 'i', 'f'}, jpg[2:]...)

	tests := []struct {
		name   string
		data   []byte
		want   files.ImageInfo
		ctype  string
		notImg bool
	}{
		{"png", encoded(t, "png", 400, 300), files.ImageInfo{Format: "png", Width: 400, Height: 300}, "image/png", false},
		{"jpeg", jpg, files.ImageInfo{Format: "jpg", Width: 31, Height: 17}, "image/jpeg", false},
		{"jpeg with app1", withApp, files.ImageInfo{Format: "jpg", Width: 31, Height: 17}, "image/jpeg", false},
		{"gif", encoded(t, "gif", 7, 9), files.ImageInfo{Format: "gif", Width: 7, Height: 9}, "image/gif", false},
		{"bmp", encoded(t, "bmp", 12, 34), files.ImageInfo{Format: "bmp", Width: 12, Height: 34}, "image/bmp", false},
		{"bmp top-down", bmpHeader(5, -6, 124), files.ImageInfo{Format: "bmp", Width: 5, Height: 6}, "image/bmp", false},
		{"bmp core", bmpHeader(3, 4, 12), files.ImageInfo{Format: "bmp", Width: 3, Height: 4}, "image/bmp", false},
		{"png bomb header", bomb, files.ImageInfo{Format: "png", Width: 100000, Height: 100000}, "image/png", false},
		{"text", []byte("hello, world"), files.ImageInfo{}, "", true},
		{"svg", []byte(`<svg xmlns="http://www.w3.org/2000/svg"/>`), files.ImageInfo{}, "", true},
		{"truncated png", encoded(t, "png", 4, 4)[:20], files.ImageInfo{}, "", true},
		{"truncated jpeg", jpg[:4], files.ImageInfo{}, "", true},
		{"zero gif", []byte("GIF89a\x00\x00\x05\x00"), files.ImageInfo{}, "", true},
		{"empty", nil, files.ImageInfo{}, "", true},
	}
	for _, tt := range tests {
		got, err := files.InspectImage(bytes.NewReader(tt.data))
		if tt.notImg {
			if !errors.Is(err, files.ErrNotImage) {
				t.Errorf("%s: %+v, %v; want ErrNotImage", tt.name, got, err)
			}
			continue
		}
		if err != nil || got != tt.want || got.ContentType() != tt.ctype {
			t.Errorf("%s: %+v (%s), %v; want %+v", tt.name, got, got.ContentType(), err, tt.want)
		}
	}
}

func FuzzInspectImage(f *testing.F) {
	f.Add(encoded(f, "png", 3, 2))
	f.Add(encoded(f, "jpg", 3, 2))
	f.Add(encoded(f, "gif", 3, 2))
	f.Add(bmpHeader(3, -2, 40))
	f.Add([]byte{0xff, 0xd8, 0xff, 0xff, 0xc0, 0x00, 0x02})
	f.Fuzz(func(t *testing.T, data []byte) {
		info, err := files.InspectImage(bytes.NewReader(data))
		if err != nil {
			if !errors.Is(err, files.ErrNotImage) {
				t.Fatalf("error %v is not ErrNotImage", err)
			}
			return
		}
		if info.Width <= 0 || info.Height <= 0 || info.ContentType() == "" {
			t.Fatalf("bad info %+v", info)
		}
	})
}

func TestSniff(t *testing.T) {
	if got := files.Sniff(encoded(t, "png", 2, 2)); got != "image/png" {
		t.Errorf("Sniff(png) = %q", got)
	}
	if got := files.Sniff([]byte("<html><script>")); got != "text/html; charset=utf-8" {
		t.Errorf("Sniff(html) = %q", got)
	}
	if files.InlineSafe("image/svg+xml") || files.InlineSafe("text/html; charset=utf-8") || !files.InlineSafe("image/gif") {
		t.Error("InlineSafe is wrong")
	}
}

func TestInitials(t *testing.T) {
	for in, want := range map[string]string{
		"John Doe": "JD", "john_doe": "JD", "Only Fans": "OF", "Twitch Integration Throwing System": "TITS",
		"Bear": "B", "Jean-Luc": "J", "user2name": "UN", "12345": "", "": "",
	} {
		if got := files.Initials(in); got != want {
			t.Errorf("Initials(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestAvatar(t *testing.T) {
	a, err := files.NewAvatars()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"John Doe", "w", "WWWW", "12345", "Twitch Integration Throwing System"} {
		b, err := a.PNG(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		img, err := png.Decode(bytes.NewReader(b))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if img.Bounds() != image.Rect(0, 0, 100, 100) {
			t.Fatalf("%s: bounds %v", name, img.Bounds())
		}
		// Grey corners; white ink inside the 80×80 box when there are
		// initials, and none outside it.
		ink := image.Rectangle{Min: image.Pt(100, 100)}
		for y := range 100 {
			for x := range 100 {
				r, g, bl, _ := img.At(x, y).RGBA()
				if r == g && g == bl && r > 0xf000 {
					ink = ink.Union(image.Rect(x, y, x+1, y+1))
				}
			}
		}
		if r, _, _, _ := img.At(0, 0).RGBA(); r>>8 != 128 {
			t.Errorf("%s: corner is not grey", name)
		}
		if files.Initials(name) == "" {
			if !ink.Empty() {
				t.Errorf("%s: ink without initials", name)
			}
			continue
		}
		if ink.Empty() || ink.Dx() > 82 || ink.Dy() > 82 || ink.Dx() < 20 {
			t.Errorf("%s: ink box %v", name, ink)
		}
		if cx := (ink.Min.X + ink.Max.X) / 2; cx < 44 || cx > 56 {
			t.Errorf("%s: ink not centred: %v", name, ink)
		}
		again, _ := a.PNG(name)
		if !bytes.Equal(again, b) {
			t.Errorf("%s: not deterministic", name)
		}
	}
}

func TestDisk(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	d, err := files.NewDisk(root)
	if err != nil {
		t.Fatal(err)
	}
	key := "users/u1/a.txt"
	if n, err := d.Put(ctx, key, strings.NewReader("first")); err != nil || n != 5 {
		t.Fatalf("Put = %d, %v", n, err)
	}
	// A failing reader leaves the previous content and no temporary file.
	boom := errors.New("boom")
	if _, err := d.Put(ctx, key, io.MultiReader(strings.NewReader("second, half"), errReader{boom})); !errors.Is(err, boom) {
		t.Fatalf("Put with a failing reader = %v", err)
	}
	rc, err := d.Open(ctx, key)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != "first" {
		t.Fatalf("content = %q after a failed Put", b)
	}
	entries, _ := os.ReadDir(filepath.Join(root, "users", "u1"))
	if len(entries) != 1 {
		t.Fatalf("folder holds %d entries, want 1 (no temporary leftovers)", len(entries))
	}
	for _, bad := range []string{"../x", "users/../../x", "/etc/passwd", "users//x", "users/.tmp-x", "users/x/"} {
		if _, err := d.Put(ctx, bad, strings.NewReader("x")); !errors.Is(err, files.ErrInvalidKey) {
			t.Errorf("Put(%q) = %v, want ErrInvalidKey", bad, err)
		}
	}
	if _, err := d.Open(ctx, "users/u1/missing"); !errors.Is(err, files.ErrNotFound) {
		t.Errorf("Open(missing) = %v", err)
	}
	if err := d.Delete(ctx, "users/u1/missing"); err != nil {
		t.Errorf("Delete(missing) = %v", err)
	}
	if err := d.DeleteAll(ctx, "users/u1"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(root, "users", "u1")); !os.IsNotExist(err) {
		t.Fatalf("folder still there: %v", err)
	}
	if err := d.DeleteAll(ctx, "users/u1"); err != nil {
		t.Errorf("DeleteAll twice = %v", err)
	}
}

type errReader struct{ err error }

func (e errReader) Read([]byte) (int, error) { return 0, e.err }

// BenchmarkAvatarDraw measures drawing an avatar (fit and PNG encoding),
// what a cache miss costs.
func BenchmarkAvatarDraw(b *testing.B) {
	b.ReportAllocs()
	for i := 0; b.Loop(); i++ {
		a, err := files.NewAvatars()
		if err != nil {
			b.Fatal(err)
		}
		if _, err := a.PNG("John Doe"); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkInspectImage measures reading a PNG header.
func BenchmarkInspectImage(b *testing.B) {
	data := encoded(b, "png", 400, 400)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := files.InspectImage(bytes.NewReader(data)); err != nil {
			b.Fatal(err)
		}
	}
}
