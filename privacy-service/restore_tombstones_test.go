package privacy

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
)

// copyTree copies a closed store's data directory (a file-system snapshot).
func copyTree(t *testing.T, src, dst string) {
	t.Helper()
	err := filepath.WalkDir(src, func(p string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		target := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(target, 0o700)
		}
		b, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(target, b, 0o600)
	})
	if err != nil {
		t.Fatal(err)
	}
}

func openWithTombs(t *testing.T, dir, tombs string, kek KeyWrapper) *Store {
	t.Helper()
	s, err := Open(context.Background(), Options{Dir: dir, Domains: testDomains, KEK: kek, TombstonePath: tombs})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	return s
}

func generation(t *testing.T, s *Store) string {
	t.Helper()
	g, err := s.Generation(context.Background())
	if err != nil || len(g) != 32 {
		t.Fatalf("generation %q: %v", g, err)
	}
	return g
}

// The disaster-recovery cases of issue 12 finding 7, with the tombstone log
// kept apart from the data directory (its own folder, as network/ generates
// it): neither a restore of a pre-erasure backup into a fresh directory nor a
// data directory copied back from a snapshot makes an erased mapping
// resolvable again. Without the tombstone log the restore does bring it back
// — what the gateway's reconciliation is for — and says so by a new
// generation.
func TestTombstonesKeptApartSurviveTheLossOfTheDataDirectory(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	kek := testKeyring(t)
	tombs := filepath.Join(root, "secrets", "tombstones.log")
	if err := os.MkdirAll(filepath.Dir(tombs), 0o700); err != nil {
		t.Fatal(err)
	}
	data := filepath.Join(root, "data")
	s := openWithTombs(t, data, tombs, kek)
	gen0 := generation(t, s)
	erased, _, err := s.Pseudonymize(ctx, "national", "ERASED-1")
	if err != nil {
		t.Fatal(err)
	}
	kept, _, err := s.Pseudonymize(ctx, "national", "KEPT-1")
	if err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if _, err := s.Backup(ctx, &backup); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	snapshot := filepath.Join(root, "snapshot")
	copyTree(t, data, snapshot)

	s = openWithTombs(t, data, tombs, kek)
	if g := generation(t, s); g != gen0 {
		t.Fatalf("a plain reopen changed the generation: %s -> %s", gen0, g)
	}
	if _, err := s.ErasePseudonym(ctx, "national", erased); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if st, err := os.Stat(tombs); err != nil || st.Mode().Perm() != 0o600 {
		t.Fatalf("tombstone log: %v %v", st, err)
	}

	check := func(t *testing.T, s *Store, wantErased bool) {
		t.Helper()
		_, err := s.ResolveRef(ctx, "national", "ERASED-1")
		_, err2 := s.ResolvePseudonym(ctx, "national", erased)
		if wantErased && (!errors.Is(err, ErrNotFound) || !errors.Is(err2, ErrNotFound)) {
			t.Fatalf("erased mapping resolvable again: %v / %v", err, err2)
		}
		if !wantErased && (err != nil || err2 != nil) {
			t.Fatalf("control: the mapping should be back without tombstones: %v / %v", err, err2)
		}
		if p, err := s.ResolveRef(ctx, "national", "KEPT-1"); err != nil || p != kept {
			t.Fatalf("unrelated mapping lost: %q %v", p, err)
		}
	}

	t.Run("restore into a fresh directory", func(t *testing.T) {
		fresh := openWithTombs(t, filepath.Join(root, "fresh"), tombs, kek)
		defer fresh.Close()
		st, err := fresh.Restore(ctx, bytes.NewReader(backup.Bytes()))
		if err != nil {
			t.Fatal(err)
		}
		if st.Restored != 1 || st.Tombstoned != 1 {
			t.Fatalf("restore: %+v", st)
		}
		check(t, fresh, true)
	})

	t.Run("snapshot of the data directory copied back", func(t *testing.T) {
		back := filepath.Join(root, "back")
		copyTree(t, snapshot, back)
		s := openWithTombs(t, back, tombs, kek)
		g1 := generation(t, s)
		if g1 == gen0 {
			t.Fatal("open dropped a tombstoned record but kept the generation")
		}
		check(t, s, true)
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
		// Deleted, not just hidden: a second open finds nothing to drop
		// (and so keeps the generation).
		s = openWithTombs(t, back, tombs, kek)
		defer s.Close()
		check(t, s, true)
		if g := generation(t, s); g != g1 {
			t.Fatal("second open dropped tombstoned records again")
		}
	})

	t.Run("restore without the tombstone log", func(t *testing.T) {
		lost := openWithTombs(t, filepath.Join(root, "lost"), filepath.Join(root, "lost-tombs.log"), kek)
		defer lost.Close()
		g0 := generation(t, lost)
		if _, err := lost.Restore(ctx, bytes.NewReader(backup.Bytes())); err != nil {
			t.Fatal(err)
		}
		check(t, lost, false)
		if g := generation(t, lost); g == g0 {
			t.Fatal("a restore that wrote records back kept the generation: the gateway would not reconcile")
		}
		// A restore that writes nothing back leaves it.
		g1 := generation(t, lost)
		if _, err := lost.Restore(ctx, bytes.NewReader(backup.Bytes())); err != nil {
			t.Fatal(err)
		}
		if g := generation(t, lost); g != g1 {
			t.Fatal("an idempotent restore changed the generation")
		}
	})
}

func TestGenerationOverTheAPI(t *testing.T) {
	f := newAPIFixture(t)
	ctx := context.Background()
	g, err := f.client(t, "gateway").Generation(ctx)
	if err != nil || g != generation(t, f.store) {
		t.Fatalf("generation %q: %v", g, err)
	}
	// Like every route: only the pinned gateway identity.
	if _, err := f.client(t, "intruder").Generation(ctx); !errors.Is(err, ErrForbidden) {
		t.Fatalf("unpinned caller: %v", err)
	}
}

// fakeStatFS reports settable free space per path.
type fakeStatFS struct {
	mu    sync.Mutex
	avail map[string]uint64
	fail  map[string]bool
}

func (f *fakeStatFS) statfs(path string) (uint64, uint64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.fail[path] {
		return 0, 0, errors.New("statfs failed")
	}
	return f.avail[path], 100 << 30, nil
}

func (f *fakeStatFS) set(path string, avail uint64) {
	f.mu.Lock()
	f.avail[path] = avail
	f.mu.Unlock()
}

func TestDiskSpaceMetricsAndReadiness(t *testing.T) {
	store := newTestStore(t)
	fs := &fakeStatFS{avail: map[string]uint64{}, fail: map[string]bool{}}
	folders := []DiskFolder{{Name: "data", Path: "/d"}, {Name: "tombstones", Path: "/t"}, {Name: "kek", Path: "/k"}}
	for _, f := range folders {
		fs.set(f.Path, 5<<30)
	}
	reg := prometheus.NewRegistry()
	srv, err := NewServer(ServerConfig{Store: store, Registry: reg,
		Disk: DiskConfig{Folders: folders, MinFreeBytes: 1 << 30, StatFS: fs.statfs}})
	if err != nil {
		t.Fatal(err)
	}
	ready := func() (int, string) {
		t.Helper()
		rec := httptest.NewRecorder()
		srv.OpsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/readyz", nil))
		return rec.Code, rec.Body.String()
	}
	if code, body := ready(); code != http.StatusOK {
		t.Fatalf("ready with room: %d %s", code, body)
	}
	for _, tc := range []struct {
		name   string
		avail  uint64
		fail   bool
		status int
		want   string
	}{
		{name: "tombstones", avail: 1<<30 - 1, status: http.StatusServiceUnavailable, want: "tombstones folder has 1073741823 bytes available"},
		{name: "data", avail: 0, status: http.StatusServiceUnavailable, want: "data folder has 0 bytes"},
		{name: "kek", fail: true, status: http.StatusServiceUnavailable, want: "free space of the kek folder unknown"},
		{name: "data", avail: 1 << 30, status: http.StatusOK},
	} {
		path := map[string]string{"data": "/d", "tombstones": "/t", "kek": "/k"}[tc.name]
		fs.set(path, tc.avail)
		fs.mu.Lock()
		fs.fail[path] = tc.fail
		fs.mu.Unlock()
		code, body := ready()
		if code != tc.status || !strings.Contains(body, tc.want) {
			t.Fatalf("%s at %d (fail %v): %d %s", tc.name, tc.avail, tc.fail, code, body)
		}
		fs.set(path, 5<<30)
		fs.mu.Lock()
		fs.fail[path] = false
		fs.mu.Unlock()
	}
	fs.set("/t", 123456789)
	rec := httptest.NewRecorder()
	srv.OpsHandler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	for _, want := range []string{
		`privacy_disk_available_bytes{folder="tombstones"} 1.23456789e+08`,
		`privacy_disk_available_bytes{folder="data"} 5.36870912e+09`,
		`privacy_disk_available_bytes{folder="kek"}`,
		`privacy_disk_size_bytes{folder="data"} 1.073741824e+11`,
		`privacy_disk_min_available_bytes 1.073741824e+09`,
	} {
		if !strings.Contains(rec.Body.String(), want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	// The store's own failure still counts.
	store.Close()
	if code, _ := ready(); code != http.StatusServiceUnavailable {
		t.Fatalf("closed store ready: %d", code)
	}
}

func TestDiskThresholdZeroIsOff(t *testing.T) {
	w := newDiskWatch(DiskConfig{Folders: []DiskFolder{{Name: "data", Path: "/d"}}, StatFS: func(string) (uint64, uint64, error) {
		return 0, 0, io.ErrUnexpectedEOF
	}})
	if err := w.check(); err != nil {
		t.Fatal(err)
	}
}

// privacyd's readiness follows the free space of its data, tombstone and
// keyring folders (the daemon wires the watch; the probe is injected).
func TestDaemonReadinessFollowsFreeSpace(t *testing.T) {
	pki := newTestPKI(t)
	root := t.TempDir()
	kekFile := filepath.Join(root, "keys", "kek.json")
	if err := os.MkdirAll(filepath.Dir(kekFile), 0o700); err != nil {
		t.Fatal(err)
	}
	kek, err := CreateKeyringFile(kekFile)
	if err != nil {
		t.Fatal(err)
	}
	tlsCfg, err := ServerTLSConfig(pki.serverCert, pki.serverKy, pki.caFile)
	if err != nil {
		t.Fatal(err)
	}
	fs := &fakeStatFS{avail: map[string]uint64{}, fail: map[string]bool{}}
	data, tombDir := filepath.Join(root, "data"), filepath.Join(root, "tombs")
	for _, p := range []string{data, tombDir, filepath.Dir(kekFile)} {
		fs.set(p, 10<<30)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	addrs := make(chan net.Addr, 1)
	done := make(chan error, 1)
	go func() {
		done <- RunDaemon(ctx, DaemonConfig{
			Store:  Options{Dir: data, Domains: testDomains, KEK: kek, TombstonePath: filepath.Join(tombDir, "t.log")},
			Listen: "127.0.0.1:0", OpsListen: "127.0.0.1:0", TLS: tlsCfg,
			KEKFile: kekFile, MinFreeBytes: 1 << 30, StatFS: fs.statfs,
			OnListen: func(_, ops net.Addr) { addrs <- ops },
		})
	}()
	var ops net.Addr
	select {
	case ops = <-addrs:
	case err := <-done:
		t.Fatalf("daemon exited: %v", err)
	}
	get := func(path string) (int, string) {
		t.Helper()
		res, err := http.Get("http://" + ops.String() + path)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	if code, body := get("/readyz"); code != 200 {
		t.Fatalf("ready with room: %d %s", code, body)
	}
	for _, p := range []string{data, tombDir, filepath.Dir(kekFile)} {
		fs.set(p, 1<<20)
		if code, body := get("/readyz"); code != http.StatusServiceUnavailable || !strings.Contains(body, "below the") {
			t.Fatalf("%s low: %d %s", p, code, body)
		}
		fs.set(p, 10<<30)
	}
	if _, body := get("/metrics"); !strings.Contains(body, `privacy_disk_available_bytes{folder="kek"} 1.073741824e+10`) {
		t.Fatal("metrics lack the kek folder's free space")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// A store whose tombstone log was in its data directory keeps every
// tombstone when --tombstone-file moves the log out (and restore honours
// them from the new place).
func TestTombstoneLogMovedOutOfTheDataDirectory(t *testing.T) {
	ctx := context.Background()
	root := t.TempDir()
	kek := testKeyring(t)
	data := filepath.Join(root, "data")
	s := openWithTombs(t, data, "", kek) // the old default: <data>/tombstones.log
	p, _, err := s.Pseudonymize(ctx, "national", "MOVED-1")
	if err != nil {
		t.Fatal(err)
	}
	var backup bytes.Buffer
	if _, err := s.Backup(ctx, &backup); err != nil {
		t.Fatal(err)
	}
	if _, err := s.ErasePseudonym(ctx, "national", p); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	apart := filepath.Join(root, "secrets", "tombstones.log")
	s = openWithTombs(t, data, apart, kek)
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(data, "tombstones.log")); !os.IsNotExist(err) {
		t.Fatalf("old log left in the data directory: %v", err)
	}
	// The data directory is lost; the moved log still knows the erasure.
	fresh := openWithTombs(t, filepath.Join(root, "fresh"), apart, kek)
	defer fresh.Close()
	st, err := fresh.Restore(ctx, bytes.NewReader(backup.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.ResolveRef(ctx, "national", "MOVED-1"); !errors.Is(err, ErrNotFound) || st.Tombstoned != 1 {
		t.Fatalf("erased mapping restored after the move: %+v %v", st, err)
	}
}
