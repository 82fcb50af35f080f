// Package atomicfile writes a small secret file so that a reader sees either the old content or the
// new one, never a part, and nobody else can read it at any moment.
package atomicfile

import (
	"os"
	"path/filepath"
)

// Write replaces path with data: created as a temporary file with mode 0600 in the same folder
// (created 0700 if missing), synced, then renamed over path. The mode is set before any byte is
// written, so the secret is never readable by others, not even briefly.
func Write(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, "."+filepath.Base(path)+"-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return err
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
