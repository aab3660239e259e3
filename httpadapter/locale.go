package httpadapter

import (
	"strconv"
	"strings"
)

// preferredLocale returns the primary language subtag ("fr" of
// "fr-CH;q=0.9") of the Accept-Language entry with the highest weight, ""
// when there is none worth using. Only 2 or 3 ASCII letters pass, so the
// result is safe as a template directory name.
func preferredLocale(header string) string {
	if len(header) > 512 {
		header = header[:512]
	}
	best, bestQ := "", 0.0
	for _, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil || f < 0 || f > 1 {
				continue
			}
			q = f
		}
		lang, _, _ := strings.Cut(tag, "-")
		lang = strings.ToLower(lang)
		if len(lang) < 2 || len(lang) > 3 || strings.Trim(lang, "abcdefghijklmnopqrstuvwxyz") != "" {
			continue
		}
		if q > bestQ {
			best, bestQ = lang, q
		}
	}
	return best
}
