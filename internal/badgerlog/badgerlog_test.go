package badgerlog

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"

	"github.com/dgraph-io/badger/v4"
)

func TestLevelsAndComponent(t *testing.T) {
	for _, tc := range []struct {
		name    string
		min     slog.Level
		call    func(badger.Logger)
		level   string // "" = nothing written
		message string
	}{
		{"error", slog.LevelInfo, func(l badger.Logger) { l.Errorf("disk %s", "full") }, "ERROR", "disk full"},
		{"warning", slog.LevelInfo, func(l badger.Logger) { l.Warningf("slow %d", 3) }, "WARN", "slow 3"},
		{"info hidden at info", slog.LevelInfo, func(l badger.Logger) { l.Infof("compaction %d", 1) }, "", ""},
		{"debug hidden at info", slog.LevelInfo, func(l badger.Logger) { l.Debugf("x") }, "", ""},
		{"info at debug", slog.LevelDebug, func(l badger.Logger) { l.Infof("compaction %d", 1) }, "DEBUG", "compaction 1"},
		{"debug at debug", slog.LevelDebug, func(l badger.Logger) { l.Debugf("level %d", 0) }, "DEBUG", "level 0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			tc.call(New(slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: tc.min}))))
			if tc.level == "" {
				if buf.Len() != 0 {
					t.Fatalf("wrote %q", buf.String())
				}
				return
			}
			var rec map[string]any
			if err := json.Unmarshal(buf.Bytes(), &rec); err != nil {
				t.Fatalf("%v: %q", err, buf.String())
			}
			if rec["level"] != tc.level || rec["msg"] != tc.message || rec["component"] != "badger" {
				t.Errorf("got %v, want level %s msg %q component badger", rec, tc.level, tc.message)
			}
		})
	}
}

func TestNilLoggerDiscards(t *testing.T) {
	l := New(nil)
	l.Errorf("%s", strings.Repeat("x", 3)) // must not panic
	l.Infof("y")
}
