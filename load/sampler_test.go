package load

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"
)

// statLine builds a /proc/<pid>/stat line with the given command name, utime and stime.
func statLine(comm string, utime, stime uint64) string {
	return fmt.Sprintf("4242 (%s) S 1 4242 4242 0 -1 4194560 1234 0 0 0 %d %d 0 0 20 0 12 0 98765 1234567 2345 18446744073709551615 1 1 0 0 0 0 0 0 0 0 0 0 17 1 0 0 0 0 0\n", comm, utime, stime)
}

func TestParseStat(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    uint64
		wantErr bool
	}{
		{"plain", statLine("peer", 150, 50), 200, false},
		{"name with spaces and parentheses", statLine("a) b (c", 7, 3), 10, false},
		{"name with a closing parenthesis last", statLine("x)", 1, 1), 2, false},
		{"real line", "1 (systemd) S 0 1 1 0 -1 4194560 43611 1245467 106 1009 137 211 1881 693 20 0 1 0 14 24748032 3196 18446744073709551615 1 1 0 0 0 0 671173123 4096 1260 0 0 0 17 1 0 0 0 0 0 0 0 0 0 0 0 0 0", 348, false},
		{"no parenthesis", "4242 peer S 1 2 3", 0, true},
		{"too short", "4242 (peer) S 1 2 3 4 5", 0, true},
		{"utime not a number", "4242 (peer) S 1 4242 4242 0 -1 4194560 1234 0 0 0 x 5 0", 0, true},
		{"empty", "", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStat([]byte(tc.in))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, wantErr %v", err, tc.wantErr)
			}
			if err != nil && !errors.Is(err, ErrProcFormat) {
				t.Fatalf("error %v is not ErrProcFormat", err)
			}
			if got != tc.want {
				t.Fatalf("got %d, want %d", got, tc.want)
			}
		})
	}
}

func TestParseStatusRSS(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    int64
		wantErr bool
	}{
		{"typical", "Name:\tpeer\nVmPeak:\t 2000 kB\nVmRSS:\t   81234 kB\nRssAnon:\t 1 kB\n", 81234, false},
		{"first line", "VmRSS: 5 kB\n", 5, false},
		{"kernel thread has none", "Name:\tkworker\nState:\tI (idle)\n", 0, true},
		{"other unit", "VmRSS:\t 5 MB\n", 0, true},
		{"negative", "VmRSS:\t -5 kB\n", 0, true},
		{"garbage", "VmRSS:\t lots kB\n", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseStatusRSS([]byte(tc.in))
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("got %d, %v; want %d, err %v", got, err, tc.want, tc.wantErr)
			}
		})
	}
}

func TestParsePIDFile(t *testing.T) {
	tests := []struct {
		in      string
		pid     int
		exe     string
		wantErr bool
	}{
		{"1234 /usr/bin/peer\n", 1234, "/usr/bin/peer", false},
		{"  77   /x/orderer ", 77, "/x/orderer", false},
		{"1234\n", 0, "", true},
		{"1 /sbin/init", 0, "", true}, // never PID 1
		{"-5 /bin/x", 0, "", true},
		{"abc /bin/x", 0, "", true},
		{"1 2 3", 0, "", true},
	}
	for _, tc := range tests {
		pid, exe, err := ParsePIDFile([]byte(tc.in))
		if (err != nil) != tc.wantErr || pid != tc.pid || exe != tc.exe {
			t.Errorf("%q: got %d %q %v", tc.in, pid, exe, err)
		}
	}
}

func TestParseLoadAvg(t *testing.T) {
	if v, err := ParseLoadAvg([]byte("3.87 4.79 3.50 2/345 31767\n")); err != nil || v != 3.87 {
		t.Fatalf("got %v %v", v, err)
	}
	for _, bad := range []string{"", "x y z", "-1 2 3"} {
		if _, err := ParseLoadAvg([]byte(bad)); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}

// fakeProc is a /proc tree and a network root with pid files, in a temp folder.
type fakeProc struct {
	t          *testing.T
	proc, root string
}

func newFakeProc(t *testing.T) *fakeProc {
	d := t.TempDir()
	f := &fakeProc{t: t, proc: filepath.Join(d, "proc"), root: filepath.Join(d, "net")}
	for _, p := range []string{f.proc, filepath.Join(f.root, "pids")} {
		if err := os.MkdirAll(p, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// set writes the process's stat, status and exe link, and its pid file under name.
func (f *fakeProc) set(name string, pid int, exe string, ticks uint64, rssKiB int64) {
	dir := filepath.Join(f.proc, strconv.Itoa(pid))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		f.t.Fatal(err)
	}
	write := func(p, s string) {
		if err := os.WriteFile(p, []byte(s), 0o644); err != nil {
			f.t.Fatal(err)
		}
	}
	write(filepath.Join(dir, "stat"), statLine(name, ticks, 0))
	write(filepath.Join(dir, "status"), fmt.Sprintf("Name:\t%s\nVmRSS:\t%d kB\n", name, rssKiB))
	_ = os.Remove(filepath.Join(dir, "exe"))
	if err := os.Symlink(exe, filepath.Join(dir, "exe")); err != nil {
		f.t.Fatal(err)
	}
	if name != "" {
		write(filepath.Join(f.root, "pids", name+".pid"), fmt.Sprintf("%d %s\n", pid, exe))
	}
}

func (f *fakeProc) kill(pid int) {
	if err := os.RemoveAll(filepath.Join(f.proc, strconv.Itoa(pid))); err != nil {
		f.t.Fatal(err)
	}
}

func TestSamplerAccountsCPUAndRSSAcrossRestarts(t *testing.T) {
	f := newFakeProc(t)
	f.set("orderer0", 100, "/bin/orderer", 1000, 40_000)
	f.set("peer0.a", 200, "/bin/peer", 5000, 60_000)
	f.set("peer0.b", 300, "/bin/peer", 10, 50_000)
	// A pid file whose PID now runs another program (recycled) must not be sampled.
	f.set("ccserver.a", 400, "/bin/other", 999, 1)
	if err := os.WriteFile(filepath.Join(f.root, "pids", "ccserver.a.pid"), []byte("400 /bin/ccserver\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	s := NewSampler(f.root, f.proc)
	s.Start(time.Hour) // only explicit samples below
	f.set("orderer0", 100, "/bin/orderer", 1250, 90_000)
	f.set("peer0.a", 200, "/bin/peer", 5300, 200_000)
	s.Sample()
	// peer0.a dies and restarts as PID 201 with 40 ticks of its own; peer0.b dies for good.
	f.kill(200)
	f.set("peer0.a", 201, "/bin/peer", 40, 70_000)
	f.kill(300)
	// A node started during the window.
	f.set("gateway.a", 500, "/bin/gatewayd", 30, 20_000)
	s.Sample()
	f.set("orderer0", 100, "/bin/orderer", 1300, 80_000)
	f.set("peer0.a", 201, "/bin/peer", 60, 75_000)
	got := map[string]ProcUsage{}
	for _, u := range s.Stop() {
		got[u.Name] = u
	}
	want := map[string]struct {
		cpu             float64
		start, max, end int64
		restarts        int
		missing         bool
	}{
		"orderer0":   {3.00, 40_000, 90_000, 80_000, 0, false},
		"peer0.a":    {3.60, 60_000, 200_000, 75_000, 1, false}, // 300 ticks + 60 ticks of the new PID
		"peer0.b":    {0, 50_000, 50_000, 50_000, 0, false},
		"gateway.a":  {0.30, 20_000, 20_000, 20_000, 0, false},
		"ccserver.a": {0, 0, 0, 0, 0, true},
	}
	if len(got) != len(want) {
		t.Fatalf("sampled %v", got)
	}
	for name, w := range want {
		u := got[name]
		if diff := u.CPUSeconds - w.cpu; diff > 1e-9 || diff < -1e-9 || u.RSSStartKiB != w.start || u.RSSMaxKiB != w.max ||
			u.RSSEndKiB != w.end || u.Restarts != w.restarts || u.Missing != w.missing {
			t.Errorf("%s: %+v, want %+v", name, u, w)
		}
		if !u.Missing && u.CPUCores <= 0 && w.cpu > 0 {
			t.Errorf("%s: CPU cores %v", name, u.CPUCores)
		}
	}
}

func TestSamplerReadsThisProcess(t *testing.T) {
	s := NewSampler(t.TempDir(), "/proc", Proc{Name: "self", PID: os.Getpid()})
	s.Start(10 * time.Millisecond)
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) { // burn some CPU
	}
	u := s.Stop()
	if len(u) != 1 || u[0].Name != "self" || u[0].Missing || u[0].RSSMaxKiB <= 0 || u[0].CPUSeconds <= 0 {
		t.Fatalf("usage %+v", u)
	}
}

func FuzzParseStat(f *testing.F) {
	f.Add([]byte(statLine("peer", 1, 2)))
	f.Add([]byte(statLine("a) (b", 3, 4)))
	f.Add([]byte("1 (x) S"))
	f.Add([]byte(")"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseStat(b)
		if err != nil && v != 0 {
			t.Fatalf("error with value %d", v)
		}
		if err != nil && !errors.Is(err, ErrProcFormat) {
			t.Fatalf("error %v is not ErrProcFormat", err)
		}
	})
}

func FuzzParseStatusRSS(f *testing.F) {
	f.Add([]byte("VmRSS:\t 12 kB\n"))
	f.Add([]byte("Name: x\n"))
	f.Add([]byte("VmRSS: -1 kB"))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseStatusRSS(b)
		if err == nil && v < 0 {
			t.Fatalf("negative RSS %d", v)
		}
		if err != nil && (v != 0 || !errors.Is(err, ErrProcFormat)) {
			t.Fatalf("%d, %v", v, err)
		}
	})
}

func FuzzParsePIDFile(f *testing.F) {
	f.Add([]byte("1234 /bin/peer\n"))
	f.Add([]byte("1 /sbin/init"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		pid, exe, err := ParsePIDFile(b)
		if err == nil && (pid <= 1 || exe == "") {
			t.Fatalf("accepted pid %d exe %q", pid, exe)
		}
	})
}

func FuzzParseLoadAvg(f *testing.F) {
	f.Add([]byte("3.87 4.79 3.50 2/345 31767\n"))
	f.Add([]byte("NaN 1 1"))
	f.Add([]byte(""))
	f.Fuzz(func(t *testing.T, b []byte) {
		v, err := ParseLoadAvg(b)
		if err == nil && !(v >= 0) {
			t.Fatalf("accepted load average %v", v)
		}
	})
}

func TestParseCPUTotals(t *testing.T) {
	tests := []struct {
		in          string
		busy, total uint64
		wantErr     bool
	}{
		{"cpu  301777 0 92355 261211 7732 0 4381 1889 0 0\ncpu0 1 2 3 4\n", 301777 + 92355 + 4381 + 1889, 301777 + 92355 + 261211 + 7732 + 4381 + 1889, false},
		{"cpu 10 0 5 100 0\n", 15, 115, false},
		{"cpu0 1 2 3 4 5\n", 0, 0, true},
		{"cpu 1 2 x 4 5", 0, 0, true},
		{"", 0, 0, true},
	}
	for _, tc := range tests {
		busy, total, err := ParseCPUTotals([]byte(tc.in))
		if (err != nil) != tc.wantErr || busy != tc.busy || total != tc.total {
			t.Errorf("%q: %d %d %v", tc.in, busy, total, err)
		}
	}
}

func TestSamplerMachineCPU(t *testing.T) {
	f := newFakeProc(t)
	stat := filepath.Join(f.proc, "stat")
	write := func(busy uint64) {
		if err := os.WriteFile(stat, []byte(fmt.Sprintf("cpu %d 0 0 1000000 0 0 0 0 0 0\n", busy)), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(1000)
	s := NewSampler(f.root, f.proc)
	s.Start(time.Hour)
	time.Sleep(200 * time.Millisecond)
	write(1000 + 40) // 0.4 CPU seconds in ~0.2 s: about 2 cores
	s.Stop()
	if m := s.Machine(); m < 1.0 || m > 2.1 {
		t.Fatalf("machine CPU %.2f cores, want about 2", m)
	}
}

func FuzzParseCPUTotals(f *testing.F) {
	f.Add([]byte("cpu  301777 0 92355 261211 7732 0 4381 1889 0 0\n"))
	f.Add([]byte("cpu 1 2 3 4\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		busy, total, err := ParseCPUTotals(b)
		if err == nil && busy > total {
			t.Fatalf("busy %d > total %d", busy, total)
		}
	})
}
