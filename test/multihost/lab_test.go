//go:build integration

package multihost

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// lab is a set of Linux network namespaces that stand for separate hosts: one per organisation,
// each with its own address on a bridge that lives in a namespace of its own, so the host's
// namespace has no address of the range and no traffic of the test leaves the namespaces the
// test created. Every namespace is named with the lab's prefix; teardown kills every process in
// them and deletes them (the bridge and the veth pairs go with their namespaces), also after a
// failed or interrupted test, and sweepNetns removes whatever an earlier run with the same prefix
// left behind.
type lab struct {
	t      *testing.T
	prefix string
	bridge string            // namespace holding the bridge br0
	ns     map[string]string // org -> namespace
	ip     map[string]string // org -> address
	link   map[string]string // org -> bridge-side veth of its host link
	mu     sync.Mutex
}

// subnet is the lab's address range; it exists only inside the lab's namespaces.
const subnet = "10.77.0."

// labPrefix names this run's namespaces: CASELEDGER_NETNS_PREFIX (.ci/run sets one per run and
// sweeps it), else one per test process.
func labPrefix() string {
	if p := os.Getenv("CASELEDGER_NETNS_PREFIX"); p != "" {
		return p
	}
	return "clmh" + strconv.Itoa(os.Getpid()) + "-"
}

func newLab(t *testing.T) *lab {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("network namespaces need root")
	}
	if _, err := exec.LookPath("ip"); err != nil {
		t.Skip("no ip(8)")
	}
	l := &lab{t: t, prefix: labPrefix(), ns: map[string]string{}, ip: map[string]string{}, link: map[string]string{}}
	sweepNetns(t, l.prefix)
	t.Cleanup(func() { sweepNetns(t, l.prefix) })
	l.bridge = l.prefix + "br"
	l.run("ip", "netns", "add", l.bridge)
	l.run("ip", "-n", l.bridge, "link", "add", "br0", "type", "bridge")
	l.run("ip", "-n", l.bridge, "link", "set", "br0", "up")
	return l
}

// addHost creates org's namespace with address subnet+host on the bridge.
func (l *lab) addHost(org string, host int) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	i := len(l.ns)
	ns := l.prefix + strconv.Itoa(i)
	ip := subnet + strconv.Itoa(host)
	veth := "v" + strconv.Itoa(i)
	l.run("ip", "netns", "add", ns)
	l.run("ip", "-n", ns, "link", "set", "lo", "up")
	l.run("ip", "-n", l.bridge, "link", "add", veth, "type", "veth", "peer", "name", "eth0", "netns", ns)
	l.run("ip", "-n", l.bridge, "link", "set", veth, "master", "br0")
	l.run("ip", "-n", l.bridge, "link", "set", veth, "up")
	l.run("ip", "-n", ns, "addr", "add", ip+"/24", "dev", "eth0")
	l.run("ip", "-n", ns, "link", "set", "eth0", "up")
	l.ns[org], l.ip[org], l.link[org] = ns, ip, veth
	return ip
}

// cut takes org's host link down (its cable pulled) or back up.
func (l *lab) cut(org string, down bool) {
	state := "up"
	if down {
		state = "down"
	}
	l.run("ip", "-n", l.bridge, "link", "set", l.link[org], state)
}

func (l *lab) run(args ...string) {
	l.t.Helper()
	out, err := exec.Command(args[0], args[1:]...).CombinedOutput()
	if err != nil {
		l.t.Fatalf("%s: %v: %s", strings.Join(args, " "), err, out)
	}
}

// exec runs a command in org's namespace from dir with extra environment and returns its output.
func (l *lab) exec(ctx context.Context, org, dir string, env []string, args ...string) (string, error) {
	cmd := exec.CommandContext(ctx, "ip", append([]string{"netns", "exec", l.ns[org]}, args...)...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), env...)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	// A test killed by its deadline takes the command with it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	err := cmd.Run()
	return out.String(), err
}

// sweepNetns kills every process in each namespace whose name starts with prefix and deletes the
// namespace: with it go its veth ends and, in the bridge's namespace, the bridge.
func sweepNetns(t *testing.T, prefix string) {
	out, err := exec.Command("ip", "netns", "list").Output()
	if err != nil {
		t.Logf("ip netns list: %v", err)
		return
	}
	for _, line := range strings.Split(string(out), "\n") {
		f := strings.Fields(line)
		if len(f) == 0 || !strings.HasPrefix(f[0], prefix) {
			continue
		}
		ns := f[0]
		for i := 0; i < 50; i++ {
			pids, _ := exec.Command("ip", "netns", "pids", ns).Output()
			if len(strings.TrimSpace(string(pids))) == 0 {
				break
			}
			for _, p := range strings.Fields(string(pids)) {
				if pid, err := strconv.Atoi(p); err == nil && pid > 1 && pid != os.Getpid() {
					_ = syscall.Kill(pid, syscall.SIGKILL)
				}
			}
			time.Sleep(100 * time.Millisecond)
		}
		if b, err := exec.Command("ip", "netns", "del", ns).CombinedOutput(); err != nil {
			t.Errorf("ip netns del %s: %v: %s", ns, err, b)
		}
	}
	if left, _ := exec.Command("ip", "netns", "list").Output(); strings.Contains(string(left), prefix) {
		t.Errorf("namespaces left behind: %s", left)
	}
}

func (l *lab) String() string { return fmt.Sprintf("lab %s: %v", l.prefix, l.ip) }
