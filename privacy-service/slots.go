package privacy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// The key-slot file holds one wrapped DEK per live record in a fixed-size
// slot. Erasure overwrites the slot in place and syncs, which is what makes
// every other copy of the record (Badger versions, WAL, backups) useless.
// Slot layout (slotSize bytes):
//
//	[0]      state: 0 free, 1 used, 2 written by a restore not yet committed
//	[1:5]    KEK version (big endian)
//	[5:21]   record id
//	[21:81]  DEK wrapped under the KEK, AAD "dek"||record id
//	[81:96]  zero
const (
	slotSize      = 96
	slotUsed      = 1
	slotRestoring = 2
	slotIDOff     = 5
	slotKeyOff    = 21
)

type recordID [16]byte

type slotEntry struct {
	// restoring marks a key written by Restore before its record is
	// committed: if a crash leaves it orphaned, the record never existed here
	// and its id must not be tombstoned (a retried restore must bring it).
	restoring bool
	version   uint32
	id        recordID
	wrapped   [wrappedDEKLen]byte
}

func (e *slotEntry) encode(b []byte) {
	clear(b[:slotSize])
	b[0] = slotUsed
	if e.restoring {
		b[0] = slotRestoring
	}
	binary.BigEndian.PutUint32(b[1:5], e.version)
	copy(b[slotIDOff:], e.id[:])
	copy(b[slotKeyOff:], e.wrapped[:])
}

func decodeSlot(b []byte) (slotEntry, bool) {
	var e slotEntry
	if b[0] != slotUsed && b[0] != slotRestoring {
		return e, false
	}
	e.restoring = b[0] == slotRestoring
	e.version = binary.BigEndian.Uint32(b[1:5])
	copy(e.id[:], b[slotIDOff:])
	copy(e.wrapped[:], b[slotKeyOff:slotKeyOff+wrappedDEKLen])
	return e, true
}

func dekAAD(id recordID) []byte { return append([]byte("dek"), id[:]...) }

type slotFile struct {
	path string
	f    *os.File
	n    uint32 // slots in the file
}

// openSlotFile opens (creating) the slot file and returns every used slot.
// A torn trailing slot (crash while the file grew) is cut off: it was never
// acknowledged.
func openSlotFile(path string) (*slotFile, map[uint32]slotEntry, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, nil, fmt.Errorf("slots: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, nil, fmt.Errorf("slots: %w", err)
	}
	size := st.Size()
	if rem := size % slotSize; rem != 0 {
		size -= rem
		if err := f.Truncate(size); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("slots: %w", err)
		}
	}
	s := &slotFile{path: path, f: f, n: uint32(size / slotSize)}
	used := make(map[uint32]slotEntry)
	r := bufio.NewReaderSize(io.NewSectionReader(f, 0, size), 1<<20)
	buf := make([]byte, slotSize)
	for i := uint32(0); i < s.n; i++ {
		if _, err := io.ReadFull(r, buf); err != nil {
			f.Close()
			return nil, nil, fmt.Errorf("slots: %w", err)
		}
		if e, ok := decodeSlot(buf); ok {
			used[i] = e
		}
	}
	return s, used, nil
}

func (s *slotFile) write(slot uint32, e *slotEntry) error {
	var b [slotSize]byte
	e.encode(b[:])
	if _, err := s.f.WriteAt(b[:], int64(slot)*slotSize); err != nil {
		return fmt.Errorf("slots: %w", err)
	}
	if slot >= s.n {
		s.n = slot + 1
	}
	return nil
}

// zero overwrites a slot in place: this is the shredding of a data key.
func (s *slotFile) zero(slot uint32) error {
	var b [slotSize]byte
	if slot >= s.n {
		return nil
	}
	if _, err := s.f.WriteAt(b[:], int64(slot)*slotSize); err != nil {
		return fmt.Errorf("slots: %w", err)
	}
	return nil
}

func (s *slotFile) read(slot uint32) (slotEntry, bool, error) {
	var b [slotSize]byte
	if _, err := s.f.ReadAt(b[:], int64(slot)*slotSize); err != nil {
		return slotEntry{}, false, fmt.Errorf("slots: %w", err)
	}
	e, ok := decodeSlot(b[:])
	return e, ok, nil
}

func (s *slotFile) sync() error {
	if err := s.f.Sync(); err != nil {
		return fmt.Errorf("slots: %w", err)
	}
	return nil
}

// snapshot copies the whole file (for a consistent backup).
func (s *slotFile) snapshot() ([]byte, error) {
	b := make([]byte, int64(s.n)*slotSize)
	if _, err := s.f.ReadAt(b, 0); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("slots: %w", err)
	}
	return b, nil
}

// replace atomically swaps in a rewritten slot file (KEK rotation). The old
// file's blocks are released by the file system, not overwritten: that is
// why rotation is followed by retiring the old KEK.
func (s *slotFile) replace(entries map[uint32]slotEntry) error {
	tmp := s.path + ".new"
	f, err := os.OpenFile(tmp, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("slots: %w", err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	var b [slotSize]byte
	for i := uint32(0); i < s.n; i++ {
		clear(b[:])
		if e, ok := entries[i]; ok {
			e.encode(b[:])
		}
		if _, err := w.Write(b[:]); err != nil {
			f.Close()
			return fmt.Errorf("slots: %w", err)
		}
	}
	if err := errors.Join(w.Flush(), f.Sync()); err != nil {
		f.Close()
		return fmt.Errorf("slots: %w", err)
	}
	if err := os.Rename(tmp, s.path); err != nil {
		f.Close()
		return fmt.Errorf("slots: %w", err)
	}
	if err := syncDir(filepath.Dir(s.path)); err != nil {
		f.Close()
		return err
	}
	old := s.f
	s.f = f
	return old.Close()
}

func (s *slotFile) close() error { return s.f.Close() }
