package redisstore

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
)

// Logger carries the go-redis client's own log lines (pool and connection
// trouble, written as plain text on stderr by default) to a slog.Logger,
// as warnings with component=go-redis. go-redis has one logger for the
// whole process, so the host installs it once, where it wires Redis up:
//
//	redis.SetLogger(redisstore.NewLogger(log))
type Logger struct {
	log *slog.Logger
}

// NewLogger returns a Logger writing to log (slog.Default() when nil).
func NewLogger(log *slog.Logger) *Logger {
	if log == nil {
		log = slog.Default()
	}
	return &Logger{log: log}
}

// Printf implements go-redis's logging interface.
func (l *Logger) Printf(ctx context.Context, format string, v ...any) {
	msg := strings.TrimSpace(strings.TrimPrefix(fmt.Sprintf(format, v...), "redis: "))
	l.log.WarnContext(ctx, msg, "component", "go-redis")
}
