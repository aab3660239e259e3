package files

import (
	"bytes"
	"errors"
	"fmt"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"sync"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/goregular"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// The generated avatar's look, as the reference draws it: a grey square of
// AvatarSize pixels with the initials in white, at the largest font size
// from avatarMaxFontSize down whose ink fits in avatarBox pixels both ways.
const (
	AvatarSize        = 100
	avatarBox         = 80
	avatarMaxFontSize = 150
	avatarCacheSize   = 4096
)

var (
	avatarBackground = color.RGBA{128, 128, 128, 255}
	avatarInk        = image.White
)

// ErrTextTooLong is returned by Avatars.PNG when the initials do not fit in
// the picture at any font size.
var ErrTextTooLong = errors.New("files: unable to fit the text within the image")

// Initials returns the initials of text as the reference extracts them: a
// letter is kept, upper-cased, when it starts a word; words begin the text
// and follow a digit, an underscore or a space. Other characters (a hyphen,
// say) neither start nor end a word. "john_doe" gives "JD", "Jean-Luc" "J".
func Initials(text string) string {
	var out []rune
	next := true
	for _, r := range text {
		switch {
		case unicode.IsLetter(r):
			if next {
				out = append(out, unicode.ToUpper(r))
			}
			next = false
		case unicode.IsDigit(r), r == '_', r == ' ':
			next = true
		}
	}
	return string(out)
}

// Avatars draws initials avatars with the Go Regular font (embedded) and
// keeps the PNGs it drew, by initials. It is safe for concurrent use.
type Avatars struct {
	font  *opentype.Font
	mu    sync.Mutex
	cache map[string][]byte
}

// NewAvatars parses the embedded font.
func NewAvatars() (*Avatars, error) {
	f, err := opentype.Parse(goregular.TTF)
	if err != nil {
		return nil, fmt.Errorf("files: parse the avatar font: %w", err)
	}
	return &Avatars{font: f, cache: map[string][]byte{}}, nil
}

// PNG returns the avatar of text (its Initials) as a PNG. The bytes are
// shared: do not modify them.
func (a *Avatars) PNG(text string) ([]byte, error) {
	initials := Initials(text)
	a.mu.Lock()
	b, ok := a.cache[initials]
	a.mu.Unlock()
	if ok {
		return b, nil
	}
	b, err := a.draw(initials)
	if err != nil {
		return nil, err
	}
	a.mu.Lock()
	if len(a.cache) >= avatarCacheSize {
		clear(a.cache)
	}
	a.cache[initials] = b
	a.mu.Unlock()
	return b, nil
}

// face returns the font at size points (at 72 dpi, so points are pixels).
func (a *Avatars) face(size int) (font.Face, error) {
	return opentype.NewFace(a.font, &opentype.FaceOptions{Size: float64(size), DPI: 72, Hinting: font.HintingNone})
}

// fit returns the largest size up to avatarMaxFontSize at which the ink of
// text fits avatarBox both ways, with its face and ink bounds.
func (a *Avatars) fit(text string) (font.Face, fixed.Rectangle26_6, error) {
	measure := func(size int) (font.Face, fixed.Rectangle26_6, bool, error) {
		f, err := a.face(size)
		if err != nil {
			return nil, fixed.Rectangle26_6{}, false, err
		}
		b, _ := font.BoundString(f, text)
		w, h := (b.Max.X - b.Min.X).Ceil(), (b.Max.Y - b.Min.Y).Ceil()
		return f, b, w <= avatarBox && h <= avatarBox, nil
	}
	// Ink grows about linearly with the size: start from the estimate and
	// step to the exact answer.
	f, b, fits, err := measure(avatarMaxFontSize)
	if err != nil || fits {
		return f, b, err
	}
	w, h := (b.Max.X - b.Min.X).Ceil(), (b.Max.Y - b.Min.Y).Ceil()
	size := min(avatarMaxFontSize-1, avatarMaxFontSize*avatarBox/max(w, h, 1)+1)
	for ; size > 0; size-- {
		if f, b, fits, err = measure(size); err != nil || fits {
			break
		}
	}
	if err != nil {
		return nil, b, err
	}
	if size == 0 {
		return nil, b, ErrTextTooLong
	}
	// The estimate may have been low: climb while the next size fits.
	for size < avatarMaxFontSize-1 {
		f2, b2, fits2, err := measure(size + 1)
		if err != nil || !fits2 {
			break
		}
		size, f, b = size+1, f2, b2
	}
	return f, b, nil
}

// draw renders initials centred on the grey square.
func (a *Avatars) draw(initials string) ([]byte, error) {
	img := image.NewRGBA(image.Rect(0, 0, AvatarSize, AvatarSize))
	draw.Draw(img, img.Bounds(), image.NewUniform(avatarBackground), image.Point{}, draw.Src)
	if initials != "" {
		face, b, err := a.fit(initials)
		if err != nil {
			return nil, err
		}
		w, h := b.Max.X-b.Min.X, b.Max.Y-b.Min.Y
		size := fixed.I(AvatarSize)
		d := font.Drawer{Dst: img, Src: avatarInk, Face: face,
			Dot: fixed.Point26_6{X: (size-w)/2 - b.Min.X, Y: (size-h)/2 - b.Min.Y}}
		d.DrawString(initials)
	}
	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("files: encode the avatar: %w", err)
	}
	return buf.Bytes(), nil
}
