package network

import (
	"context"
	"errors"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestSupervisorReportsFailedNodeWithLogTail(t *testing.T) {
	s := NewSupervisor(t.TempDir(), true)
	if err := s.Start("broken", "/bin/sh", []string{"-c", "echo 'bind: address already in use' >&2; exit 3"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := s.WaitReady(ctx, "broken", func(context.Context) error { return errors.New("not yet") })
	if !errors.Is(err, ErrNodeFailed) {
		t.Fatalf("WaitReady: %v, want ErrNodeFailed", err)
	}
	for _, want := range []string{"broken exited", "exit status 3", "address already in use"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q lacks %q", err, want)
		}
	}
}

func TestSupervisorTimeoutNamesNode(t *testing.T) {
	s := NewSupervisor(t.TempDir(), true)
	if err := s.Start("slow", "/bin/sleep", []string{"30"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	defer s.Kill("slow")
	ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
	defer cancel()
	err := s.WaitReady(ctx, "slow", func(context.Context) error { return errors.New("healthz: connection refused") })
	if !errors.Is(err, ErrNodeFailed) || !strings.Contains(err.Error(), "slow not ready") || !strings.Contains(err.Error(), "connection refused") {
		t.Fatalf("WaitReady: %v", err)
	}
}

func TestSupervisorStopByPIDFromAnotherSupervisor(t *testing.T) {
	root := t.TempDir()
	a := NewSupervisor(root, true)
	if err := a.Start("node", "/bin/sleep", []string{"30"}, nil, ""); err != nil {
		t.Fatal(err)
	}
	if err := a.Start("node", "/bin/sleep", []string{"30"}, nil, ""); !errors.Is(err, ErrAlreadyRunning) {
		t.Fatalf("second start: %v, want ErrAlreadyRunning", err)
	}
	pid, ok := a.Running("node")
	if !ok {
		t.Fatal("node not running")
	}
	// A second supervisor on the same root (like `netctl down` in another process) finds and stops it.
	b := NewSupervisor(root, false)
	if got := b.Names(); len(got) != 1 || got[0] != "node" {
		t.Fatalf("names %v", got)
	}
	if err := b.Stop("node", 5*time.Second); err != nil {
		t.Fatal(err)
	}
	if processIs(pid, "/bin/sleep") {
		t.Fatalf("pid %d still alive", pid)
	}
	if _, err := os.Stat(filepath.Join(root, "pids", "node.pid")); !os.IsNotExist(err) {
		t.Fatalf("pid file left behind: %v", err)
	}
	if err := b.Stop("node", time.Second); err != nil {
		t.Fatalf("stopping a stopped node: %v", err)
	}
}

func TestSupervisorIgnoresRecycledPID(t *testing.T) {
	root := t.TempDir()
	s := NewSupervisor(root, true)
	// A pid file naming our own PID but another executable: a recycled PID must never be signalled.
	if err := os.MkdirAll(filepath.Join(root, "pids"), 0o755); err != nil {
		t.Fatal(err)
	}
	line := []byte(strings.Join([]string{itoa(os.Getpid()), "/usr/bin/not-this-program"}, " ") + "\n")
	if err := os.WriteFile(filepath.Join(root, "pids", "ghost.pid"), line, 0o644); err != nil {
		t.Fatal(err)
	}
	if _, ok := s.Running("ghost"); ok {
		t.Fatal("recycled PID taken for the node")
	}
	if err := s.Stop("ghost", time.Second); err != nil { // must not signal this test process
		t.Fatal(err)
	}
}

func itoa(i int) string { return strconv.Itoa(i) }

func TestUpRefusesTakenPortsNamingTheNode(t *testing.T) {
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	d.BasePort = 19100
	n, err := New(d, Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("tcp", d.HostPort(d.PortsOf("border-police").Peer))
	if err != nil {
		t.Skipf("cannot hold the port for the test: %v", err)
	}
	defer l.Close()
	err = n.checkPorts()
	if !errors.Is(err, ErrPortInUse) || !strings.Contains(err.Error(), "peer of peer0.border-police") {
		t.Fatalf("checkPorts: %v", err)
	}
}
