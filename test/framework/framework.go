// Package framework lets one test body run against two networks of agencies: the real one (Fabric
// CA, Raft orderers, peers, chaincode servers, privacy services and gateways as local processes,
// StartFabric) and one in this process (StartInProcess). A body sees a Cluster: each agency's
// gateway as the agency's API client sees it (URL, CA, tokens), each agency's privacy service as its
// gateway sees it, and the controls both can offer. Whatever only the real network can do (kill a
// node, read raw block files, talk to a peer directly as a dishonest member) stays in tests built
// with the integration tag, which use the *network.Network behind Fabric.
//
// Modelled on etcd's tests/framework (one interface, an e2e and an integration implementation) and
// Upspin's test/integration_test.go (one body, several set-ups).
package framework

import (
	"context"

	"github.com/caseledger/caseledger/api"
	privacy "github.com/caseledger/caseledger/privacy-service"
)

// Cluster is a running network of agencies with the builtin demo topology (network.LoadBuiltin).
type Cluster interface {
	// Kind names the implementation in logs ("fabric" or "in-process").
	Kind() string
	// Orgs lists the organisations in the description's order.
	Orgs() []string
	// API is what an agency's API client is given: its gateway's base URL (HTTPS), the CA of the
	// gateway's certificate and one token per role the org holds. Gateways and privacy services
	// are started on the first call.
	API(org string) (api.APIInfo, error)
	// Vault is org's privacy service as org's gateway reaches it (on the real network over mutual
	// TLS with the gateway's client identity).
	Vault(org string) (privacy.Vault, error)
	// StopGateway stops org's gateway gracefully; its data folder stays. StartGateway starts it
	// again at the same URL with the same tokens.
	StopGateway(org string) error
	StartGateway(ctx context.Context, org string) error
	// Height is channel's block height as org's peer (or ledger) has it.
	Height(ctx context.Context, org, channel string) (uint64, error)
	// Query evaluates a chaincode function as org's identity with role on org's own peer (or
	// ledger), past the gateway: what an honest member's own client reads. Errors carry the
	// chaincode's "KIND: message".
	Query(ctx context.Context, org, role, channel, fn string, args ...string) ([]byte, error)
	// Block is block n of channel, fetched from org's peer (or ledger) in the bytes a peer
	// delivers: what a scan for data that must never be on chain reads.
	Block(ctx context.Context, org, channel string, n uint64) ([]byte, error)
	// Close stops everything the cluster started and removes its data unless told to keep it.
	Close() error
}
