package httpadapter

import (
	"math"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// cssColours returns the custom properties of the stylesheet's :root that
// hold a #rrggbb colour.
func cssColours(t *testing.T, css string) map[string]string {
	t.Helper()
	root := regexp.MustCompile(`(?s):root\s*\{(.*?)\}`).FindStringSubmatch(css)
	if root == nil {
		t.Fatal("style.css has no :root block")
	}
	out := map[string]string{}
	for _, m := range regexp.MustCompile(`(--[a-z-]+):\s*#([0-9a-fA-F]{6})\b`).FindAllStringSubmatch(root[1], -1) {
		out[m[1]] = strings.ToLower(m[2])
	}
	return out
}

// luminance is the relative luminance of a #rrggbb colour (WCAG 2.x).
func luminance(t *testing.T, hex string) float64 {
	t.Helper()
	var l float64
	for i, weight := range []float64{0.2126, 0.7152, 0.0722} {
		v, err := strconv.ParseUint(hex[2*i:2*i+2], 16, 8)
		if err != nil {
			t.Fatalf("colour %q: %v", hex, err)
		}
		c := float64(v) / 255
		if c <= 0.03928 {
			c /= 12.92
		} else {
			c = math.Pow((c+0.055)/1.055, 2.4)
		}
		l += weight * c
	}
	return l
}

// contrast is the WCAG contrast ratio of two colours.
func contrast(t *testing.T, a, b string) float64 {
	t.Helper()
	la, lb := luminance(t, a), luminance(t, b)
	return (max(la, lb) + 0.05) / (min(la, lb) + 0.05)
}

// TestPagesContrast: the focus ring stands out 3:1 (WCAG 2.4.11) from both
// surfaces it is drawn on, the card and the page background (it is drawn
// outside the element, with an offset), and every text colour is 4.5:1 on
// its surface.
func TestPagesContrast(t *testing.T) {
	b, err := embeddedPages.ReadFile("pages/style.css")
	if err != nil {
		t.Fatal(err)
	}
	css := string(b)
	if !regexp.MustCompile(`:focus-visible\s*\{[^}]*outline:\s*3px solid var\(--focus\);\s*outline-offset:\s*2px`).MatchString(css) {
		t.Fatal("the :focus-visible rule no longer draws a 3px var(--focus) ring outside the element")
	}
	c := cssColours(t, css)
	if c["--focus"] == "" || c["--card"] == "" || c["--bg"] == "" {
		t.Fatalf("colours of style.css: %v", c)
	}
	for _, tt := range []struct {
		fg, bg string
		min    float64
	}{
		{"--focus", "--card", 3}, {"--focus", "--bg", 3},
		{"--fg", "--card", 4.5}, {"--fg", "--bg", 4.5}, {"--muted", "--card", 4.5}, {"--muted", "--bg", 4.5},
		{"--accent", "--card", 4.5}, {"--error-fg", "--error-bg", 4.5}, {"--notice-fg", "--notice-bg", 4.5},
	} {
		if got := contrast(t, c[tt.fg], c[tt.bg]); got < tt.min {
			t.Errorf("%s (#%s) on %s (#%s): %.2f:1, want at least %.1f:1", tt.fg, c[tt.fg], tt.bg, c[tt.bg], got, tt.min)
		}
	}
	// The ratio of the WCAG formula itself, on a pair whose answer is known.
	if got := contrast(t, "000000", "ffffff"); math.Abs(got-21) > 1e-9 {
		t.Fatalf("black on white = %v, want 21", got)
	}
}
