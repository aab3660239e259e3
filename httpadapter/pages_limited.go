package httpadapter

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/usermgmt/usermgmt"
)

// limited answers a page's form that the rate limiter refused: the
// "limited" page with the wait in words and the same status and headers
// as the API (429 with Retry-After, or 503 when the limiter could not
// decide), instead of the API's JSON.
func (p *pages) limited(w http.ResponseWriter, r *http.Request, _ *slog.Logger, err error) {
	d := p.data(w, r, "limited", "Too many attempts", url.Values{"redirect_uri": pageQuery(r)["redirect_uri"]})
	d.BackURL = r.URL.Path
	switch {
	case strings.HasPrefix(d.BackURL, accountPath+"/"): // the account page's forms
		d.BackURL = accountPath
	case d.BackURL == "/login/passkey", d.BackURL == "/login/email-link", d.BackURL == "/login/email-code",
		d.BackURL == "/login/code", d.BackURL == pageLinkPath:
		d.BackURL = "/login"
	}
	wait, _ := strconv.Atoi(w.Header().Get("Retry-After"))
	if errors.Is(err, usermgmt.ErrRateLimited) {
		err = usermgmt.ErrRateLimited.WithMessage("Too many attempts. Try again in " + waitWords(wait) + ".")
	} else {
		err = usermgmt.AsError(err).WithMessage("Attempts cannot be counted just now. Try again in a moment.")
	}
	p.fail(w, r, d, err)
}

// waitWords says a wait of s seconds as a person reads it, rounded up:
// "1 second", "45 seconds", "5 minutes", "1 hour", "2 hours".
func waitWords(s int) string {
	s = max(s, 1)
	unit := func(n int, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return fmt.Sprintf("%d %ss", n, one)
	}
	switch {
	case s < 60:
		return unit(s, "second")
	case s <= 90*60:
		return unit((s+59)/60, "minute")
	default:
		return unit((s+3599)/3600, "hour")
	}
}
