package privacy

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
)

// The store's generation is a random id that changes whenever its content may
// have gone back in time: a new (empty) data directory, a restore that wrote
// records back, or an open that found records the tombstone log had already
// shredded (a data directory copied back from a snapshot). The gateway
// remembers the generation it last reconciled with the ledger's erasures;
// a different one makes it check every mapping again (gateway/reconcile.go).
// It holds nothing about the data, so it may be shown to the gateway.
const generationFile = "generation"

// GenerationResponse is the answer of POST /v1/generation.
type GenerationResponse struct {
	Generation string `json:"generation"`
}

// Generation returns the store's current generation.
func (s *Store) Generation(context.Context) (string, error) {
	if err := s.Ready(); err != nil {
		return "", err
	}
	if g := s.generation.Load(); g != nil {
		return *g, nil
	}
	return "", fmt.Errorf("%w: no generation", ErrUnavailable)
}

// loadGeneration reads the generation, creating one for a new directory.
func (s *Store) loadGeneration() error {
	b, err := os.ReadFile(filepath.Join(s.opts.Dir, generationFile))
	if errors.Is(err, fs.ErrNotExist) {
		return s.newGeneration()
	}
	if err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	g := strings.TrimSpace(string(b))
	if len(g) != 32 {
		// A damaged file: a new generation only costs the gateway one check.
		return s.newGeneration()
	}
	s.generation.Store(&g)
	return nil
}

// newGeneration draws a new generation and makes it durable (write, fsync,
// rename, fsync the directory) before it is shown to anyone.
func (s *Store) newGeneration() error {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	g := hex.EncodeToString(b[:])
	path := filepath.Join(s.opts.Dir, generationFile)
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	_, err = f.WriteString(g + "\n")
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, path)
	}
	if err == nil {
		err = syncDir(s.opts.Dir)
	}
	if err != nil {
		return fmt.Errorf("generation: %w", err)
	}
	s.generation.Store(&g)
	s.log.Info("store generation changed: the gateway will reconcile its mappings with the ledger's erasures")
	return nil
}
