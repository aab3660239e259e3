package files

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// Image formats InspectImage recognises, named as their usual extension.
const (
	FormatPNG  = "png"
	FormatJPEG = "jpg"
	FormatGIF  = "gif"
	FormatBMP  = "bmp"
)

// ImageExtensions are the file-name extensions of the formats above (the
// reference's list).
var ImageExtensions = []string{"png", "jpg", "jpeg", "gif", "bmp"}

// ErrNotImage is returned by InspectImage for content that is not a PNG,
// JPEG, GIF or BMP image with a readable header.
var ErrNotImage = errors.New("files: not a PNG, JPEG, GIF or BMP image")

// ImageInfo is what an image's header says.
type ImageInfo struct {
	Format        string // FormatPNG, FormatJPEG, FormatGIF or FormatBMP
	Width, Height int
}

// ContentType returns the media type of the format.
func (i ImageInfo) ContentType() string {
	switch i.Format {
	case FormatJPEG:
		return "image/jpeg"
	case "":
		return ""
	}
	return "image/" + i.Format
}

// maxJPEGSegments bounds how many JPEG segments are skipped looking for the
// frame header.
const maxJPEGSegments = 1024

// InspectImage reads the format and dimensions from the header of the image
// in r, decoding no pixels: a small file claiming huge dimensions costs
// nothing. For a JPEG it skips the segments before the frame header. It
// returns ErrNotImage (wrapped, with the reason) for anything else, a
// truncated header or a zero dimension.
func InspectImage(r io.Reader) (ImageInfo, error) {
	br := bufio.NewReaderSize(r, 64)
	head, _ := br.Peek(26)
	var (
		info ImageInfo
		err  error
	)
	switch {
	case bytes.HasPrefix(head, []byte("\x89PNG\r\n\x1a\n")):
		info, err = pngInfo(head)
	case bytes.HasPrefix(head, []byte("GIF87a")), bytes.HasPrefix(head, []byte("GIF89a")):
		info, err = gifInfo(head)
	case bytes.HasPrefix(head, []byte("BM")):
		info, err = bmpInfo(head)
	case bytes.HasPrefix(head, []byte{0xff, 0xd8}):
		info, err = jpegInfo(br)
	default:
		return ImageInfo{}, ErrNotImage
	}
	if err != nil {
		return ImageInfo{}, err
	}
	if info.Width <= 0 || info.Height <= 0 {
		return ImageInfo{}, fmt.Errorf("%w: zero or negative dimensions", ErrNotImage)
	}
	return info, nil
}

func truncated(format string) error {
	return fmt.Errorf("%w: truncated %s header", ErrNotImage, format)
}

// pngInfo reads the IHDR chunk, which must come first.
func pngInfo(h []byte) (ImageInfo, error) {
	if len(h) < 24 {
		return ImageInfo{}, truncated("PNG")
	}
	if string(h[12:16]) != "IHDR" {
		return ImageInfo{}, fmt.Errorf("%w: PNG without IHDR first", ErrNotImage)
	}
	w, ht := binary.BigEndian.Uint32(h[16:20]), binary.BigEndian.Uint32(h[20:24])
	if w > 1<<31-1 || ht > 1<<31-1 {
		return ImageInfo{}, fmt.Errorf("%w: PNG dimensions out of range", ErrNotImage)
	}
	return ImageInfo{Format: FormatPNG, Width: int(w), Height: int(ht)}, nil
}

// gifInfo reads the logical screen descriptor.
func gifInfo(h []byte) (ImageInfo, error) {
	if len(h) < 10 {
		return ImageInfo{}, truncated("GIF")
	}
	return ImageInfo{Format: FormatGIF, Width: int(binary.LittleEndian.Uint16(h[6:8])), Height: int(binary.LittleEndian.Uint16(h[8:10]))}, nil
}

// bmpInfo reads the DIB header: the old 12-byte core header (16-bit sizes)
// or a 40-byte-or-larger info header (signed 32-bit sizes; a negative
// height means a top-down bitmap).
func bmpInfo(h []byte) (ImageInfo, error) {
	if len(h) < 18 {
		return ImageInfo{}, truncated("BMP")
	}
	switch size := binary.LittleEndian.Uint32(h[14:18]); {
	case size == 12:
		if len(h) < 22 {
			return ImageInfo{}, truncated("BMP")
		}
		return ImageInfo{Format: FormatBMP, Width: int(binary.LittleEndian.Uint16(h[18:20])), Height: int(binary.LittleEndian.Uint16(h[20:22]))}, nil
	case size >= 40 && size <= 1024:
		if len(h) < 26 {
			return ImageInfo{}, truncated("BMP")
		}
		w := int64(int32(binary.LittleEndian.Uint32(h[18:22])))
		ht := int64(int32(binary.LittleEndian.Uint32(h[22:26])))
		if ht < 0 {
			ht = -ht
		}
		return ImageInfo{Format: FormatBMP, Width: int(w), Height: int(ht)}, nil
	}
	return ImageInfo{}, fmt.Errorf("%w: unknown BMP header", ErrNotImage)
}

// jpegInfo walks the segments after SOI to the first frame header (SOF0 to
// SOF15 but DHT, JPG and DAC, which share the range).
func jpegInfo(br *bufio.Reader) (ImageInfo, error) {
	if _, err := br.Discard(2); err != nil {
		return ImageInfo{}, truncated("JPEG")
	}
	for range maxJPEGSegments {
		b, err := br.ReadByte()
		if err != nil {
			return ImageInfo{}, truncated("JPEG")
		}
		if b != 0xff {
			return ImageInfo{}, fmt.Errorf("%w: JPEG marker expected", ErrNotImage)
		}
		marker := byte(0xff)
		for marker == 0xff { // fill bytes
			if marker, err = br.ReadByte(); err != nil {
				return ImageInfo{}, truncated("JPEG")
			}
		}
		switch {
		case marker == 0x01 || marker >= 0xd0 && marker <= 0xd7: // no length
			continue
		case marker == 0xd9 || marker == 0xda || marker == 0x00:
			return ImageInfo{}, fmt.Errorf("%w: JPEG without a frame header", ErrNotImage)
		}
		var lb [2]byte
		if _, err := io.ReadFull(br, lb[:]); err != nil {
			return ImageInfo{}, truncated("JPEG")
		}
		n := int(binary.BigEndian.Uint16(lb[:]))
		if n < 2 {
			return ImageInfo{}, fmt.Errorf("%w: bad JPEG segment length", ErrNotImage)
		}
		if marker >= 0xc0 && marker <= 0xcf && marker != 0xc4 && marker != 0xc8 && marker != 0xcc {
			var sof [5]byte
			if n < 7 {
				return ImageInfo{}, fmt.Errorf("%w: short JPEG frame header", ErrNotImage)
			}
			if _, err := io.ReadFull(br, sof[:]); err != nil {
				return ImageInfo{}, truncated("JPEG")
			}
			return ImageInfo{Format: FormatJPEG, Height: int(binary.BigEndian.Uint16(sof[1:3])), Width: int(binary.BigEndian.Uint16(sof[3:5]))}, nil
		}
		if _, err := br.Discard(n - 2); err != nil {
			return ImageInfo{}, truncated("JPEG")
		}
	}
	return ImageInfo{}, fmt.Errorf("%w: too many JPEG segments", ErrNotImage)
}

// SniffLen is how many leading bytes Sniff looks at.
const SniffLen = 512

// Sniff returns the media type of content from its first bytes (the
// WHATWG sniffing algorithm of net/http): never trusted from the client.
func Sniff(head []byte) string {
	if len(head) > SniffLen {
		head = head[:SniffLen]
	}
	return http.DetectContentType(head)
}

// InlineSafe reports whether content of the media type may be shown inline
// by a browser: the raster image types only (never SVG or HTML, which can
// carry scripts).
func InlineSafe(contentType string) bool {
	switch contentType {
	case "image/png", "image/jpeg", "image/gif", "image/bmp":
		return true
	}
	return false
}
