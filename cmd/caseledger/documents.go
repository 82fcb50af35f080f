package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// Documents: anchor a document's keyed hash on a case, verify one against the anchors.

func documentCommands() []command {
	return []command{
		{name: "anchor", args: "--channel C (--ref R | --pseudonym P) --file F [--type T] [--date D]",
			summary: "anchor a document's keyed hash on a case (the document stays with you)", setup: setupAnchor},
		{name: "verify", args: "--channel C (--ref R | --pseudonym P) --file F",
			summary: "check a document against a case's anchors (exit 5 if not anchored)", setup: setupVerify},
	}
}

// maxDocument mirrors the gateway's document body limit (base64 inflates by 4/3).
const maxDocument = 8 << 20

func readDocument(path string) ([]byte, error) {
	if path == "" {
		return nil, usagef("--file is required")
	}
	var r io.Reader
	if path == "-" {
		r = os.Stdin
	} else {
		f, err := os.Open(path)
		if err != nil {
			return nil, usagef("--file: %v", err)
		}
		defer f.Close()
		r = f
	}
	b, err := io.ReadAll(io.LimitReader(r, maxDocument+1))
	if err != nil {
		return nil, usagef("--file: %v", err)
	}
	if len(b) > maxDocument {
		return nil, usagef("--file: larger than %d MiB", maxDocument>>20)
	}
	if len(b) == 0 {
		return nil, usagef("--file: empty")
	}
	return b, nil
}

func setupAnchor(fs *flag.FlagSet) runner {
	var sel caseSel
	sel.register(fs)
	file := fs.String("file", "", "the document ('-' = standard input; required)")
	typ := fs.String("type", "", "APPLICATION, HEARING_MINUTES, DECISION, APPEAL_RULING, DUBLIN_REQUEST, DUBLIN_REPLY, TRANSFER_DECISION, OTHER")
	date := dateFlag(fs)
	key := idemFlag(fs)
	return func(ctx context.Context, a *app, _ []string) error {
		ref, err := sel.caseRef()
		if err != nil {
			return err
		}
		doc, err := readDocument(*file)
		if err != nil {
			return err
		}
		c, err := a.connect()
		if err != nil {
			return err
		}
		req := api.AnchorRequest{CaseRef: ref, Document: doc, DocumentType: domain.DocumentType(*typ)}
		if req.OccurredOn, err = a.dateOr(ctx, *date); err != nil {
			return err
		}
		res, err := c.Anchor(ctx, req, writeOpts(*key)...)
		if err != nil {
			return err
		}
		return a.print(res, func(w io.Writer) {
			render.Write(w, res.WriteResponse)
			fmt.Fprintf(w, "document hash (HMAC under the case's key, kept by your privacy service): %s\n", res.DocumentHash)
		})
	}
}

func setupVerify(fs *flag.FlagSet) runner {
	var sel caseSel
	sel.register(fs)
	file := fs.String("file", "", "the document ('-' = standard input; required)")
	return func(ctx context.Context, a *app, _ []string) error {
		ref, err := sel.caseRef()
		if err != nil {
			return err
		}
		doc, err := readDocument(*file)
		if err != nil {
			return err
		}
		c, err := a.connect()
		if err != nil {
			return err
		}
		v, err := c.Verify(ctx, api.VerifyRequest{CaseRef: ref, Document: doc})
		if err != nil {
			return err
		}
		if err := a.print(v, func(w io.Writer) {
			if !v.Anchored {
				fmt.Fprintf(w, "NOT anchored on this case (hash %s): the document differs from every anchored one\n", v.DocumentHash)
				return
			}
			an := v.Anchor
			if an == nil {
				fmt.Fprintf(w, "anchored (hash %s)\n", v.DocumentHash)
				return
			}
			fmt.Fprintf(w, "anchored: %s by %s, occurred %s, recorded %s, tx %s (hash %s)\n", orDash(string(an.DocumentType)), an.MSPID,
				an.OccurredOn, an.RecordedOn, render.Short(an.TxID), v.DocumentHash)
		}); err != nil {
			return err
		}
		if !v.Anchored {
			return fmt.Errorf("%w: document not anchored", errCheckFailed)
		}
		return nil
	}
}
