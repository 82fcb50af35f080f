package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/caseledger/caseledger/domain/deadline"
)

type options struct {
	configPath string
	unverified bool
	json       bool
	notes      bool
}

// loadConfig reads a strict JSON Config, or returns the defaults.
func loadConfig(path string) (deadline.Config, error) {
	if path == "" {
		return deadline.DefaultConfig(), nil
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return deadline.Config{}, fmt.Errorf("read config: %w", err)
	}
	var cfg deadline.Config
	if err := json.Unmarshal(b, &cfg); err != nil {
		return deadline.Config{}, fmt.Errorf("config %s: %w", path, err)
	}
	return cfg, nil
}

func selectRows(opts options, cfg deadline.Config) []deadline.Rule {
	if opts.unverified {
		return deadline.Unverified(cfg)
	}
	var rows []deadline.Rule
	for _, r := range deadline.Regimes() {
		rows = append(rows, deadline.Rules(r, cfg)...)
	}
	return rows
}

func render(w io.Writer, opts options) error {
	cfg, err := loadConfig(opts.configPath)
	if err != nil {
		return err
	}
	rows := selectRows(opts, cfg)
	if opts.json {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(struct {
			Config deadline.Config `json:"config"`
			Rules  []deadline.Rule `json:"rules"`
		}{cfg, rows})
	}
	fmt.Fprintf(w, "AMMR switch %s (switch day itself: %s); pending Dublin III cases after the switch: %s\n\n",
		cfg.AMMRSwitchDate, cfg.SwitchDayRegime, cfg.PendingProcedure)
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "REGIME\tARTICLE\tSTEP\tPERIOD\tRUNS FROM\tON SILENCE/LAPSE\tFLAG\tCONSEQ. FLAG\tCONFIGURABLE")
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n",
			r.Regime, r.Article, r.Step, periodText(r), r.RunsFrom, r.OnSilenceOrLapse,
			r.Verification.Short(), r.ConsequenceVerification.Short(), configurableText(r))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if opts.notes {
		// Notes go below the table: long cells would wreck the alignment.
		fmt.Fprintln(w, "\nNOTES")
		for _, r := range rows {
			fmt.Fprintf(w, "%s %s (%s): %s\n", r.Regime, r.Step, r.Article, strings.ReplaceAll(r.Note, "\n", " "))
		}
	}
	return nil
}

func periodText(r deadline.Rule) string {
	if r.MinPeriod.IsZero() {
		return r.Period.String()
	}
	return r.MinPeriod.String() + ".." + r.Period.String()
}

func configurableText(r deadline.Rule) string {
	switch {
	case !r.Configurable:
		return "no"
	case r.Overridden:
		return "yes (overridden)"
	}
	return "yes"
}
