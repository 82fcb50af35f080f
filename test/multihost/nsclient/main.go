// Command nsclient is the multi-host tests' client of one organisation's peer, run inside that
// organisation's network namespace with its bundle (test/multihost): it submits cases and records
// every acknowledged transaction, and checks that a peer holds every acknowledged transaction.
//
//	nsclient submit --root R --org X --channel C --for 20s --workers 2 --out acked.txt
//	nsclient check  --root R --org X --channel C --txids acked.txt [--wait 90s]
//	nsclient height --root R --org X --channel C
//	nsclient set-membership --root R --org X --channel C --topology D --endorsers A,B
//	                                   gov:SetMembership of D's membership as X's admin, endorsed by
//	                                   exactly A and B (as a coalition would), and its commit status
package main

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/hyperledger/fabric-gateway/pkg/client"
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/internal/fabricconn"
	"github.com/caseledger/caseledger/network"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "nsclient:", err)
		os.Exit(1)
	}
}

func run(args []string) error {
	if len(args) == 0 {
		return errors.New("usage: nsclient submit|check|height [flags]")
	}
	cmd, args := args[0], args[1:]
	fs := flag.NewFlagSet(cmd, flag.ContinueOnError)
	root := fs.String("root", "", "the organisation's bundle")
	org := fs.String("org", "", "organisation")
	channel := fs.String("channel", "", "channel")
	dur := fs.Duration("for", 10*time.Second, "submit: how long")
	workers := fs.Int("workers", 2, "submit: concurrent submitters")
	out := fs.String("out", "", "submit: file that receives one acknowledged transaction id per line")
	asRole := fs.String("role", "caseworker", "submit: sign as the org's identity with this role")
	via := fs.String("via", "", "submit: send to this other organisation's peer directly (its address and TLS CA from the description and the bundle's public material), as a member that bypasses its own peer would")
	endorsers := fs.String("endorsers", "", "submit: endorse by exactly these MSP ids (comma-separated); default: the gateway's choice")
	txids := fs.String("txids", "", "check: file of transaction ids")
	wait := fs.Duration("wait", 90*time.Second, "check: how long the peer may take to hold them all")
	topology := fs.String("topology", "", "set-membership: the description whose membership document is sent")
	if err := fs.Parse(args); err != nil {
		return err
	}
	desc, err := network.Load(filepath.Join(*root, "network.yaml"))
	if err != nil {
		return err
	}
	n, err := network.New(desc, network.Options{Root: *root, Orgs: []string{*org}})
	if err != nil {
		return err
	}
	c, err := n.Connection(*org)
	if err != nil {
		return err
	}
	if *via != "" {
		c.Peer = api.Endpoint{Address: desc.HostPort(desc.PortsOf(*via).Peer), TLSCACert: n.TLSCACert(*via)}
	}
	role := *asRole
	if cmd != "submit" {
		role = "admin"
	}
	gw, conn, err := fabricconn.Dial(c, role, fabricconn.Options{})
	if err != nil {
		return err
	}
	defer conn.Close()
	defer gw.Close()
	ctx := context.Background()
	switch cmd {
	case "submit":
		var only []string
		if *endorsers != "" {
			only = strings.Split(*endorsers, ",")
		}
		return submit(ctx, gw, c, *channel, *dur, *workers, *out, only)
	case "check":
		return check(ctx, gw, c, *channel, *txids, *wait)
	case "set-membership":
		return setMembership(ctx, gw, c, *channel, *topology, strings.Split(*endorsers, ","))
	case "height":
		h, err := height(ctx, gw, c, *channel)
		if err != nil {
			return err
		}
		fmt.Println(h)
		return nil
	}
	return fmt.Errorf("unknown command %q", cmd)
}

// submit registers cases for a while with a few workers. A transaction id is written only once
// its commit status is VALID (acknowledged); every failure is counted and printed.
func submit(ctx context.Context, gw *client.Gateway, c api.Connection, channel string, d time.Duration, workers int, out string, endorsers []string) error {
	f, err := os.OpenFile(out, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	defer f.Close()
	contract := gw.GetNetwork(channel).GetContract(c.Chaincode)
	var mu sync.Mutex
	acked, failed := 0, 0
	errs := map[string]int{}
	stop := time.Now().Add(d)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				txid, err := submitOne(ctx, contract, endorsers)
				// Like caseledger's gateway: a write invalidated by a conflict is endorsed again
				// (bounded); what counts is that the caller's write ends up on the ledger once.
				for try := 0; try < 3 && errors.Is(err, errInvalidated) && strings.Contains(err.Error(), "MVCC_READ_CONFLICT"); try++ {
					mu.Lock()
					errs["retried: "+firstLine(err)]++
					mu.Unlock()
					txid, err = submitOne(ctx, contract, endorsers)
				}
				mu.Lock()
				if err != nil {
					failed++
					errs[firstLine(err)]++
				} else {
					acked++
					fmt.Fprintln(f, txid)
				}
				mu.Unlock()
				if err != nil {
					time.Sleep(200 * time.Millisecond)
				}
			}
		}()
	}
	wg.Wait()
	fmt.Printf("acked %d failed %d\n", acked, failed)
	for e, k := range errs {
		fmt.Printf("  %d x %s\n", k, e)
	}
	return f.Sync()
}

func submitOne(ctx context.Context, contract *client.Contract, endorsers []string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	opts := []client.ProposalOption{client.WithArguments(uuid.NewString(), uuid.NewString(), time.Now().UTC().Format(time.DateOnly))}
	if len(endorsers) > 0 {
		opts = append(opts, client.WithEndorsingOrganizations(endorsers...))
	}
	p, err := contract.NewProposal(api.FnRegisterCase, opts...)
	if err != nil {
		return "", err
	}
	tx, err := p.EndorseWithContext(ctx)
	if err != nil {
		return "", fmt.Errorf("endorse: %w", err)
	}
	sub, err := tx.SubmitWithContext(ctx)
	if err != nil {
		return "", fmt.Errorf("submit: %w", err)
	}
	st, err := sub.StatusWithContext(ctx)
	if err != nil {
		return "", fmt.Errorf("commit status: %w", err)
	}
	if !st.Successful {
		return "", fmt.Errorf("%w %s", errInvalidated, st.Code)
	}
	return tx.TransactionID(), nil
}

// errInvalidated: the transaction was ordered but committed invalid (e.g. an MVCC conflict with a
// chaincode definition change that committed meanwhile): nothing was written, a new one may be sent.
var errInvalidated = errors.New("committed")

// check waits until the org's own peer holds every listed transaction as VALID.
func check(ctx context.Context, gw *client.Gateway, c api.Connection, channel, file string, wait time.Duration) error {
	b, err := os.ReadFile(file)
	if err != nil {
		return err
	}
	var ids []string
	sc := bufio.NewScanner(strings.NewReader(string(b)))
	for sc.Scan() {
		if s := strings.TrimSpace(sc.Text()); s != "" {
			ids = append(ids, s)
		}
	}
	qscc := gw.GetNetwork(channel).GetContract("qscc")
	deadline := time.Now().Add(wait)
	missing := ids
	for {
		var still []string
		for _, id := range missing {
			raw, err := qscc.EvaluateWithContext(ctx, "GetTransactionByID", client.WithArguments(channel, id), client.WithEndorsingOrganizations(c.MSPID))
			if err != nil {
				still = append(still, id)
				continue
			}
			var pt peer.ProcessedTransaction
			if err := proto.Unmarshal(raw, &pt); err != nil {
				return err
			}
			if pt.ValidationCode != int32(peer.TxValidationCode_VALID) {
				return fmt.Errorf("%s is on %s's peer as %s", id, c.Org, peer.TxValidationCode(pt.ValidationCode))
			}
		}
		missing = still
		if len(missing) == 0 || time.Now().After(deadline) {
			break
		}
		time.Sleep(time.Second)
	}
	h, _ := height(ctx, gw, c, channel)
	if len(missing) > 0 {
		return fmt.Errorf("%d of %d acknowledged transactions missing on %s's peer (height %d), e.g. %s", len(missing), len(ids), c.Org, h, missing[0])
	}
	fmt.Printf("all %d acknowledged transactions VALID on %s's peer, height %d\n", len(ids), c.Org, h)
	return nil
}

// setMembership sends gov:SetMembership with the membership document of the description at
// topology, endorsed by exactly the given organisations, and prints how it committed ("committed
// VALID" or "committed <code>"); an endorsement refusal is an error.
func setMembership(ctx context.Context, gw *client.Gateway, c api.Connection, channel, topology string, endorsers []string) error {
	d, err := network.Load(topology)
	if err != nil {
		return err
	}
	doc, err := api.MembershipDocument(d.Membership())
	if err != nil {
		return err
	}
	p, err := gw.GetNetwork(channel).GetContract(c.Chaincode).NewProposal(api.FnSetMembership,
		client.WithArguments(string(doc)), client.WithEndorsingOrganizations(endorsers...))
	if err != nil {
		return err
	}
	tx, err := p.EndorseWithContext(ctx)
	if err != nil {
		return fmt.Errorf("endorse: %s", firstLine(err))
	}
	sub, err := tx.SubmitWithContext(ctx)
	if err != nil {
		return fmt.Errorf("submit: %w", err)
	}
	st, err := sub.StatusWithContext(ctx)
	if err != nil {
		return fmt.Errorf("commit status: %w", err)
	}
	fmt.Printf("committed %s (endorsed by %s)\n", st.Code, strings.Join(endorsers, ","))
	return nil
}

// height asks the org's own peer (not whichever the gateway picks) for the channel's height.
func height(ctx context.Context, gw *client.Gateway, c api.Connection, channel string) (uint64, error) {
	raw, err := gw.GetNetwork(channel).GetContract("qscc").EvaluateWithContext(ctx, "GetChainInfo",
		client.WithArguments(channel), client.WithEndorsingOrganizations(c.MSPID))
	if err != nil {
		return 0, err
	}
	var info common.BlockchainInfo
	if err := proto.Unmarshal(raw, &info); err != nil {
		return 0, err
	}
	return info.Height, nil
}

// firstLine is the error's first line and the first endorser's reason (gateway.ErrorDetail).
func firstLine(err error) string {
	s, _, _ := strings.Cut(err.Error(), "\n")
	if st, ok := status.FromError(err); ok {
		for _, d := range st.Details() {
			if m, ok := d.(interface{ GetMessage() string }); ok {
				s += " | " + m.GetMessage()
				break
			}
		}
	}
	if len(s) > 400 {
		s = s[:400]
	}
	return s
}
