// Command dublinrules prints the Dublin deadline rule tables (Dublin III,
// AMMR, AMMR crisis derogations) with article, period, start, consequence
// and verification flag, for legal review.
//
//	dublinrules [--config file.json] [--unverified] [--json] [--notes]
package main

import (
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	if err := run(os.Args[1:], os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "dublinrules:", err)
		os.Exit(2)
	}
}

func run(args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("dublinrules", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var opts options
	fs.StringVar(&opts.configPath, "config", "", "JSON `file` with a deadline.Config (default: built-in defaults)")
	fs.BoolVar(&opts.unverified, "unverified", false, "list only the configurable rows (flagged M or NOT VERIFIED)")
	fs.BoolVar(&opts.json, "json", false, "print JSON instead of a text table")
	fs.BoolVar(&opts.notes, "notes", false, "print each row's note (quote, source, caveats) under it")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	return render(stdout, opts)
}
