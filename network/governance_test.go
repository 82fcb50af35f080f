package network

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"gopkg.in/yaml.v3"
)

// The generated configtx.yaml gives the auditor no say in any policy that changes rules or
// membership, and needs every member state on dublin and a majority of the agencies on national.
func TestGeneratedGovernancePolicies(t *testing.T) {
	d, err := LoadBuiltin("demo")
	if err != nil {
		t.Fatal(err)
	}
	n, err := New(d, Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if err := os.MkdirAll(n.configDir(), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := n.writeConfigtx(); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile(filepath.Join(n.configDir(), "configtx.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	type policy struct {
		Type string `yaml:"Type"`
		Rule string `yaml:"Rule"`
	}
	var doc struct {
		Profiles map[string]struct {
			Application struct {
				Policies      map[string]policy `yaml:"Policies"`
				Organizations []struct {
					Name     string            `yaml:"Name"`
					Policies map[string]policy `yaml:"Policies"`
				} `yaml:"Organizations"`
			} `yaml:"Application"`
		} `yaml:"Profiles"`
	}
	if err := yaml.Unmarshal(b, &doc); err != nil {
		t.Fatal(err)
	}
	want := map[string]map[string]string{
		"dublin": {
			"Admins":               "OutOf(2,'AsylumOfficeMSP.admin','PartnerStateMSP.admin')",
			"LifecycleEndorsement": "OutOf(2,'AsylumOfficeMSP.peer','PartnerStateMSP.peer')",
			"Endorsement":          "OutOf(2,'AsylumOfficeMSP.peer','PartnerStateMSP.peer')",
		},
		"national": {
			"Admins":               "OutOf(2,'AsylumOfficeMSP.admin','BorderPoliceMSP.admin','ImmigrationAuthorityMSP.admin')",
			"LifecycleEndorsement": "OutOf(2,'AsylumOfficeMSP.peer','BorderPoliceMSP.peer','ImmigrationAuthorityMSP.peer')",
			"Endorsement":          "OutOf(2,'AsylumOfficeMSP.peer','BorderPoliceMSP.peer','ImmigrationAuthorityMSP.peer')",
		},
	}
	for ch, policies := range want {
		p, ok := doc.Profiles[ch]
		if !ok {
			t.Fatalf("no profile %s", ch)
		}
		for name, rule := range policies {
			got := p.Application.Policies[name]
			if got.Type != "Signature" || got.Rule != rule {
				t.Errorf("%s Application/%s = %s %q, want Signature %q", ch, name, got.Type, got.Rule, rule)
			}
		}
		// The auditor appears in its own org group only, and there only for itself.
		for _, o := range p.Application.Organizations {
			for name, pol := range o.Policies {
				if o.Name != "AuditorMSP" && strings.Contains(pol.Rule, "AuditorMSP") {
					t.Errorf("%s: %s's %s policy names the auditor: %s", ch, o.Name, name, pol.Rule)
				}
			}
		}
		for name, pol := range p.Application.Policies {
			if strings.Contains(pol.Rule, "AuditorMSP") {
				t.Errorf("%s Application/%s names the auditor: %s", ch, name, pol.Rule)
			}
		}
	}
}
