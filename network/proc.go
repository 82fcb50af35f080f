package network

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// ErrNodeFailed is returned when a node exits or does not become healthy; the message names the node
// and carries the last lines of its log.
var ErrNodeFailed = errors.New("node failed")

// ErrAlreadyRunning is returned by Start for a node that runs already; `up` then just checks it.
var ErrAlreadyRunning = errors.New("already running")

// Supervisor starts long-running node processes, records each one's PID in <root>/pids/<name>.pid and
// its output in <root>/logs/<name>.log, and stops them by PID — also from another process (netctl down).
type Supervisor struct {
	root string
	// tieToParent kills children when the starting process dies (tests); the CLI leaves nodes running.
	tieToParent bool

	mu    sync.Mutex
	procs map[string]*child
}

type child struct {
	cmd  *exec.Cmd
	done chan struct{}
	err  error
}

// NewSupervisor returns a supervisor rooted at root. With tieToParent the nodes die with this process.
func NewSupervisor(root string, tieToParent bool) *Supervisor {
	return &Supervisor{root: root, tieToParent: tieToParent, procs: map[string]*child{}}
}

func (s *Supervisor) pidFile(name string) string { return filepath.Join(s.root, "pids", name+".pid") }

// LogFile is where a node's stdout and stderr go.
func (s *Supervisor) LogFile(name string) string { return filepath.Join(s.root, "logs", name+".log") }

// Start launches bin with args and env (added to a minimal base environment) under the given name.
// A node already running under that name is an error: stop it first.
func (s *Supervisor) Start(name, bin string, args, env []string, dir string) error {
	if pid, ok := s.Running(name); ok {
		return fmt.Errorf("start %s: %w as pid %d", name, ErrAlreadyRunning, pid)
	}
	// Logs may name identities, paths and request details: this user only.
	for _, d := range []string{filepath.Dir(s.pidFile(name)), filepath.Dir(s.LogFile(name))} {
		if err := os.MkdirAll(d, 0o700); err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
		if err := os.Chmod(d, 0o700); err != nil {
			return fmt.Errorf("start %s: %w", name, err)
		}
	}
	logf, err := os.OpenFile(s.LogFile(name), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	defer logf.Close() // the child holds its own descriptor
	// A log from an older run may be wider.
	if err := logf.Chmod(0o600); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	fmt.Fprintf(logf, "\n=== %s start %s\n", time.Now().UTC().Format(time.RFC3339), name)

	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append(baseEnv(), env...)
	cmd.Stdout, cmd.Stderr = logf, logf
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if s.tieToParent {
		cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("start %s: %w", name, err)
	}
	// /proc/<pid>/exe shows the resolved path: record the same, or a symlinked binary (e.g. /bin on
	// merged-usr systems) would look like a recycled PID.
	exe, err := filepath.EvalSymlinks(cmd.Path)
	if err == nil {
		exe, err = filepath.Abs(exe)
	}
	if err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("start %s: resolve %s: %w", name, cmd.Path, err)
	}
	pidLine := fmt.Sprintf("%d %s\n", cmd.Process.Pid, exe)
	if err := os.WriteFile(s.pidFile(name), []byte(pidLine), 0o600); err != nil {
		_ = cmd.Process.Kill()
		return fmt.Errorf("start %s: write pid file: %w", name, err)
	}
	c := &child{cmd: cmd, done: make(chan struct{})}
	go func() { c.err = cmd.Wait(); close(c.done) }() // reap, so a dead node is never a zombie "alive"
	s.mu.Lock()
	s.procs[name] = c
	s.mu.Unlock()
	return nil
}

// baseEnv keeps what tools need (PATH, HOME, Go settings) and drops the rest, so node behaviour does
// not depend on whatever the caller's shell exported (e.g. stray CORE_* variables).
func baseEnv() []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch {
		case k == "PATH", k == "HOME", k == "TMPDIR", k == "USER", k == "LANG", strings.HasPrefix(k, "GO"):
			env = append(env, kv)
		}
	}
	return env
}

// Exited reports whether a node started by this supervisor has exited (and how).
func (s *Supervisor) Exited(name string) (bool, error) {
	s.mu.Lock()
	c, ok := s.procs[name]
	s.mu.Unlock()
	if !ok {
		_, running := s.Running(name)
		return !running, nil
	}
	select {
	case <-c.done:
		return true, c.err
	default:
		return false, nil
	}
}

// Running reads the node's pid file and checks that this PID is still the same program.
func (s *Supervisor) Running(name string) (int, bool) {
	b, err := os.ReadFile(s.pidFile(name))
	if err != nil {
		return 0, false
	}
	fields := strings.Fields(string(b))
	if len(fields) != 2 {
		return 0, false
	}
	pid, err := strconv.Atoi(fields[0])
	if err != nil || pid <= 1 {
		return 0, false
	}
	return pid, processIs(pid, fields[1])
}

// processIs reports whether pid is alive and runs exe (guards against a recycled PID).
func processIs(pid int, exe string) bool {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return false
	}
	// Field 3 is the state; a zombie is dead for our purposes.
	if i := strings.LastIndexByte(string(stat), ')'); i > 0 && i+2 < len(stat) && stat[i+2] == 'Z' {
		return false
	}
	link, err := os.Readlink(fmt.Sprintf("/proc/%d/exe", pid))
	if err != nil {
		return false
	}
	return strings.TrimSuffix(link, " (deleted)") == exe
}

// Stop sends SIGTERM to the node, waits up to grace, then SIGKILLs it. Stopping a node that is not
// running is not an error. The pid file is removed.
func (s *Supervisor) Stop(name string, grace time.Duration) error {
	return s.signalStop(name, syscall.SIGTERM, grace)
}

// Kill stops the node with SIGKILL at once (fault tests).
func (s *Supervisor) Kill(name string) error { return s.signalStop(name, syscall.SIGKILL, 0) }

func (s *Supervisor) signalStop(name string, sig syscall.Signal, grace time.Duration) error {
	pid, ok := s.Running(name)
	if ok {
		// The node leads its own process group: signal the group so helpers it spawned go too.
		_ = syscall.Kill(-pid, sig)
		deadline := time.Now().Add(grace)
		for s.alive(name, pid) && time.Now().Before(deadline) {
			time.Sleep(50 * time.Millisecond)
		}
		if s.alive(name, pid) {
			_ = syscall.Kill(-pid, syscall.SIGKILL)
			for i := 0; i < 100 && s.alive(name, pid); i++ {
				time.Sleep(20 * time.Millisecond)
			}
		}
		if s.alive(name, pid) {
			return fmt.Errorf("stop %s: pid %d still alive after SIGKILL", name, pid)
		}
	}
	s.mu.Lock()
	delete(s.procs, name)
	s.mu.Unlock()
	if err := os.Remove(s.pidFile(name)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("stop %s: %w", name, err)
	}
	return nil
}

func (s *Supervisor) alive(name string, pid int) bool {
	s.mu.Lock()
	c, ours := s.procs[name]
	s.mu.Unlock()
	if ours {
		select {
		case <-c.done:
			return false
		default:
			return true
		}
	}
	_, ok := s.Running(name)
	return ok
}

// Names lists the nodes that have a pid file, sorted.
func (s *Supervisor) Names() []string {
	entries, _ := os.ReadDir(filepath.Join(s.root, "pids"))
	var names []string
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".pid"); ok {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names
}

// StopAll stops every node with a pid file, in reverse start order of kinds: clients of a node go
// before the node (chaincode servers, peers, orderers, CAs).
func (s *Supervisor) StopAll(grace time.Duration) error {
	names := s.Names()
	rank := func(n string) int {
		for i, p := range []string{"gateway", "privacy", "ccserver", "peer", "orderer", "ca"} {
			if strings.Contains(n, p) {
				return i
			}
		}
		return 0
	}
	sort.SliceStable(names, func(i, j int) bool { return rank(names[i]) < rank(names[j]) })
	var errs []error
	for _, n := range names {
		errs = append(errs, s.Stop(n, grace))
	}
	return errors.Join(errs...)
}

// LogTail returns the last n lines of a node's log.
func (s *Supervisor) LogTail(name string, n int) string {
	f, err := os.Open(s.LogFile(name))
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64*1024), 1024*1024)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > n {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// WaitReady polls ready until it succeeds, the node exits, or ctx ends. A failure names the node and
// quotes the end of its log, so `up` can say which node failed and why.
func (s *Supervisor) WaitReady(ctx context.Context, name string, ready func(context.Context) error) error {
	var last error
	for {
		if exited, werr := s.Exited(name); exited {
			return fmt.Errorf("%w: %s exited (%v); last log lines:\n%s", ErrNodeFailed, name, werr, s.LogTail(name, 15))
		}
		if last = ready(ctx); last == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w: %s not ready: %v (%v); last log lines:\n%s", ErrNodeFailed, name, last, ctx.Err(), s.LogTail(name, 15))
		case <-time.After(100 * time.Millisecond):
		}
	}
}
