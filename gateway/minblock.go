package gateway

import (
	"context"
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

// Reading another agency's write at once. A write's answer names the block
// that holds it (blockNumber). Another agency's gateway endorses with its
// own peer, which may not have committed that block yet: the next step of a
// hand-over sent within a block time of the previous one would then be
// refused (INVALID_TRANSITION, NOT_FOUND) by a peer that has not seen it.
// A client that hands over at once passes the block it depends on,
//
//	Caseledger-Min-Block: 42
//
// and the gateway waits (at most MinBlockWait) until its peer has committed
// that block on the request's channel before it reads or endorses. Agency
// systems that react to the gateway's own event stream need no hint: an
// event arrives only after the peer committed its block.

// DefaultMinBlockWait bounds the wait for the peer to reach a Min-Block.
const DefaultMinBlockWait = 10 * time.Second

// parseMinBlock reads the header (0 and false when absent).
func parseMinBlock(r *http.Request) (uint64, *api.Problem) {
	v := r.Header.Get(api.HeaderMinBlock)
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseUint(v, 10, 63)
	if err != nil {
		return 0, problemf(string(domain.KindInvalidArgument), "%s: a block number (decimal)", api.HeaderMinBlock)
	}
	return n, nil
}

// heights remembers, per channel, a height the agency's peer is known to
// have reached (blocks below it are committed there).
type heights struct {
	mu sync.Mutex
	h  map[string]uint64
}

func (hs *heights) get(channel string) uint64 {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	return hs.h[channel]
}

// saw records that the peer has committed block b.
func (hs *heights) saw(channel string, b uint64) {
	hs.mu.Lock()
	defer hs.mu.Unlock()
	if hs.h == nil {
		hs.h = map[string]uint64{}
	}
	if b+1 > hs.h[channel] {
		hs.h[channel] = b + 1
	}
}

// awaitMinBlock waits for the block the request named, if any.
func (c *call) awaitMinBlock(channel string) error {
	if c.minBlock == 0 { // block 0 is the channel's genesis: always there
		return nil
	}
	return c.s.awaitBlock(c.ctx, channel, c.minBlock)
}

// awaitBlock returns once the peer has committed block b of channel, asking
// the peer for its height every pollEvery while it has not.
func (s *Server) awaitBlock(ctx context.Context, channel string, b uint64) error {
	if b < s.heights.get(channel) {
		return nil
	}
	ctx, cancel := context.WithTimeout(ctx, s.cfg.MinBlockWait)
	defer cancel()
	const pollEvery = 50 * time.Millisecond
	for {
		h, _, err := s.ledger.ChainInfo(ctx, channel)
		if err == nil && h > 0 {
			s.heights.saw(channel, h-1)
		}
		if b < s.heights.get(channel) {
			return nil
		}
		select {
		case <-ctx.Done():
			return problemf(api.CodeLedgerBehind, "the agency's peer has not committed block %d of %s yet (height %d)", b, channel, s.heights.get(channel))
		case <-time.After(pollEvery):
		}
	}
}
