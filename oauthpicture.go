package usermgmt

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"image"
	_ "image/gif"  // provider pictures may be GIF
	_ "image/jpeg" // or JPEG
	"image/png"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"golang.org/x/image/draw"

	"github.com/usermgmt/usermgmt/files"
	"github.com/usermgmt/usermgmt/internal/netguard"
)

// Limits on a provider's profile picture.
const (
	maxProviderPicture     = 5 << 20
	providerPictureTimeout = 5 * time.Second
)

// pictureTypes maps the image types accepted from a provider onto file
// extensions.
var pictureTypes = map[string]string{
	"image/png":  "png",
	"image/jpeg": "jpg",
	"image/gif":  "gif",
}

// fetchProviderPicture downloads a provider's profile picture: an http(s)
// URL, answered 200 within 5 s with an image type (PNG, JPEG or GIF)
// and at most 5 MiB. filename is "picture.<ext>" after the type.
func (m *Manager) fetchProviderPicture(ctx context.Context, pictureURL string) (filename string, body []byte, err error) {
	u, err := url.Parse(pictureURL)
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return "", nil, errors.New("usermgmt: provider picture: not an http(s) URL")
	}
	ctx, cancel := context.WithTimeout(ctx, providerPictureTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u.String(), nil)
	if err != nil {
		return "", nil, fmt.Errorf("usermgmt: provider picture: %w", err)
	}
	req.Header.Set("Accept", "image/*")
	res, err := m.cfg.OAuthPictureClient.Do(req)
	if err != nil {
		return "", nil, fmt.Errorf("usermgmt: provider picture: %w", err)
	}
	defer res.Body.Close()
	if res.StatusCode != http.StatusOK {
		return "", nil, fmt.Errorf("usermgmt: provider picture: status %d", res.StatusCode)
	}
	ct, _, _ := mime.ParseMediaType(res.Header.Get("Content-Type"))
	ext, ok := pictureTypes[strings.ToLower(ct)]
	if !ok {
		return "", nil, fmt.Errorf("usermgmt: provider picture: type %q is not an accepted image", ct)
	}
	if res.ContentLength > maxProviderPicture {
		return "", nil, errors.New("usermgmt: provider picture: too large")
	}
	body, err = io.ReadAll(io.LimitReader(res.Body, maxProviderPicture+1))
	if err != nil {
		return "", nil, fmt.Errorf("usermgmt: provider picture: %w", err)
	}
	if len(body) > maxProviderPicture {
		return "", nil, errors.New("usermgmt: provider picture: too large")
	}
	if len(body) == 0 {
		return "", nil, errors.New("usermgmt: provider picture: empty")
	}
	return "picture." + ext, body, nil
}

// Bounds on a provider picture that is scaled down before it is stored.
const (
	// providerPictureSide is the side a larger picture is scaled to fit.
	providerPictureSide = 256
	// maxProviderPictureSide refuses pictures whose header claims more,
	// before anything is decoded.
	maxProviderPictureSide = 4096
)

// importProviderPicture makes the provider's picture at pictureURL the
// user's profile picture. A picture larger than maxPictureSide is scaled
// down (after its header has been checked, so nothing huge is decoded).
// Failures are logged, never returned: a missing picture must not fail a
// login.
func (m *Manager) importProviderPicture(ctx context.Context, userUUID, pictureURL string) {
	if pictureURL == "" || m.Storage() == nil {
		return
	}
	if err := m.storeProviderPicture(ctx, userUUID, pictureURL); err != nil {
		m.log.WarnContext(ctx, "usermgmt: provider picture not imported", "user", userUUID, "err", err)
	}
}

func (m *Manager) storeProviderPicture(ctx context.Context, userUUID, pictureURL string) error {
	filename, body, err := m.fetchProviderPicture(ctx, pictureURL)
	if err != nil {
		return err
	}
	info, err := files.InspectImage(bytes.NewReader(body))
	if err != nil {
		return fmt.Errorf("usermgmt: provider picture: %w", err)
	}
	if info.Width > maxProviderPictureSide || info.Height > maxProviderPictureSide {
		return fmt.Errorf("usermgmt: provider picture: %dx%d is too large", info.Width, info.Height)
	}
	if info.Width > maxPictureSide || info.Height > maxPictureSide {
		if body, err = scalePicture(body, providerPictureSide); err != nil {
			return err
		}
		filename = "picture.png"
	}
	_, err = m.SetProfilePicture(ctx, userUUID, filename, bytes.NewReader(body))
	return err
}

// scalePicture decodes an image (PNG, JPEG or GIF) and returns it as a PNG
// that fits in side x side, keeping its proportions.
func scalePicture(body []byte, side int) ([]byte, error) {
	src, _, err := image.Decode(bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("usermgmt: provider picture: %w", err)
	}
	b := src.Bounds()
	w, h := side, side
	if b.Dx() > b.Dy() {
		h = max(1, b.Dy()*side/b.Dx())
	} else {
		w = max(1, b.Dx()*side/b.Dy())
	}
	dst := image.NewRGBA(image.Rect(0, 0, w, h))
	draw.CatmullRom.Scale(dst, dst.Bounds(), src, b, draw.Src, nil)
	var out bytes.Buffer
	if err := png.Encode(&out, dst); err != nil {
		return nil, fmt.Errorf("usermgmt: provider picture: %w", err)
	}
	return out.Bytes(), nil
}

// publicOnlyClient returns an HTTP client whose connections go to public
// addresses only (netguard.Control, on the address actually dialled).
func publicOnlyClient(timeout time.Duration) *http.Client {
	dialer := &net.Dialer{Timeout: timeout, Control: netguard.Control}
	return &http.Client{Timeout: timeout, Transport: &http.Transport{
		DialContext: dialer.DialContext, TLSHandshakeTimeout: timeout, MaxIdleConns: 4,
		IdleConnTimeout: 30 * time.Second, ResponseHeaderTimeout: timeout,
	}}
}
