package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// File logging (LOG_FILE_*): a second log destination, at its own level,
// written to DATA_DIR/logs/<UTC start time>.log, rotated by age or size and
// pruned by age, as the reference's loguru sink was.

// rotation says when a log file is closed and a new one started: after
// Every (time) or once it holds MaxBytes (size); exactly one is set.
type rotation struct {
	Every    time.Duration
	MaxBytes int64
}

// parseRotation reads LOG_FILE_ROTATION: an integer (hours), or "N unit"
// with unit one of hour(s), day(s), week(s), B, KB, MB, GB.
func parseRotation(s string) (rotation, error) {
	n, unit, err := numberUnit(s, "hours")
	if err != nil {
		return rotation{}, err
	}
	if d, ok := durationUnit(n, unit); ok {
		return rotation{Every: d}, nil
	}
	mult := map[string]int64{"b": 1, "kb": 1 << 10, "mb": 1 << 20, "gb": 1 << 30}[unit]
	if mult == 0 {
		return rotation{}, fmt.Errorf("unit %q is none of hours, days, weeks, B, KB, MB, GB", unit)
	}
	if n > (1<<40)/mult {
		return rotation{}, fmt.Errorf("%q is too large", s)
	}
	return rotation{MaxBytes: n * mult}, nil
}

// parseRetention reads LOG_FILE_RETENTION: an integer (days), or "N unit"
// with unit one of hour(s), day(s), week(s).
func parseRetention(s string) (time.Duration, error) {
	n, unit, err := numberUnit(s, "days")
	if err != nil {
		return 0, err
	}
	d, ok := durationUnit(n, unit)
	if !ok {
		return 0, fmt.Errorf("unit %q is none of hours, days, weeks", unit)
	}
	return d, nil
}

// numberUnit splits "N unit" (unit defaulting to def) with 1 <= N <= 1e6.
func numberUnit(s, def string) (int64, string, error) {
	fields := strings.Fields(strings.ToLower(s))
	if len(fields) == 1 {
		// "100MB" without a space.
		i := strings.IndexFunc(fields[0], func(r rune) bool { return r < '0' || r > '9' })
		if i > 0 {
			fields = []string{fields[0][:i], fields[0][i:]}
		}
	}
	if len(fields) == 0 || len(fields) > 2 {
		return 0, "", fmt.Errorf("want a number and an optional unit, got %q", s)
	}
	n, err := strconv.ParseInt(fields[0], 10, 64)
	if err != nil || n < 1 || n > 1_000_000 {
		return 0, "", fmt.Errorf("want a whole number from 1 to 1000000, got %q", s)
	}
	unit := def
	if len(fields) == 2 {
		unit = fields[1]
	}
	return n, unit, nil
}

func durationUnit(n int64, unit string) (time.Duration, bool) {
	switch strings.TrimSuffix(unit, "s") {
	case "hour", "h":
		return time.Duration(n) * time.Hour, true
	case "day", "d":
		return time.Duration(n) * 24 * time.Hour, true
	case "week", "w":
		return time.Duration(n) * 7 * 24 * time.Hour, true
	}
	return 0, false
}

// rotatingFile is an io.Writer over log files in dir: it starts a new file
// when the rotation says so, and removes *.log files older than retention
// at each rotation. It is safe for concurrent use.
type rotatingFile struct {
	dir       string
	rot       rotation
	retention time.Duration
	now       func() time.Time

	mu      sync.Mutex
	f       *os.File
	opened  time.Time
	written int64
}

func newRotatingFile(dir string, rot rotation, retention time.Duration, now func() time.Time) (*rotatingFile, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("log directory: %w", err)
	}
	w := &rotatingFile{dir: dir, rot: rot, retention: retention, now: now}
	if err := w.rotate(); err != nil {
		return nil, err
	}
	return w, nil
}

// Write implements io.Writer; one call is one log record, never split.
func (w *rotatingFile) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.rot.Every > 0 && w.now().Sub(w.opened) >= w.rot.Every ||
		w.rot.MaxBytes > 0 && w.written > 0 && w.written+int64(len(p)) > w.rot.MaxBytes {
		if err := w.rotate(); err != nil {
			return 0, err
		}
	}
	n, err := w.f.Write(p)
	w.written += int64(n)
	return n, err
}

// rotate opens a new file, then closes the current one and prunes old
// ones. When the new file cannot be opened the current one stays in use.
func (w *rotatingFile) rotate() error {
	opened := w.now().UTC()
	name := opened.Format("2006-01-02_15-04-05.000000") + ".log"
	f, err := os.OpenFile(filepath.Join(w.dir, name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o640)
	if err != nil {
		if w.f != nil {
			return nil // keep writing to the current file; the next write retries
		}
		return fmt.Errorf("open log file: %w", err)
	}
	if w.f != nil {
		_ = w.f.Close()
	}
	w.f, w.written, w.opened = f, 0, opened
	w.prune(name)
	return nil
}

// prune removes the .log files (but current) last written before the
// retention window.
func (w *rotatingFile) prune(current string) {
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return
	}
	sort.Slice(entries, func(i, j int) bool { return entries[i].Name() < entries[j].Name() })
	cutoff := w.now().Add(-w.retention)
	for _, e := range entries {
		if e.IsDir() || !strings.HasSuffix(e.Name(), ".log") || e.Name() == current {
			continue
		}
		if info, err := e.Info(); err == nil && info.ModTime().Before(cutoff) {
			_ = os.Remove(filepath.Join(w.dir, e.Name()))
		}
	}
}

// Close closes the current file.
func (w *rotatingFile) Close() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.f.Close()
}

// teeHandler sends each record to every handler that is enabled for it.
type teeHandler []slog.Handler

func (t teeHandler) Enabled(ctx context.Context, l slog.Level) bool {
	for _, h := range t {
		if h.Enabled(ctx, l) {
			return true
		}
	}
	return false
}

func (t teeHandler) Handle(ctx context.Context, r slog.Record) error {
	var first error
	for _, h := range t {
		if h.Enabled(ctx, r.Level) {
			if err := h.Handle(ctx, r.Clone()); err != nil && first == nil {
				first = err
			}
		}
	}
	return first
}

func (t teeHandler) WithAttrs(as []slog.Attr) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithAttrs(as)
	}
	return out
}

func (t teeHandler) WithGroup(name string) slog.Handler {
	out := make(teeHandler, len(t))
	for i, h := range t {
		out[i] = h.WithGroup(name)
	}
	return out
}
