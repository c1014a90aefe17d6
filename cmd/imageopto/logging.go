package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/imageopto/imageopto"
)

// newLogger is the server's logger: -log-format text or json, at
// -log-level and above.
func newLogger(w io.Writer, format string, level slog.Level) *slog.Logger {
	opts := &slog.HandlerOptions{Level: level}
	if format == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// parseLevel reads -log-level: debug, info, warn or error.
func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return 0, fmt.Errorf("-log-level %q: want debug, info, warn or error", s)
	}
	return l, nil
}

// accessLog writes one record per image request: at info level, warn for
// 4xx answers and error for 5xx, with the error then.
type accessLog struct{ log *slog.Logger }

// Observe logs request events and ignores the others.
func (a accessLog) Observe(e imageopto.Event) {
	if e.Kind != imageopto.EventRequest {
		return
	}
	level := slog.LevelInfo
	switch {
	case e.Status >= 500:
		level = slog.LevelError
	case e.Status >= 400:
		level = slog.LevelWarn
	}
	ctx := context.Background()
	if !a.log.Enabled(ctx, level) {
		return
	}
	r := e.Request
	attrs := make([]slog.Attr, 0, 12)
	attrs = append(attrs,
		slog.String("method", r.Method),
		slog.String("path", r.URL.Path),
		slog.String("query", r.URL.RawQuery),
		slog.Int("status", e.Status),
		slog.Int64("bytes", e.Bytes),
		slog.Duration("duration", e.Duration),
		slog.String("cache", string(e.Cache)),
		slog.String("format", string(e.Format)),
		slog.Int64("size", e.Size),
		slog.String("remote", r.RemoteAddr),
	)
	if e.Err != nil {
		msg, _, _ := strings.Cut(e.Err.Error(), "\n")
		attrs = append(attrs, slog.String("err", msg))
	}
	a.log.LogAttrs(ctx, level, "request", attrs...)
}
