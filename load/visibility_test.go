package load

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/network"
)

// TestEventArgsPublic: the "before" driver sends the whole payload with no transient details;
// the chaincode's own check accepts it only with refusePublicDetails off, and the "after" driver's
// split is accepted with it on.
func TestEventArgsPublic(t *testing.T) {
	desc := demoDesc(t)
	n, err := network.New(desc, network.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	cfg := n.ChaincodeConfig()
	vis, err := cfg.Visibility.Policy()
	if err != nil {
		t.Fatal(err)
	}
	ch, ok := cfg.Membership.Channel("national")
	if !ok {
		t.Fatal("no national channel")
	}
	e := Event{Code: "DECISION_ISSUED", OccurredOn: "2027-01-04", Fields: map[string]any{"outcome": "REJECTED"}, Salt: newSalt()}
	pl, det, err := eventArgs(e, "national", true)
	if err != nil || det != nil || pl != e.Payload() || !strings.Contains(pl, `"outcome":"REJECTED"`) {
		t.Fatalf("public: payload %s details %s err %v", pl, det, err)
	}
	if _, d, _, err := vis.DecodeEvent(cfg.Membership, ch, []byte(pl), det, false); err != nil || d != nil {
		t.Fatalf("public payload with refusePublicDetails off: details %v, %v", d, err)
	}
	if _, _, _, err := vis.DecodeEvent(cfg.Membership, ch, []byte(pl), det, true); domain.KindOf(err) != domain.KindInvalidArgument {
		t.Fatalf("public payload with refusePublicDetails on: %v, want INVALID_ARGUMENT", err)
	}
	pl, det, err = eventArgs(e, "national", false)
	if err != nil || det == nil || strings.Contains(pl, "REJECTED") {
		t.Fatalf("split: payload %s details %s err %v", pl, det, err)
	}
	if _, d, _, err := vis.DecodeEvent(cfg.Membership, ch, []byte(pl), det, true); err != nil || d == nil {
		t.Fatalf("split with refusePublicDetails on: details %v, %v", d, err)
	}
}

func TestDriverNames(t *testing.T) {
	conns := []api.Connection{{Org: "asylum-office", Peer: api.Endpoint{Address: "127.0.0.1:7151"}}}
	for _, c := range []struct {
		new  func([]api.Connection, StageTimeouts) (*Bare, error)
		name string
	}{{NewBare, "bare"}, {NewBarePublic, DriverBarePublic}} {
		b, err := c.new(conns, DefaultStageTimeouts())
		if err != nil {
			t.Fatal(err)
		}
		if b.Name() != c.name {
			t.Fatalf("name %q, want %q", b.Name(), c.name)
		}
	}
}

// TestDetailsSwitch: each phase gets the setting its driver needs, and the servers are restarted
// only when it changes; Restore puts the generated setting back.
func TestDetailsSwitch(t *testing.T) {
	var applied []bool
	s := &DetailsSwitch{Apply: func(_ context.Context, refuse bool) error { applied = append(applied, refuse); return nil }}
	ctx := context.Background()
	for _, d := range []string{DriverBarePublic, DriverBarePublic, "bare", "gateway", DriverBarePublic} {
		if err := s.BeforePhase(ctx, d); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if err := s.Restore(ctx); err != nil {
		t.Fatal(err)
	}
	if want := []bool{false, true, false, true}; !reflect.DeepEqual(applied, want) {
		t.Fatalf("applied %v, want %v", applied, want)
	}
	boom := errors.New("boom")
	s = &DetailsSwitch{Apply: func(context.Context, bool) error { return boom }}
	if err := s.BeforePhase(ctx, "bare"); !errors.Is(err, boom) {
		t.Fatalf("error %v", err)
	}
}

// TestSetRefusePublicDetails: the file keeps everything but the switch, and the mode.
func TestSetRefusePublicDetails(t *testing.T) {
	n, err := network.New(demoDesc(t), network.Options{Root: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	want := n.ChaincodeConfig()
	b, err := json.MarshalIndent(want, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "chaincode-config.json")
	if err := os.WriteFile(path, b, 0o640); err != nil {
		t.Fatal(err)
	}
	for _, refuse := range []bool{false, true} {
		if err := SetRefusePublicDetails(path, refuse); err != nil {
			t.Fatal(err)
		}
		got, err := api.LoadChaincodeConfig(path)
		if err != nil {
			t.Fatal(err)
		}
		w := want
		w.Visibility.RefusePublicDetails = refuse
		if !reflect.DeepEqual(got, w) {
			t.Fatalf("refuse=%t: config %+v, want %+v", refuse, got, w)
		}
		if fi, err := os.Stat(path); err != nil || fi.Mode().Perm() != 0o640 {
			t.Fatalf("mode %v %v", fi.Mode(), err)
		}
	}
	if entries, _ := os.ReadDir(filepath.Dir(path)); len(entries) != 1 {
		t.Fatalf("left behind: %v", entries)
	}
	if err := SetRefusePublicDetails(filepath.Join(t.TempDir(), "missing.json"), true); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("missing file: %v", err)
	}
}
