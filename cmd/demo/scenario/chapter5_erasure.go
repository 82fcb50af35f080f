package scenario

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/client"
	"github.com/caseledger/caseledger/client/progress"
	"github.com/caseledger/caseledger/client/render"
	"github.com/caseledger/caseledger/domain"
)

// Chapter 5: erasure of case B by every holding agency.

func (s *scenario) erasure(ctx context.Context) error {
	s.section("5. Erasure of case B, requested by the asylum office and carried out by every holding agency")
	r := s.refs
	res, err := s.ao.c.RequestErasure(ctx, api.ErasureRequest{CaseRef: api.CaseRef{Channel: "national", LocalRef: r.aoB}, OccurredOn: s.cal.ago(0)})
	if err != nil {
		return stepErr("request erasure", err)
	}
	targets := map[string]string{}
	for _, it := range res.Items {
		if !it.Requested {
			return fmt.Errorf("erasure not requested on %s: %+v", it.Channel, it.Problem)
		}
		s.did(s.ao, *it.Result, "")
		targets[it.Channel] = it.Pseudonym
	}
	if targets["national"] != s.rep.CaseB.National || targets["dublin"] != s.rep.CaseB.Dublin {
		return fmt.Errorf("erasure covered %v, want national and linked Dublin case", targets)
	}
	s.say("the request covers the linked Dublin case too (the asylum office's privacy service knows the link);")
	s.say("each holder's gateway sees ERASURE_REQUESTED, destroys its mapping and keys on that channel only, and confirms on the ledger")
	line := progress.Start(s.prog, "waiting for every holding agency to erase and confirm")
	wctx, cancel := s.wait(ctx)
	defer cancel()
	seen := 0
	for {
		var sts []api.ErasureStatus
		done := true
		var status []string
		for _, ch := range []string{"national", "dublin"} {
			st, err := s.aud.c.ErasureStatus(wctx, api.CaseRef{Channel: ch, Pseudonym: targets[ch]})
			if err != nil {
				line.Fail("%v", err)
				return stepErr("erasure status", err)
			}
			sts = append(sts, st)
			done = done && st.Complete
			status = append(status, fmt.Sprintf("%s %d/%d", ch, len(st.Confirmed), len(st.Confirmed)+len(st.Pending)))
		}
		line.Status("confirmed %s", strings.Join(status, ", "))
		if done {
			s.rep.CaseB.Erasures = sts
			line.Done("%s", strings.Join(status, ", "))
			break
		}
		// Wait for the next confirmation on the auditor's stream.
		n := 0
		_, err := s.feeds[s.aud.org].wait(wctx, func(ev api.EventView) bool {
			if ev.Code == string(domain.EvErasureConfirmed) && (ev.Pseudonym == targets["national"] || ev.Pseudonym == targets["dublin"]) {
				n++
			}
			return n > seen
		})
		if err != nil {
			line.Fail("%v", err)
			return stepErr("erasure confirmations", err)
		}
		seen++
	}
	for _, st := range s.rep.CaseB.Erasures {
		s.say("%-8s case %s: confirmed by %s on %s", channelOf(st, targets), render.Short(st.Pseudonym), strings.Join(st.Confirmed, ", "), st.CompletedOn)
	}
	// Every holder confirmed after erasing its own mapping on that channel
	// (binding made each agency a holder).
	for _, x := range []struct {
		a       actor
		ch, ref string
	}{{s.bp, "national", r.bpB}, {s.ao, "national", r.aoB}, {s.aoDU, "dublin", r.aoDublinB}, {s.ps, "dublin", r.psB}} {
		if err := s.gone(wctx, x.a, x.ch, x.ref); err != nil {
			return err
		}
	}
	return nil
}

func channelOf(st api.ErasureStatus, targets map[string]string) string {
	for ch, p := range targets {
		if p == st.Pseudonym {
			return ch
		}
	}
	return "?"
}

// gone waits until an agency's reference no longer resolves.
func (s *scenario) gone(ctx context.Context, a actor, channel, ref string) error {
	for {
		_, err := a.c.Case(ctx, api.CaseRef{Channel: channel, LocalRef: ref})
		switch {
		case client.CodeOf(err) == api.CodeUnknownLocalRef:
			s.say("✔ %-30s %s no longer resolves: %s", a, ref, client.CodeOf(err))
			return nil
		case err != nil && !errors.Is(err, client.ErrUnavailable):
			return stepErr(fmt.Sprintf("%s looks up %s", a, ref), err)
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%s still resolves %s after the erasure: %w", a, ref, ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}
