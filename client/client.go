// Package client is a typed Go client for an agency gateway's /v1 API
// (gateway/openapi.yaml). It is what agency systems, the caseledger command
// line and the demo use: HTTPS with a bearer token, an Idempotency-Key on
// every write (retried with the same key when the outcome is unknown),
// problem+json errors as *Problem, and the event stream with resume.
//
// The request and response types are those of package api, which the
// gateway answers with too, so the client cannot drift from the server; the
// client links none of the server (no Fabric, gRPC, Badger or Prometheus:
// make check holds it to that). See the examples: connect, record an event,
// follow the event stream.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/google/uuid"

	"github.com/caseledger/caseledger/api"
)

// Sentinel errors. Every error the client returns wraps at most one of
// them; check with errors.Is.
var (
	// ErrUnauthenticated: the token is missing, unknown or revoked (401).
	ErrUnauthenticated = errors.New("unauthenticated")
	// ErrForbidden: the caller's agency or role may not do this (403).
	ErrForbidden = errors.New("forbidden")
	// ErrNotFound: the case, local reference or route does not exist (404).
	ErrNotFound = errors.New("not found")
	// ErrRefused: the ledger or the API refused the request for good (any
	// other 4xx: invalid argument, invalid transition, deadline passed …).
	ErrRefused = errors.New("refused")
	// ErrUnavailable: the gateway, its peer or its privacy service could not
	// be reached or could not finish (5xx, transport failures). Writes are
	// safe to retry with the same Idempotency-Key.
	ErrUnavailable = errors.New("unavailable")
	// ErrConfig: the client's configuration is incomplete or unreadable.
	ErrConfig = errors.New("client configuration")
)

// Problem is a problem+json answer of the gateway (RFC 9457 with a stable
// Code): the wire's one problem type, api.Problem. The client fills in its
// Status from the HTTP status and its RetryAfter from the Retry-After header;
// find it with errors.As(err, &p) where p is a *Problem.
type Problem = api.Problem

// problemError is how the client returns a Problem: errors.As finds the
// *Problem, errors.Is the sentinel of its class, RequestID the gateway's
// X-Request-Id of the answer.
type problemError struct {
	p         *Problem
	requestID string
}

func (e *problemError) Error() string {
	msg := e.p.Title
	if e.p.Detail != "" {
		msg = e.p.Detail
	}
	return fmt.Sprintf("%s (%d %s): %s", e.p.Code, e.p.Status, http.StatusText(e.p.Status), msg)
}

func (e *problemError) Unwrap() error { return e.p }

// Is maps the problem's status to the sentinel errors.
func (e *problemError) Is(target error) bool {
	p := e.p
	switch target {
	case ErrUnauthenticated:
		return p.Status == http.StatusUnauthorized
	case ErrForbidden:
		return p.Status == http.StatusForbidden
	case ErrNotFound:
		return p.Status == http.StatusNotFound
	case ErrRefused:
		return p.Status >= 400 && p.Status < 500 && p.Status != http.StatusUnauthorized &&
			p.Status != http.StatusForbidden && p.Status != http.StatusNotFound && !transient(p)
	case ErrUnavailable:
		return p.Status >= 500 || transient(p)
	}
	return false
}

// transient problems are worth retrying with the same Idempotency-Key.
func transient(p *Problem) bool {
	return p.Status >= 500 || p.Code == api.CodeRequestInProgress || p.Status == http.StatusTooManyRequests
}

// RequestID is the gateway's X-Request-Id of the answer err carries (its
// logs name it; "" when err is no answer of the gateway or had none).
func RequestID(err error) string {
	var e *problemError
	if errors.As(err, &e) {
		return e.requestID
	}
	return ""
}

// CodeOf returns the problem code of err ("" when err is not a *Problem).
func CodeOf(err error) string {
	var p *Problem
	if errors.As(err, &p) {
		return p.Code
	}
	return ""
}

// TransportError is a failure to reach the gateway or read its answer.
type TransportError struct {
	Op  string
	Err error
}

func (e *TransportError) Error() string { return e.Op + ": " + e.Err.Error() }
func (e *TransportError) Unwrap() error { return e.Err }

// Is makes every transport error an ErrUnavailable.
func (e *TransportError) Is(target error) bool { return target == ErrUnavailable }

// Config configures a Client.
type Config struct {
	// BaseURL is the gateway, e.g. https://127.0.0.1:7189 (no /v1).
	BaseURL string
	// Token is the bearer API token (clg_…).
	Token string
	// CAFile is a PEM file of the CA that signed the gateway's certificate
	// (ignored when HTTPClient is set; empty: the system roots).
	CAFile string
	// HTTPClient replaces the default client (tests, custom transports).
	HTTPClient *http.Client
	// Retries bounds automatic retries of transient failures (0: 4;
	// negative: none). Writes are retried with the same Idempotency-Key.
	Retries int
	// RetryWait is the first wait between retries, doubled each time (0: 250ms);
	// a Retry-After from the gateway takes precedence.
	RetryWait time.Duration
	// UserAgent is sent with every request.
	UserAgent string
}

// Client calls one gateway as one token (one agency, one role).
type Client struct {
	base    *url.URL
	token   string
	hc      *http.Client
	retries int
	wait    time.Duration
	ua      string
	// minBlock, if set, is sent as Caseledger-Min-Block (AfterBlock).
	minBlock uint64
}

// New builds a client.
func New(cfg Config) (*Client, error) {
	if cfg.BaseURL == "" {
		return nil, fmt.Errorf("%w: gateway URL required", ErrConfig)
	}
	u, err := url.Parse(strings.TrimRight(cfg.BaseURL, "/"))
	if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
		return nil, fmt.Errorf("%w: gateway URL must be http(s)://host[:port]", ErrConfig)
	}
	hc := cfg.HTTPClient
	if hc == nil {
		tlsCfg := &tls.Config{MinVersion: tls.VersionTLS12}
		if cfg.CAFile != "" {
			pem, err := os.ReadFile(cfg.CAFile)
			if err != nil {
				return nil, fmt.Errorf("%w: CA file: %w", ErrConfig, err)
			}
			pool := x509.NewCertPool()
			if !pool.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("%w: CA file %s holds no PEM certificate", ErrConfig, cfg.CAFile)
			}
			tlsCfg.RootCAs = pool
		}
		tr := http.DefaultTransport.(*http.Transport).Clone()
		tr.TLSClientConfig = tlsCfg
		tr.ForceAttemptHTTP2 = true
		// No overall timeout: event streams are long-lived; calls use ctx.
		hc = &http.Client{Transport: tr}
	}
	retries := cfg.Retries
	switch {
	case retries == 0:
		retries = 4
	case retries < 0:
		retries = 0
	}
	wait := cfg.RetryWait
	if wait <= 0 {
		wait = 250 * time.Millisecond
	}
	ua := cfg.UserAgent
	if ua == "" {
		ua = "caseledger-client/1"
	}
	return &Client{base: u, token: cfg.Token, hc: hc, retries: retries, wait: wait, ua: ua}, nil
}

// BaseURL is the gateway's address.
func (c *Client) BaseURL() string { return c.base.String() }

// CloseIdleConnections releases pooled connections.
func (c *Client) CloseIdleConnections() { c.hc.CloseIdleConnections() }

// WriteOption adjusts one write.
type WriteOption func(*writeOpts)

type writeOpts struct{ key string }

// WithIdempotencyKey sets the write's Idempotency-Key (default: a fresh
// random UUID per call). Reuse a key to retry a write whose outcome you did
// not learn: the gateway answers with the first outcome.
func WithIdempotencyKey(key string) WriteOption { return func(o *writeOpts) { o.key = key } }

// AfterBlock returns a client whose calls depend on block n of the case's
// channel: the gateway reads or endorses only once its own peer has
// committed it (header Caseledger-Min-Block; 503 LEDGER_BEHIND, retried like
// any 503, if the peer does not get there in time). Use the blockNumber of a
// write made through another agency's gateway when you act on it at once.
// The two clients share their connections; c itself is unchanged.
func (c *Client) AfterBlock(n uint64) *Client {
	cc := *c
	cc.minBlock = n
	return &cc
}

// NewIdempotencyKey draws a fresh key.
func NewIdempotencyKey() string { return uuid.NewString() }

// request is one API call.
type request struct {
	method string
	path   string
	query  url.Values
	body   any
	write  bool
	key    string
}

// do runs a call with retries and decodes a 2xx JSON answer into out.
func (c *Client) do(ctx context.Context, rq request, out any) error {
	var body []byte
	if rq.body != nil {
		b, err := json.Marshal(rq.body)
		if err != nil {
			return fmt.Errorf("encode request: %w", err)
		}
		body = b
	}
	if rq.write && rq.key == "" {
		rq.key = NewIdempotencyKey()
	}
	wait := c.wait
	for attempt := 0; ; attempt++ {
		err := c.once(ctx, rq, body, out)
		if err == nil || attempt >= c.retries || !retryable(rq, err) {
			return err
		}
		d := wait
		var p *Problem
		if errors.As(err, &p) && p.RetryAfter > 0 {
			d = time.Duration(p.RetryAfter) * time.Second
		}
		wait *= 2
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return err
		case <-t.C:
		}
	}
}

// retryable: transient failures. A write is retried with the same key, which
// the gateway turns into "the first outcome", never a second transaction.
// A read is always safe to repeat.
func retryable(rq request, err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	var te *TransportError
	if errors.As(err, &te) {
		return true
	}
	var p *Problem
	if !errors.As(err, &p) || !transient(p) {
		return false
	}
	switch p.Code {
	case api.CodeCommitFailed, api.CodeEndorserClockSkew, api.CodeEndorsersDisagree:
		// Nothing a retry at once cures: an invalidated transaction, an
		// endorser's clock that has been off for a while, endorsers that
		// disagree at the same height. A later retry with the same key is
		// still safe.
		return false
	}
	return true
}

func (c *Client) once(ctx context.Context, rq request, body []byte, out any) error {
	req, err := c.newRequest(ctx, rq, body)
	if err != nil {
		return err
	}
	resp, err := c.hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return &TransportError{Op: rq.method + " " + rq.path, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		return readProblem(resp)
	}
	if out == nil {
		_, _ = io.Copy(io.Discard, resp.Body)
		return nil
	}
	switch o := out.(type) {
	case *[]byte:
		b, err := io.ReadAll(io.LimitReader(resp.Body, 32<<20))
		if err != nil {
			return &TransportError{Op: "read " + rq.path, Err: err}
		}
		*o = b
		return nil
	}
	if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
		if errors.Is(err, io.ErrUnexpectedEOF) || isNetErr(err) {
			return &TransportError{Op: "read " + rq.path, Err: err}
		}
		return fmt.Errorf("decode answer of %s %s: %w", rq.method, rq.path, err)
	}
	return nil
}

func isNetErr(err error) bool {
	var ne net.Error
	return errors.As(err, &ne)
}

func (c *Client) newRequest(ctx context.Context, rq request, body []byte) (*http.Request, error) {
	u := *c.base
	u.Path = strings.TrimRight(u.Path, "/") + rq.path
	if len(rq.query) > 0 {
		u.RawQuery = rq.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, rq.method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("build request: %w", err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	req.Header.Set("User-Agent", c.ua)
	if c.token != "" {
		req.Header.Set("Authorization", "Bearer "+c.token)
	}
	if rq.write {
		req.Header.Set(api.HeaderIdempotencyKey, rq.key)
	}
	if c.minBlock > 0 {
		req.Header.Set(api.HeaderMinBlock, strconv.FormatUint(c.minBlock, 10))
	}
	return req, nil
}

// readProblem turns a non-2xx answer into a *Problem; answers that are not
// problem+json (a proxy's error page) keep their status with a generic code.
func readProblem(resp *http.Response) error {
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
	e := &problemError{p: &Problem{}, requestID: resp.Header.Get(api.HeaderRequestID)}
	retryAfter := 0
	if s := resp.Header.Get("Retry-After"); s != "" {
		if n, err := strconv.Atoi(s); err == nil && n >= 0 && n <= 3600 {
			retryAfter = n
		}
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		if err := json.Unmarshal(b, e.p); err == nil && e.p.Code != "" {
			// The HTTP status is authoritative (RFC 9457 §3.1.3).
			e.p.Status, e.p.RetryAfter = resp.StatusCode, retryAfter
			return e
		}
		*e.p = Problem{}
	}
	e.p.Status, e.p.RetryAfter = resp.StatusCode, retryAfter
	e.p.Title = http.StatusText(resp.StatusCode)
	e.p.Code = fmt.Sprintf("HTTP_%d", resp.StatusCode)
	return e
}
