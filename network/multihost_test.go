package network

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// demoOnHosts is the demo description with every organisation on a host of its own.
func demoOnHosts(t *testing.T) (Description, map[string]string) {
	t.Helper()
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	hosts := map[string]string{d.OrdererOrg.Name: "10.99.0.2"}
	d.OrdererOrg.Host = hosts[d.OrdererOrg.Name]
	for i := range d.Orgs {
		d.Orgs[i].Host = "10.99.0." + string(rune('3'+i))
		hosts[d.Orgs[i].Name] = d.Orgs[i].Host
	}
	if err := d.Validate(); err != nil {
		t.Fatal(err)
	}
	return d, hosts
}

func TestHostsInDescription(t *testing.T) {
	d, hosts := demoOnHosts(t)
	for org, h := range hosts {
		if got := d.HostOf(org); got != h {
			t.Errorf("HostOf(%s) = %s, want %s", org, got, h)
		}
	}
	if got := d.HostPort(d.PortsOf("border-police").Peer); got != hosts["border-police"]+":7144" {
		t.Errorf("border-police peer at %s", got)
	}
	if got := d.HostPort(d.OrdererPortsOf(2).Admin); got != hosts["orderer"]+":7111" {
		t.Errorf("orderer2 admin at %s", got)
	}
	if got := d.OrgOfPort(d.BasePort - 1); got != "" {
		t.Errorf("port below the blocks belongs to %q", got)
	}
	plain, _ := LoadBuiltin("demo")
	if got := plain.HostPort(plain.PortsOf("auditor").Peer); got != "127.0.0.1:7204" {
		t.Errorf("without hosts: %s", got)
	}
	for _, bad := range []string{"10.0.0.1:80", "a b", "-x.example", "fe80::1", "UPPER.example"} {
		d2, _ := demoOnHosts(t)
		d2.Orgs[1].Host = bad
		if err := d2.Validate(); err == nil {
			t.Errorf("host %q accepted", bad)
		}
	}
	// The description a bundle carries (network.yaml) keeps the hosts.
	b, err := yaml.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	back, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	if back.HostOf("auditor") != hosts["auditor"] || back.BatchTimeout != d.BatchTimeout {
		t.Errorf("network.yaml round trip lost hosts or settings: %+v", back.Orgs[4])
	}
}

// TestEveryAddressComesFromTheDescription: with every org on its own host, no node configuration
// names loopback, and each address is the host of the org that owns the port.
func TestEveryAddressComesFromTheDescription(t *testing.T) {
	d, hosts := demoOnHosts(t)
	n, err := New(d, Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	check := func(where string, kvs []string, owner string) {
		t.Helper()
		for _, kv := range kvs {
			if strings.Contains(kv, "127.0.0.1") || strings.Contains(kv, "localhost") {
				t.Errorf("%s: %s names loopback", where, kv)
			}
			k, v, _ := strings.Cut(kv, "=")
			if strings.HasSuffix(k, "ADDRESS") || strings.HasSuffix(k, "BOOTSTRAP") || strings.HasSuffix(k, "EXTERNALENDPOINT") {
				if v != hosts[owner] && !strings.HasPrefix(v, hosts[owner]+":") {
					t.Errorf("%s: %s is not at %s's host %s", where, kv, owner, hosts[owner])
				}
			}
		}
	}
	for _, o := range d.Orgs {
		check(PeerNode(o.Name), n.peerEnv(o), o.Name)
		c, err := n.Connection(o.Name)
		if err != nil {
			t.Fatal(err)
		}
		if c.Peer.Address != hosts[o.Name]+":"+strconv.Itoa(d.PortsOf(o.Name).Peer) {
			t.Errorf("%s connection: peer at %s", o.Name, c.Peer.Address)
		}
		for _, u := range []string{n.GatewayURL(o.Name), n.PrivacyURL(o.Name), n.DiskWatchURL(o.Name)} {
			if !strings.Contains(u, "//"+hosts[o.Name]+":") {
				t.Errorf("%s: service URL %s not at its host", o.Name, u)
			}
		}
	}
	for i := 0; i < d.OrdererOrg.Orderers; i++ {
		env := n.ordererEnv(i)
		check(n.OrdererNode(i), env, "orderer")
		if !slices.Contains(env, "ORDERER_GENERAL_LISTENADDRESS="+hosts["orderer"]) {
			t.Errorf("orderer%d does not listen at its host", i)
		}
	}
	// Channel configuration: orderer endpoints, Raft consenters and anchor peers.
	if err := os.MkdirAll(n.configDir(), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := n.writeConfigtx(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(n.configDir(), "configtx.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(b), "127.0.0.1") {
		t.Errorf("configtx.yaml names loopback")
	}
	var ctx struct {
		Profiles map[string]struct {
			Orderer struct {
				Addresses []string
				EtcdRaft  struct{ Consenters []struct{ Host string } }
			}
			Application struct {
				Organizations []struct {
					Name        string
					AnchorPeers []struct{ Host string }
				}
			}
		}
	}
	if err := yaml.Unmarshal(b, &ctx); err != nil {
		t.Fatal(err)
	}
	for name, p := range ctx.Profiles {
		for _, a := range p.Orderer.Addresses {
			if !strings.HasPrefix(a, hosts["orderer"]+":") {
				t.Errorf("%s: orderer address %s", name, a)
			}
		}
		for _, c := range p.Orderer.EtcdRaft.Consenters {
			if c.Host != hosts["orderer"] {
				t.Errorf("%s: consenter at %s", name, c.Host)
			}
		}
		for _, o := range p.Application.Organizations {
			org, _ := d.OrgByMSP(o.Name)
			if len(o.AnchorPeers) != 1 || o.AnchorPeers[0].Host != hosts[org.Name] {
				t.Errorf("%s: %s anchor peers %+v", name, o.Name, o.AnchorPeers)
			}
		}
	}
	// TLS certificates name the org's host.
	ca, _ := n.caServersOf("partner-state")
	if ca.tlsHosts() != "localhost,127.0.0.1,"+hosts["partner-state"] {
		t.Errorf("partner-state TLS names %s", ca.tlsHosts())
	}
}

// TestBundlesHoldOnlyTheirOrgsSecrets: each organisation's bundle has its own keys and CA
// databases, other organisations' public certificates only, its own CA passwords only, and a
// core.yaml that names its own builder.
func TestBundlesHoldOnlyTheirOrgsSecrets(t *testing.T) {
	d, _ := demoOnHosts(t)
	root := t.TempDir()
	n, err := New(d, Options{Root: root})
	if err != nil {
		t.Fatal(err)
	}
	// A generated root as Generate leaves it (the files that matter, with their modes).
	write := func(rel, content string, mode os.FileMode) {
		p := filepath.Join(root, rel)
		if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
	}
	if err := n.writeDescription(); err != nil {
		t.Fatal(err)
	}
	if err := n.markDone("generated"); err != nil {
		t.Fatal(err)
	}
	core, err := editYAML("fabricconfig/core.yaml", map[string]any{"chaincode.externalBuilders": []map[string]any{{"name": "caseledger-ccaas", "path": n.builderDir()}}})
	if err != nil {
		t.Fatal(err)
	}
	write("config/core.yaml", string(core), 0o644)
	write("config/orderer.yaml", "General: {}\n", 0o644)
	write("config/configtx.yaml", "Profiles: {}\n", 0o644)
	write("builder/bin/detect", "#!/bin/sh\n", 0o755)
	write("chaincode-config.json", "{}", 0o644)
	for _, ch := range d.Channels {
		write("channels/"+ch.Name+".block", "block", 0o644)
	}
	for _, org := range d.BundleOrgs() {
		write("secrets/ca."+org, "pw", 0o600)
		write("secrets/tlsca."+org, "pw", 0o600)
		write("orgs/"+org+"/msp/cacerts/ca.pem", "cert", 0o644)
		write("orgs/"+org+"/msp/config.yaml", "NodeOUs", 0o644)
		write("orgs/"+org+"/tlsca/ca-cert.pem", "cert", 0o644)
		write("orgs/"+org+"/tlsca/msp/keystore/KEY_sk", "TLS CA KEY", 0o600)
		write("orgs/"+org+"/ca/fabric-ca-server.db", "db", 0o600)
		write("orgs/"+org+"/users/admin/msp/keystore/KEY_sk", "ADMIN KEY "+org, 0o600)
		write("orgs/"+org+"/peer0/tls/server.key", "TLS KEY "+org, 0o600)
	}
	write("orgs/orderer/orderer0/tls/server.crt", "cert", 0o644)
	write("orgs/orderer/orderer0/tls/server.key", "TLS KEY orderer", 0o600)
	out := t.TempDir()
	if err := n.WriteBundles(out); err != nil {
		t.Fatal(err)
	}
	for _, org := range d.BundleOrgs() {
		dir := filepath.Join(out, org)
		var files []string
		err := filepath.WalkDir(dir, func(p string, e os.DirEntry, err error) error {
			if err == nil && !e.IsDir() {
				rel, _ := filepath.Rel(dir, p)
				files = append(files, filepath.ToSlash(rel))
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range files {
			b, _ := os.ReadFile(filepath.Join(dir, f))
			if strings.Contains(string(b), "KEY") && !strings.HasPrefix(f, "orgs/"+org+"/") {
				t.Errorf("bundle %s holds another org's key: %s", org, f)
			}
			if strings.HasPrefix(f, "secrets/") && !strings.HasSuffix(f, "ca."+org) {
				t.Errorf("bundle %s holds another org's secret %s", org, f)
			}
			if f == "config/configtx.yaml" {
				t.Errorf("bundle %s holds the provisioning configtx.yaml", org)
			}
		}
		for _, want := range []string{"network.yaml", "state/generated", "config/core.yaml", "builder/bin/detect",
			"orgs/" + org + "/users/admin/msp/keystore/KEY_sk", "orgs/" + org + "/ca/fabric-ca-server.db",
			"secrets/ca." + org, "orgs/orderer/tlsca/ca-cert.pem", "orgs/auditor/msp/cacerts/ca.pem",
			"orgs/orderer/orderer0/tls/server.crt"} {
			if !slices.Contains(files, want) {
				t.Errorf("bundle %s lacks %s", org, want)
			}
		}
		if fi, err := os.Stat(filepath.Join(dir, "orgs", org, "users", "admin", "msp", "keystore", "KEY_sk")); err != nil || fi.Mode().Perm() != 0o600 {
			t.Errorf("bundle %s: admin key mode %v %v", org, fi.Mode(), err)
		}
		for _, ch := range d.Channels {
			has := slices.Contains(files, "channels/"+ch.Name+".block")
			if want := org == "orderer" || slices.Contains(ch.Members, org); has != want {
				t.Errorf("bundle %s: %s block present %v, want %v", org, ch.Name, has, want)
			}
		}
		coreB, _ := os.ReadFile(filepath.Join(dir, "config", "core.yaml"))
		if !strings.Contains(string(coreB), filepath.Join(dir, "builder")) || strings.Contains(string(coreB), root) {
			t.Errorf("bundle %s: core.yaml does not name its own builder", org)
		}
	}
	if err := n.WriteBundles(out); err == nil {
		t.Error("bundles written twice over the same folder")
	}
}

// TestOneOrgPartNeedsABundle: a host's part never generates (it would make keys of its own that no
// channel knows) and never wipes a folder that is not a bundle.
func TestOneOrgPartNeedsABundle(t *testing.T) {
	d, _ := demoOnHosts(t)
	root := t.TempDir()
	keep := filepath.Join(root, "keep")
	if err := os.WriteFile(keep, []byte("x"), 0o600); err != nil {
		t.Fatal(err)
	}
	n, err := New(d, Options{Root: root, Orgs: []string{"border-police"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Up(context.Background()); err == nil || !strings.Contains(err.Error(), "not a generated bundle") {
		t.Fatalf("Up on a non-bundle: %v", err)
	}
	if _, err := os.Stat(keep); err != nil {
		t.Errorf("Up wiped a folder that is not a bundle: %v", err)
	}
	if _, err := New(d, Options{Root: root, Orgs: []string{"nobody"}}); err == nil {
		t.Error("an org outside the description accepted")
	}
	if !n.Local("border-police") || n.Local("asylum-office") || n.Local("orderer") {
		t.Error("Local is not the org given")
	}
	if got := n.allCAs(); len(got) != 2 || got[0].node != "ca.border-police" {
		t.Errorf("CAs of this host: %+v", got)
	}
	for _, u := range n.portPlan() {
		if org := d.OrgOfPort(u.port); org != "border-police" {
			t.Errorf("port plan checks %d of %s (%s)", u.port, org, u.node)
		}
	}
	if w := n.diskWatchPlan(); len(w) != 1 || w[0].Org != "border-police" {
		t.Errorf("disk watchers of this host: %+v", w)
	}
}
