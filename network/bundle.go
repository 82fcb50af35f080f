package network

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"gopkg.in/yaml.v3"
)

// A network whose organisations run on hosts of their own starts from per-organisation bundles:
// Generate creates every identity and the channels' genesis blocks once, on a provisioning
// machine, and WriteBundles splits the result so that each bundle holds its organisation's own
// identities, keys, CA databases and configuration, and of every other organisation only public
// material (its MSP definition: CA and TLS CA certificates) — never another organisation's key.
// Each bundle then goes to its organisation's host, where `netctl up --org <org>` starts that
// organisation's part alone (Options.Orgs).

// Generate creates the identities of every organisation, the node configuration and the genesis
// blocks, then stops the CAs again. Nothing else is started.
func (n *Network) Generate(ctx context.Context) error {
	if n.local != nil {
		return errors.New("generate: a provisioning run covers every organisation (no Orgs)")
	}
	start := time.Now()
	if !n.done("generated") {
		if err := n.wipe(); err != nil {
			return err
		}
	}
	if err := n.writeDescription(); err != nil {
		return err
	}
	if !n.done("generated") {
		if err := n.startCAs(ctx); err != nil {
			return errors.Join(err, n.sup.StopAll(5*time.Second))
		}
		err := n.generateIdentities(ctx)
		if err == nil {
			err = n.writeConfigs()
		}
		if err == nil {
			err = n.markDone("generated")
		}
		if err != nil {
			return errors.Join(err, n.sup.StopAll(5*time.Second))
		}
	}
	n.log.Info("identities and configuration generated", "elapsed", time.Since(start).Round(time.Millisecond))
	return n.sup.StopAll(10 * time.Second)
}

// BundleOrgs lists the organisations that get a bundle: the orderer organisation, then the peer
// organisations in description order.
func (d Description) BundleOrgs() []string {
	out := []string{d.OrdererOrg.Name}
	for _, o := range d.Orgs {
		out = append(out, o.Name)
	}
	return out
}

// WriteBundles writes one bundle per organisation under out/<org> from a generated root.
func (n *Network) WriteBundles(out string) error {
	if !n.done("generated") {
		return fmt.Errorf("%s holds no generated network", n.root)
	}
	for _, org := range n.desc.BundleOrgs() {
		dst := filepath.Join(out, org)
		if _, err := os.Stat(dst); err == nil {
			return fmt.Errorf("bundle %s exists already: a bundle is written once (its keys are the org's only copy)", dst)
		}
		files, err := n.bundleFiles(org)
		if err != nil {
			return err
		}
		if err := os.MkdirAll(dst, 0o700); err != nil {
			return err
		}
		for _, rel := range files {
			if err := copyKeepMode(filepath.Join(n.root, rel), filepath.Join(dst, rel)); err != nil {
				return fmt.Errorf("bundle %s: %w", org, err)
			}
		}
		// The shared core.yaml names the external builder by absolute path: point it at the
		// bundle's own copy.
		if err := rebaseCoreYAML(filepath.Join(dst, "config", "core.yaml"), filepath.Join(dst, "builder")); err != nil {
			return fmt.Errorf("bundle %s: %w", org, err)
		}
	}
	return nil
}

// bundleFiles lists the files (relative to the root) of org's bundle.
func (n *Network) bundleFiles(org string) ([]string, error) {
	var chans []string
	for _, ch := range n.desc.Channels {
		if org == n.desc.OrdererOrg.Name || slices.Contains(ch.Members, org) {
			chans = append(chans, filepath.Join("channels", ch.Name+".block"))
		}
	}
	own := filepath.Join("orgs", org) + string(filepath.Separator)
	var out []string
	err := filepath.WalkDir(n.root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return nil
		}
		rel, err := filepath.Rel(n.root, p)
		if err != nil {
			return err
		}
		if n.inBundle(org, rel, own, chans) {
			out = append(out, rel)
		}
		return nil
	})
	return out, err
}

// inBundle decides whether the generated file rel belongs in org's bundle.
func (n *Network) inBundle(org, rel, own string, chans []string) bool {
	parts := strings.Split(filepath.ToSlash(rel), "/")
	switch parts[0] {
	case "network.yaml", "chaincode-config.json":
		return len(parts) == 1
	case "state":
		return rel == filepath.Join("state", "generated")
	case "config":
		return rel == filepath.Join("config", "core.yaml") || rel == filepath.Join("config", "orderer.yaml")
	case "builder":
		return true
	case "channels":
		return slices.Contains(chans, rel)
	case "secrets":
		// The org's CA bootstrap passwords only.
		return len(parts) == 2 && (parts[1] == "ca."+org || parts[1] == "tlsca."+org)
	case "orgs":
		if strings.HasPrefix(rel, own) {
			return true
		}
		// Another org: its MSP definition (CA and TLS CA certificates, NodeOUs), its TLS CA
		// certificate and the orderers' TLS certificates (the Raft consenters of every channel
		// configuration), public material every channel member holds anyway. With them any member
		// can compute a channel configuration update from the description (ProposeChannelUpdate).
		return len(parts) >= 3 && (parts[2] == "msp" || (len(parts) == 4 && parts[2] == "tlsca" && parts[3] == "ca-cert.pem") ||
			(parts[1] == n.desc.OrdererOrg.Name && len(parts) == 5 && strings.HasPrefix(parts[2], "orderer") && parts[3] == "tls" && parts[4] == "server.crt"))
	}
	return false
}

// copyKeepMode copies a file with its permission bits; folders are created owner-only.
func copyKeepMode(src, dst string) error {
	fi, err := os.Stat(src)
	if err != nil {
		return err
	}
	b, err := os.ReadFile(src)
	if err != nil {
		return err
	}
	if err := os.MkdirAll(filepath.Dir(dst), 0o700); err != nil {
		return err
	}
	return os.WriteFile(dst, b, fi.Mode().Perm())
}

// rebaseCoreYAML sets the external builder path of a written core.yaml.
func rebaseCoreYAML(path, builderDir string) error {
	src, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	var v yaml.Node
	if err := v.Encode([]map[string]any{{"name": "caseledger-ccaas", "path": builderDir}}); err != nil {
		return err
	}
	if err := setPath(doc.Content[0], []string{"chaincode", "externalBuilders"}, &v); err != nil {
		return fmt.Errorf("%s: %w", path, err)
	}
	b, err := yaml.Marshal(&doc)
	if err != nil {
		return err
	}
	return os.WriteFile(path, b, 0o644)
}
