package httpadapter

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"image"
	"image/color"
	"image/draw"
	"image/png"
	"strings"
	"unicode"

	"golang.org/x/image/font"
	"golang.org/x/image/font/gofont/gobold"
	"golang.org/x/image/font/opentype"
	"golang.org/x/image/math/fixed"
)

// The pages' default logo and favicon: the initials of the project name in
// white on a colour chosen from the name. Kept minimal and unexported; the
// files package draws the richer user avatars.

// initialsPalette holds backgrounds on which white text has a contrast
// ratio of at least 4.5:1 (WCAG AA).
var initialsPalette = []color.RGBA{
	{0x1d, 0x4e, 0xd8, 0xff}, // blue
	{0x04, 0x78, 0x57, 0xff}, // green
	{0xb9, 0x1c, 0x1c, 0xff}, // red
	{0x6d, 0x28, 0xd9, 0xff}, // violet
	{0x9a, 0x34, 0x12, 0xff}, // orange
	{0x0f, 0x76, 0x6e, 0xff}, // teal
	{0xbe, 0x18, 0x5d, 0xff}, // pink
	{0x33, 0x41, 0x55, 0xff}, // slate
}

// initials returns up to two upper-case letters of name: the first letter
// or digit of its first two words, "?" when it has none.
func initials(name string) string {
	words := strings.FieldsFunc(name, func(r rune) bool {
		return !unicode.IsLetter(r) && !unicode.IsDigit(r)
	})
	var out []rune
	for _, w := range words {
		if len(out) == 2 {
			break
		}
		out = append(out, unicode.ToUpper([]rune(w)[0]))
	}
	if len(out) == 0 {
		return "?"
	}
	return string(out)
}

// initialsPNG draws name's initials on a square of size pixels, as PNG.
func initialsPNG(name string, size int) ([]byte, error) {
	h := fnv.New32a()
	h.Write([]byte(name))
	bg := initialsPalette[h.Sum32()%uint32(len(initialsPalette))]

	img := image.NewRGBA(image.Rect(0, 0, size, size))
	draw.Draw(img, img.Bounds(), &image.Uniform{bg}, image.Point{}, draw.Src)

	f, err := opentype.Parse(gobold.TTF)
	if err != nil {
		return nil, fmt.Errorf("httpadapter: parse the initials font: %w", err)
	}
	text := initials(name)
	face, err := opentype.NewFace(f, &opentype.FaceOptions{Size: float64(size) * 0.42, DPI: 72, Hinting: font.HintingFull})
	if err != nil {
		return nil, fmt.Errorf("httpadapter: initials font face: %w", err)
	}
	defer face.Close()
	d := &font.Drawer{Dst: img, Src: image.White, Face: face}
	width := d.MeasureString(text)
	m := face.Metrics()
	// Centre the text box: horizontally by its advance, vertically by the
	// cap height (ascent less the internal leading, roughly).
	capHeight := m.CapHeight
	if capHeight <= 0 {
		capHeight = m.Ascent * 7 / 10
	}
	d.Dot = fixed.Point26_6{
		X: (fixed.I(size) - width) / 2,
		Y: (fixed.I(size) + capHeight) / 2,
	}
	d.DrawString(text)

	var buf bytes.Buffer
	if err := png.Encode(&buf, img); err != nil {
		return nil, fmt.Errorf("httpadapter: encode the initials image: %w", err)
	}
	return buf.Bytes(), nil
}

// pngToICO wraps a square PNG of size pixels (at most 256) in an ICO
// container, which every browser reads at /favicon.ico.
func pngToICO(p []byte, size int) []byte {
	dim := byte(size)
	if size >= 256 {
		dim = 0 // 0 means 256 in ICO
	}
	var buf bytes.Buffer
	// ICONDIR: reserved, type 1 (icon), one image.
	_ = binary.Write(&buf, binary.LittleEndian, [3]uint16{0, 1, 1})
	// ICONDIRENTRY: width, height, colours, reserved, planes, bit count,
	// size of the data, offset of the data (after these 6+16 bytes).
	buf.Write([]byte{dim, dim, 0, 0})
	_ = binary.Write(&buf, binary.LittleEndian, [2]uint16{1, 32})
	_ = binary.Write(&buf, binary.LittleEndian, [2]uint32{uint32(len(p)), 22})
	buf.Write(p)
	return buf.Bytes()
}
