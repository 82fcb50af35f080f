// Package badgerlog routes Badger's log lines to log/slog, for the two
// services that keep a Badger store (the gateway and the privacy service).
package badgerlog

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/dgraph-io/badger/v4"
)

// New returns a badger.Logger writing to l with the attribute
// component=badger: errors and warnings keep their level, Badger's chatty
// info and debug lines go to debug (formatted only when debug is enabled).
// A nil l discards everything. Badger's messages name files, levels and
// tables, never a key or a value.
func New(l *slog.Logger) badger.Logger {
	if l == nil {
		l = slog.New(slog.DiscardHandler)
	}
	return logger{l}
}

type logger struct{ l *slog.Logger }

func (b logger) log(level slog.Level, f string, a []any) {
	ctx := context.Background()
	if b.l.Enabled(ctx, level) {
		b.l.Log(ctx, level, fmt.Sprintf(f, a...), "component", "badger")
	}
}

func (b logger) Errorf(f string, a ...any)   { b.log(slog.LevelError, f, a) }
func (b logger) Warningf(f string, a ...any) { b.log(slog.LevelWarn, f, a) }
func (b logger) Infof(f string, a ...any)    { b.log(slog.LevelDebug, f, a) }
func (b logger) Debugf(f string, a ...any)   { b.log(slog.LevelDebug, f, a) }
