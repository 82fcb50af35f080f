package privacy

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"io/fs"
	"os"
	"path/filepath"
)

// The tombstone log lists every record id whose data key was shredded
// (erased, superseded by a rewrite, or found orphaned after a crash). It holds
// no personal data: record ids are random. Restore consults it so a backup
// taken before an erasure cannot bring the erased case back. Entry layout:
// id(16) time-unix-nano(8) reason(1) pad(3) crc32(4).
const tombstoneSize = 32

type tombReason uint8

const (
	tombErased     tombReason = 1
	tombSuperseded tombReason = 2
	tombOrphan     tombReason = 3
)

type tombstone struct {
	id     recordID
	at     int64
	reason tombReason
}

func (t tombstone) encode(b []byte) {
	clear(b[:tombstoneSize])
	copy(b, t.id[:])
	binary.BigEndian.PutUint64(b[16:24], uint64(t.at))
	b[24] = byte(t.reason)
	binary.BigEndian.PutUint32(b[28:32], crc32.ChecksumIEEE(b[:28]))
}

func decodeTombstone(b []byte) (tombstone, bool) {
	if binary.BigEndian.Uint32(b[28:32]) != crc32.ChecksumIEEE(b[:28]) {
		return tombstone{}, false
	}
	var t tombstone
	copy(t.id[:], b[:16])
	t.at = int64(binary.BigEndian.Uint64(b[16:24]))
	t.reason = tombReason(b[24])
	return t, true
}

type tombLog struct {
	f *os.File
}

func openTombLog(path string) (*tombLog, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	// Cut a torn trailing entry so appends stay aligned.
	if rem := st.Size() % tombstoneSize; rem != 0 {
		if err := f.Truncate(st.Size() - rem); err != nil {
			f.Close()
			return nil, fmt.Errorf("tombstones: %w", err)
		}
	}
	return &tombLog{f: f}, nil
}

func (l *tombLog) append(ts []tombstone) error {
	if len(ts) == 0 {
		return nil
	}
	b := make([]byte, len(ts)*tombstoneSize)
	for i, t := range ts {
		t.encode(b[i*tombstoneSize:])
	}
	if _, err := l.f.Write(b); err != nil {
		return fmt.Errorf("tombstones: %w", err)
	}
	return nil
}

func (l *tombLog) sync() error {
	if err := l.f.Sync(); err != nil {
		return fmt.Errorf("tombstones: %w", err)
	}
	return nil
}

func (l *tombLog) close() error { return l.f.Close() }

// readAll reads the whole log from the start.
func (l *tombLog) readAll() (map[recordID]tombstone, error) {
	return readTombstones(io.NewSectionReader(l.f, 0, 1<<62))
}

func readTombstones(r io.Reader) (map[recordID]tombstone, error) {
	out := map[recordID]tombstone{}
	if err := scanTombstones(r, func(t tombstone) { out[t.id] = t }); err != nil {
		return nil, err
	}
	return out, nil
}

// scanTombstones streams the entries of a log to fn (the log grows by one
// entry per rewrite: it is not always worth a map).
func scanTombstones(r io.Reader, fn func(tombstone)) error {
	br := bufio.NewReaderSize(r, 64<<10)
	buf := make([]byte, tombstoneSize)
	for {
		if _, err := io.ReadFull(br, buf); err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil
			}
			return fmt.Errorf("tombstones: %w", err)
		}
		t, ok := decodeTombstone(buf)
		if !ok {
			return fmt.Errorf("%w: tombstone entry fails its checksum", ErrCorrupt)
		}
		fn(t)
	}
}

// ReadTombstoneFile reads an extra tombstone log, e.g. the one of a lost
// store kept on separate storage, for a disaster-recovery restore.
func ReadTombstoneFile(path string) (map[[16]byte]int64, error) {
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%w: tombstone file", ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("tombstones: %w", err)
	}
	defer f.Close()
	ts, err := readTombstones(f)
	if err != nil {
		return nil, err
	}
	out := make(map[[16]byte]int64, len(ts))
	for id, t := range ts {
		out[id] = t.at
	}
	return out, nil
}

// adoptLegacyTombstones moves the entries of a tombstone log left in the
// data directory (the default location, before --tombstone-file pointed
// elsewhere) into the configured log, then removes it: moving the log out
// of the data directory must not forget what was erased before.
func (s *Store) adoptLegacyTombstones() error {
	legacy := filepath.Join(s.opts.Dir, "tombstones.log")
	if filepath.Clean(legacy) == filepath.Clean(s.opts.TombstonePath) {
		return nil
	}
	f, err := os.Open(legacy)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("tombstones: %w", err)
	}
	old, err := readTombstones(f)
	f.Close()
	if err != nil {
		return err
	}
	live, err := s.tombs.readAll()
	if err != nil {
		return err
	}
	var add []tombstone
	for id, t := range old {
		if _, ok := live[id]; !ok {
			add = append(add, t)
		}
	}
	if err := errors.Join(s.tombs.append(add), s.tombs.sync()); err != nil {
		return err
	}
	if err := os.Remove(legacy); err != nil {
		return fmt.Errorf("tombstones: %w", err)
	}
	s.log.Info("moved the tombstone log out of the data directory", "entries", len(add))
	return syncDir(s.opts.Dir)
}
