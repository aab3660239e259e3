package usermgmt

import (
	"context"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
	"time"
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
	"image/webp": "webp",
}

// fetchProviderPicture downloads a provider's profile picture: an http(s)
// URL, answered 200 within 5 s with an image type (PNG, JPEG, GIF or WebP)
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
	res, err := m.cfg.OAuthHTTPClient.Do(req)
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
