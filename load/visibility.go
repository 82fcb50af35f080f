package load

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/network"
)

// DriverBarePublic is the bare driver as clients wrote before the visibility policy (issue 15):
// every detail a public argument, no transient map, so no private data is written and no
// collection-level endorsement applies. It is the "before" of docs/performance.md's comparison
// and is refused by the generated chaincode configuration: its phases run with
// visibility.refusePublicDetails=false (DetailsSwitch).
const DriverBarePublic = "bare-public"

// eventArgs is what the bare driver sends for an event on a channel of procedure p: with
// public, the whole payload and no details; else Split's parts.
func eventArgs(e Event, p domain.Procedure, public bool) (payload string, details []byte, err error) {
	if public {
		return e.Payload(), nil, nil
	}
	return e.Split(p)
}

// NeedsPublicDetails is the chaincode setting a phase of the named driver needs:
// refusePublicDetails off for DriverBarePublic, the generated configuration (on) for any other.
func NeedsPublicDetails(driver string) bool { return driver == DriverBarePublic }

// DetailsSwitch sets the chaincode servers' refusePublicDetails before each phase of a plan
// (Plan.BeforePhase), so that "before" (DriverBarePublic) and "after" (bare, gateway) phases can
// alternate on one network. It restarts the servers only when the setting changes.
type DetailsSwitch struct {
	// Apply writes the setting (refuse) and restarts what reads it.
	Apply func(ctx context.Context, refuse bool) error
	Log   *slog.Logger
	set   bool
	cur   bool
}

// BeforePhase implements Plan.BeforePhase.
func (s *DetailsSwitch) BeforePhase(ctx context.Context, driver string) error {
	refuse := !NeedsPublicDetails(driver)
	if s.set && s.cur == refuse {
		return nil
	}
	start := time.Now()
	if err := s.Apply(ctx, refuse); err != nil {
		return fmt.Errorf("chaincode refusePublicDetails=%t: %w", refuse, err)
	}
	s.set, s.cur = true, refuse
	if s.Log != nil {
		s.Log.Info("chaincode servers restarted", "refusePublicDetails", refuse, "elapsed", time.Since(start).Round(time.Millisecond))
	}
	return nil
}

// Restore puts the generated setting (refuse) back if a phase changed it.
func (s *DetailsSwitch) Restore(ctx context.Context) error {
	if !s.set || s.cur {
		return nil
	}
	return s.BeforePhase(ctx, "bare")
}

// NewNetworkDetailsSwitch switches the chaincode servers of n (every organisation running on this
// machine): it rewrites the chaincode configuration file they load at start and restarts them.
func NewNetworkDetailsSwitch(n *network.Network, log *slog.Logger) *DetailsSwitch {
	return &DetailsSwitch{Log: log, Apply: func(ctx context.Context, refuse bool) error {
		if err := SetRefusePublicDetails(n.ChaincodeConfigPath(), refuse); err != nil {
			return err
		}
		for _, o := range n.Description().Orgs {
			if !n.Local(o.Name) {
				continue
			}
			if err := n.Supervisor().Stop(network.ChaincodeNode(o.Name), 10*time.Second); err != nil {
				return err
			}
			if err := n.StartChaincodeServer(ctx, o.Name); err != nil {
				return err
			}
		}
		return nil
	}}
}

// SetRefusePublicDetails rewrites the chaincode configuration file at path with
// visibility.refusePublicDetails set to refuse and everything else as it was (atomically: a
// server starting meanwhile reads the old or the new file, never half of one).
func SetRefusePublicDetails(path string, refuse bool) error {
	cfg, err := api.LoadChaincodeConfig(path)
	if err != nil {
		return err
	}
	cfg.Visibility.RefusePublicDetails = refuse
	b, err := json.MarshalIndent(cfg, "", "  ")
	if err != nil {
		return err
	}
	fi, err := os.Stat(path)
	if err != nil {
		return err
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), ".chaincode-config-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(b); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(fi.Mode().Perm()); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}
