package httpadapter

import (
	"log/slog"
	"net/http"
	"net/netip"
	"runtime/debug"
	"time"

	"github.com/usermgmt/usermgmt"
)

// The global middleware New wraps around every route.

// trackingWriter records what was answered, for the request log and for
// panic recovery (which can answer only if nothing was written yet).
type trackingWriter struct {
	http.ResponseWriter
	status int
	bytes  int64
	route  string // the route pattern that served the request (notePattern)
}

func (t *trackingWriter) WriteHeader(status int) {
	if t.status == 0 {
		t.status = status
	}
	t.ResponseWriter.WriteHeader(status)
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	if t.status == 0 {
		t.status = http.StatusOK
	}
	n, err := t.ResponseWriter.Write(b)
	t.bytes += int64(n)
	return n, err
}

// Unwrap gives http.ResponseController the underlying writer.
func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }

// track returns w as a trackingWriter, wrapping it only if it is not one.
func track(w http.ResponseWriter) *trackingWriter {
	if t, ok := w.(*trackingWriter); ok {
		return t
	}
	return &trackingWriter{ResponseWriter: w}
}

// recoverPanics turns a panic into a logged 500 (when nothing was written
// yet) instead of a dropped connection. http.ErrAbortHandler passes
// through: it is how a handler deliberately aborts.
func recoverPanics(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			tw := track(w)
			defer func() {
				v := recover()
				if v == nil {
					return
				}
				if v == http.ErrAbortHandler {
					panic(v)
				}
				log.ErrorContext(r.Context(), "panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v, "stack", string(debug.Stack()))
				if tw.status == 0 {
					writeError(tw, r, log, usermgmt.ErrInternal)
				}
			}()
			next.ServeHTTP(tw, r)
		})
	}
}

// logRequests writes one line per request: method, path (never the query,
// which may carry secrets), status, size, duration and client IP. Headers
// and bodies, where tokens and passwords travel, are never logged.
func logRequests(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ctx := r.Context()
			if !log.Enabled(ctx, slog.LevelInfo) {
				next.ServeHTTP(w, r)
				return
			}
			start := time.Now()
			tw := track(w)
			next.ServeHTTP(tw, r)
			status := tw.status
			if status == 0 {
				status = http.StatusOK
			}
			log.LogAttrs(ctx, slog.LevelInfo, "http request",
				slog.String("method", r.Method),
				slog.String("path", r.URL.Path),
				slog.Int("status", status),
				slog.Int64("bytes", tw.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("ip", usermgmt.ClientInfoFrom(ctx).IP),
			)
		})
	}
}

// limitBody refuses bodies over max bytes: at once with 413 when the
// declared length is larger, and while reading otherwise (the decoders
// answer 413 when the limit trips).
func limitBody(limit int64, log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > limit {
				writeError(w, r, log, ErrTooLarge)
				return
			}
			r.Body = http.MaxBytesReader(w, r.Body, limit)
			next.ServeHTTP(w, r)
		})
	}
}

// withClientInfo attaches the client's IP (see clientIP) and user agent to
// the request's context, for the Manager's audit log and sessions.
func withClientInfo(trusted []netip.Prefix) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			ci := usermgmt.ClientInfo{IP: clientIP(r, trusted), UserAgent: r.UserAgent(),
				Locale: preferredLocale(r.Header.Get("Accept-Language"))}
			next.ServeHTTP(w, r.WithContext(usermgmt.WithClientInfo(r.Context(), ci)))
		})
	}
}
