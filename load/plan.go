package load

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/network"
)

// ErrUnknownDriver is returned for a driver name the plan does not know.
var ErrUnknownDriver = errors.New("unknown driver")

// DriverFactory builds a named driver for the network rooted at root.
type DriverFactory func(ctx context.Context, name, root string, desc network.Description) (Driver, error)

// Plan is a whole load-tool session: every driver at every concurrency level against one
// running network, in the same run, with the same mix and bounds.
type Plan struct {
	Root    string
	Drivers []string // run in this order at each level, e.g. "bare", "gateway"
	Workers []int    // concurrency levels
	// Rounds repeats the whole sequence (every level, every driver). Even rounds run the
	// drivers in reverse order (bare, gateway | gateway, bare | …), so that with an even
	// number of rounds each driver sits as often early as late: a network that slows down
	// as its ledger grows, or a machine whose speed drifts, then biases neither. Default 1.
	Rounds      int
	Run         Config // bounds per phase (Workers is taken from the list)
	Mix         Mix
	Verify      bool          // check every acknowledged write against the ledger after each phase
	SampleEvery time.Duration // process sampling interval
	Pause       time.Duration // quiet time between phases, so one phase's tail does not load the next
	NewDriver   DriverFactory // nil: only "bare"
	// BeforePhase, if set, is called before each phase with its driver's name (outside the
	// phase's measurement), e.g. to configure the network for that driver (DetailsSwitch).
	BeforePhase func(ctx context.Context, driver string) error
	Log         *slog.Logger
	Out         io.Writer
}

// Outcome is what a plan produced.
type Outcome struct {
	Results       []*Result
	Ratios        []Ratio
	Verifications []Verification
}

// Execute runs the plan. It stops early (returning what it has) when ctx is cancelled.
func (p Plan) Execute(ctx context.Context) (Outcome, error) {
	var out Outcome
	if len(p.Drivers) == 0 || len(p.Workers) == 0 {
		return out, errors.New("plan needs at least one driver and one concurrency level")
	}
	if p.Log == nil {
		p.Log = slog.New(slog.DiscardHandler)
	}
	if p.Out == nil {
		p.Out = io.Discard
	}
	if p.SampleEvery <= 0 {
		p.SampleEvery = time.Second
	}
	desc, err := network.Load(filepath.Join(p.Root, "network.yaml"))
	if err != nil {
		return out, fmt.Errorf("network under %s (is it up?): %w", p.Root, err)
	}
	conns, err := LoadConnections(p.Root)
	if err != nil {
		return out, err
	}
	bare, err := NewBare(conns, DefaultStageTimeouts())
	if err != nil {
		return out, err
	}
	defer bare.Close()
	drivers := map[string]Driver{"bare": bare}
	for _, name := range p.Drivers {
		if _, ok := drivers[name]; ok {
			continue
		}
		if p.NewDriver == nil {
			return out, fmt.Errorf("%w %q", ErrUnknownDriver, name)
		}
		d, err := p.NewDriver(ctx, name, p.Root, desc)
		if err != nil {
			return out, fmt.Errorf("driver %s: %w", name, err)
		}
		defer d.Close()
		drivers[name] = d
	}
	runID := uuid.NewString()[:8]
	phase := 0
	for round := 1; round <= max(1, p.Rounds); round++ {
		for _, workers := range p.Workers {
			for _, name := range roundOrder(p.Drivers, round) {
				if ctx.Err() != nil {
					return out, ctx.Err()
				}
				phase++
				w, err := NewWorkload(desc, p.Mix, fmt.Sprintf("%s-%d", runID, phase), time.Now)
				if err != nil {
					return out, err
				}
				cfg := p.Run
				cfg.Workers = workers
				if p.BeforePhase != nil {
					if err := p.BeforePhase(ctx, name); err != nil {
						return out, err
					}
				}
				p.Log.Info("phase", "round", round, "driver", name, "workers", workers, "maxOps", cfg.MaxOps, "duration", cfg.Duration)
				sampler := NewSampler(p.Root, "/proc", Proc{Name: "loadgen (this process)", PID: os.Getpid()})
				sampler.Start(p.SampleEvery)
				res, err := Run(ctx, drivers[name], w, cfg)
				procs := sampler.Stop()
				machine := sampler.Machine()
				if err != nil {
					return out, err
				}
				res.Procs = procs
				res.Round = round
				res.MachineCores = machine
				if rc, ok := drivers[name].(interface{ TakeRetries() map[string]int }); ok {
					res.Retries = rc.TakeRetries()
				}
				res.Print(p.Out)
				out.Results = append(out.Results, res)
				if p.Verify {
					v, err := Verify(context.WithoutCancel(ctx), bare, w.Reader(), w.Channels(), res.Cases)
					if err != nil {
						return out, fmt.Errorf("verify %s at %d workers: %w", name, workers, err)
					}
					v.Print(p.Out)
					out.Verifications = append(out.Verifications, v)
				}
				select {
				case <-ctx.Done():
				case <-time.After(p.Pause):
				}
			}
		}
	}
	// Every other driver is compared with the bare client, the reference.
	for _, of := range p.Drivers {
		if of != "bare" {
			out.Ratios = append(out.Ratios, Ratios(out.Results, of, "bare")...)
		}
	}
	PrintSummary(p.Out, out.Results, out.Ratios)
	return out, nil
}

// roundOrder is the drivers' order in a round: as given in odd rounds, reversed in even ones.
func roundOrder(drivers []string, round int) []string {
	if round%2 == 1 {
		return drivers
	}
	r := slices.Clone(drivers)
	slices.Reverse(r)
	return r
}

// Print writes the verification's outcome.
func (v Verification) Print(w io.Writer) {
	state := "OK"
	if !v.OK() {
		state = "FAILED"
	}
	fmt.Fprintf(w, "ledger check %s: %d of %d acknowledged writes on the ledger exactly once (%d cases; %d unacknowledged writes stored; %d steps the gateways recorded by themselves; blocks scanned %v)\n",
		state, v.OnLedger, v.AckedWrites, v.Cases, v.UnackedStored, v.Automatic, v.BlocksScanned)
	for _, p := range v.Problems {
		fmt.Fprintln(w, "  ", p)
	}
}

// NewDriver is the DriverFactory of the load tool: "bare" is built by the plan itself.
func NewDriver(ctx context.Context, name, root string, desc network.Description) (Driver, error) {
	switch name {
	case "bare":
		conns, err := LoadConnections(root)
		if err != nil {
			return nil, err
		}
		return NewBare(conns, DefaultStageTimeouts())
	case DriverBarePublic:
		conns, err := LoadConnections(root)
		if err != nil {
			return nil, err
		}
		return NewBarePublic(conns, DefaultStageTimeouts())
	case "gateway":
		apis, err := LoadAPIInfos(root)
		if err != nil {
			return nil, err
		}
		return NewGateway(apis, GatewayOptions{Retry: true})
	}
	return nil, fmt.Errorf("%w %q (known: bare, bare-public, gateway)", ErrUnknownDriver, name)
}
