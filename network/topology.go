// Package network brings up, supervises and tears down a real multi-organisation Hyperledger Fabric
// network as plain local processes (no Docker): Fabric CAs, Raft orderers, one peer per agency and one
// chaincode-as-a-service server per agency. Everything is generated from one Description of the network.
package network

import (
	"bytes"
	"embed"
	"errors"
	"fmt"
	"net"
	"os"
	"regexp"
	"slices"
	"strconv"
	"time"

	"gopkg.in/yaml.v3"

	"github.com/caseledger/caseledger/api"
	"github.com/caseledger/caseledger/domain"
)

//go:embed topologies/*.yaml
var topologies embed.FS

// ErrInvalidDescription is returned when a network description is inconsistent.
var ErrInvalidDescription = errors.New("invalid network description")

// portsPerOrg is the size of the port block each organisation owns, starting at BasePort.
const portsPerOrg = 20

// Description is the single description of a network: organisations, their roles, nodes, ports,
// channels and channel members.
type Description struct {
	Name            string        `yaml:"name"`
	BasePort        int           `yaml:"basePort"`
	BatchTimeout    time.Duration `yaml:"batchTimeout"`
	MaxMessageCount int           `yaml:"maxMessageCount"`
	Chaincode       Chaincode     `yaml:"chaincode"`
	OrdererOrg      OrdererOrg    `yaml:"ordererOrg"`
	Orgs            []Org         `yaml:"orgs"`
	Channels        []Channel     `yaml:"channels"`
}

// Chaincode names the one chaincode deployed on every channel.
type Chaincode struct {
	Name    string `yaml:"name"`
	Version string `yaml:"version"`
}

// OrdererOrg is the ordering service organisation.
type OrdererOrg struct {
	Name     string `yaml:"name"`
	MSPID    string `yaml:"mspId"`
	Orderers int    `yaml:"orderers"`
	// Host is the address (IP or DNS name) of the host that runs the org's orderers; see Org.Host.
	Host string `yaml:"host,omitempty"`
}

// Org is one agency: one CA pair, one peer, one chaincode server, one privacy service, one gateway.
type Org struct {
	Name        string `yaml:"name"`
	MSPID       string `yaml:"mspId"`
	Kind        string `yaml:"kind"`
	MemberState string `yaml:"memberState"`
	DublinUnit  bool   `yaml:"dublinUnit"`
	Users       []User `yaml:"users"`
	// Host is the address (IP or DNS name) of the agency's own host: every node of the org listens
	// on it and every other org reaches it there (anchor peer, gossip endpoint, chaincode server,
	// TLS certificate names). Empty: 127.0.0.1, the whole network on one machine.
	Host string `yaml:"host,omitempty"`
}

// Enrolled lists the org's client identities: an admin, then its users.
func (o Org) Enrolled() []User {
	return append([]User{{Name: "admin", Role: "admin"}}, o.Users...)
}

// Membership derives the chaincode's who-is-who (domain.Membership) from the description: the one
// source of the chaincode configuration, of the in-process ledger's and of the tests' membership.
func (d Description) Membership() domain.Membership {
	m := domain.Membership{Version: domain.MembershipVersion}
	for _, o := range d.Orgs {
		m.Members = append(m.Members, domain.Member{
			MSPID: o.MSPID, Kind: domain.AgencyKind(o.Kind), MemberState: o.MemberState, DublinUnit: o.DublinUnit,
		})
	}
	for _, ch := range d.Channels {
		c := domain.Channel{Name: ch.Name, Procedure: domain.Procedure(ch.Procedure)}
		for _, org := range ch.Members {
			o, _ := d.Org(org)
			c.Members = append(c.Members, o.MSPID)
		}
		// The chaincode's membership is governed by the rule that governs the channel.
		g := &domain.Governance{OutOf: ch.Governance.OutOf, ApprovalDays: ch.Governance.ApprovalDays}
		for _, org := range ch.Governance.Orgs {
			o, _ := d.Org(org)
			g.Orgs = append(g.Orgs, o.MSPID)
		}
		c.Governance = g
		m.Channels = append(m.Channels, c)
	}
	return m
}

// User is a client identity enrolled with a role attribute in its certificate.
type User struct {
	Name string `yaml:"name"`
	Role string `yaml:"role"`
}

// Channel is one channel (= one pseudonymisation domain) with its members, its endorsement rule and
// its governance rule.
type Channel struct {
	Name        string      `yaml:"name"`
	Procedure   string      `yaml:"procedure"`
	Members     []string    `yaml:"members"`
	Endorsement Endorsement `yaml:"endorsement"`
	// Governance is who must agree to change the channel's rules or membership: a chaincode
	// definition (LifecycleEndorsement) or the channel configuration (Application/Admins).
	Governance Governance `yaml:"governance"`
}

// Governance requires OutOf of the listed orgs' admins to agree to a change. ApprovalDays is how
// long an approval of a chaincode membership change counts (domain.Governance.ApprovalDays;
// absent: domain.DefaultApprovalDays).
type Governance struct {
	OutOf        int      `yaml:"outOf"`
	Orgs         []string `yaml:"orgs"`
	ApprovalDays int      `yaml:"approvalDays,omitempty"`
}

// AuditorKind is the org kind that reads and verifies but never governs: it takes no part in any
// policy that changes rules or membership, so it can never tip a vote.
const AuditorKind = "auditor"

// Endorsement requires OutOf of the listed orgs' peers to endorse every transaction.
type Endorsement struct {
	OutOf int      `yaml:"outOf"`
	Orgs  []string `yaml:"orgs"`
}

var (
	nameRE = regexp.MustCompile(`^[a-z][a-z0-9-]{1,30}$`)
	mspRE  = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9]{1,40}MSP$`)
	roleRE = regexp.MustCompile(`^(caseworker|dublin-officer|auditor|admin)$`)
	chanRE = regexp.MustCompile(`^[a-z][a-z0-9.-]{0,48}$`)
	// A host name (RFC 1123 labels) or an IPv4 address; IPv6 would need brackets in every
	// host:port Fabric takes and is not supported.
	hostRE = regexp.MustCompile(`^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$`)
)

// Loopback is the host of an org whose description names none: the whole network on one machine.
const Loopback = "127.0.0.1"

// HostOf returns the host of a peer organisation or of the orderer organisation.
func (d Description) HostOf(org string) string {
	h := d.OrdererOrg.Host
	if org != d.OrdererOrg.Name {
		o, _ := d.Org(org)
		h = o.Host
	}
	if h == "" {
		return Loopback
	}
	return h
}

// OrgOfPort names the organisation whose port block holds port (the orderer org owns block 0), or
// "" for a port outside every block.
func (d Description) OrgOfPort(port int) string {
	i := (port - d.BasePort) / portsPerOrg
	switch {
	case port < d.BasePort || i > len(d.Orgs):
		return ""
	case i == 0:
		return d.OrdererOrg.Name
	default:
		return d.Orgs[i-1].Name
	}
}

// HostPort is host:port for a port of the description, at the host of the org that owns it.
func (d Description) HostPort(port int) string {
	return net.JoinHostPort(d.HostOf(d.OrgOfPort(port)), strconv.Itoa(port))
}

// LoadBuiltin loads one of the descriptions shipped with the module (e.g. "demo").
func LoadBuiltin(name string) (Description, error) {
	b, err := topologies.ReadFile("topologies/" + name + ".yaml")
	if err != nil {
		return Description{}, fmt.Errorf("%w: no built-in topology %q", ErrInvalidDescription, name)
	}
	return Parse(b)
}

// LoadTopology loads a description given as a file path or, when no regular file has that name, as
// the name of a built-in one (a folder called like a topology, e.g. the demo package, is not a
// description).
func LoadTopology(pathOrName string) (Description, error) {
	if fi, err := os.Stat(pathOrName); err == nil && fi.Mode().IsRegular() {
		return Load(pathOrName)
	}
	return LoadBuiltin(pathOrName)
}

// Load reads a description from a YAML file.
func Load(path string) (Description, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Description{}, fmt.Errorf("read network description: %w", err)
	}
	return Parse(b)
}

// Parse decodes and validates a description. Unknown fields are refused.
func Parse(b []byte) (Description, error) {
	var d Description
	dec := yaml.NewDecoder(bytes.NewReader(b))
	dec.KnownFields(true)
	if err := dec.Decode(&d); err != nil {
		return Description{}, fmt.Errorf("%w: %v", ErrInvalidDescription, err)
	}
	if err := d.Validate(); err != nil {
		return Description{}, err
	}
	return d, nil
}

// Validate checks the description for consistency.
func (d Description) Validate() error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: %s", ErrInvalidDescription, fmt.Sprintf(format, a...))
	}
	if !nameRE.MatchString(d.Name) {
		return bad("name %q must be lower-case letters, digits and dashes", d.Name)
	}
	last := d.BasePort + portsPerOrg*(len(d.Orgs)+1)
	if d.BasePort < 1024 || last > 65535 {
		return bad("basePort %d leaves no room for %d port blocks", d.BasePort, len(d.Orgs)+1)
	}
	if d.BatchTimeout < 10*time.Millisecond || d.BatchTimeout > 10*time.Second {
		return bad("batchTimeout %s out of range 10ms..10s", d.BatchTimeout)
	}
	if d.MaxMessageCount < 1 || d.MaxMessageCount > 10000 {
		return bad("maxMessageCount %d out of range 1..10000", d.MaxMessageCount)
	}
	if !nameRE.MatchString(d.Chaincode.Name) || d.Chaincode.Version == "" {
		return bad("chaincode needs a name and a version")
	}
	if !nameRE.MatchString(d.OrdererOrg.Name) || !mspRE.MatchString(d.OrdererOrg.MSPID) {
		return bad("orderer org needs a name and an MSP id ending in MSP")
	}
	if h := d.OrdererOrg.Host; h != "" && !hostRE.MatchString(h) {
		return bad("orderer org: host %q is not a host name or IPv4 address", h)
	}
	// Raft tolerates f crashes with 2f+1 nodes; the port block holds at most 5 orderers.
	if d.OrdererOrg.Orderers < 1 || d.OrdererOrg.Orderers > 5 {
		return bad("orderers must be 1..5, got %d", d.OrdererOrg.Orderers)
	}
	if len(d.Orgs) == 0 {
		return bad("at least one peer organisation is required")
	}
	seen := map[string]bool{d.OrdererOrg.Name: true, d.OrdererOrg.MSPID: true}
	for _, o := range d.Orgs {
		if !nameRE.MatchString(o.Name) || !mspRE.MatchString(o.MSPID) {
			return bad("org %q: needs a name and an MSP id ending in MSP", o.Name)
		}
		if seen[o.Name] || seen[o.MSPID] {
			return bad("org %q: duplicate name or MSP id", o.Name)
		}
		seen[o.Name], seen[o.MSPID] = true, true
		if o.Kind == "" {
			return bad("org %q: kind is required", o.Name)
		}
		if o.Host != "" && !hostRE.MatchString(o.Host) {
			return bad("org %q: host %q is not a host name or IPv4 address", o.Name, o.Host)
		}
		users := map[string]bool{"admin": true}
		for _, u := range o.Users {
			if !nameRE.MatchString(u.Name) || !roleRE.MatchString(u.Role) || users[u.Name] {
				return bad("org %q: user %q with role %q is invalid or duplicate", o.Name, u.Name, u.Role)
			}
			users[u.Name] = true
		}
	}
	chans := map[string]bool{}
	for _, c := range d.Channels {
		if !chanRE.MatchString(c.Name) || chans[c.Name] {
			return bad("channel %q: invalid or duplicate name", c.Name)
		}
		chans[c.Name] = true
		if len(c.Members) == 0 {
			return bad("channel %q: no members", c.Name)
		}
		for _, m := range c.Members {
			if _, ok := d.Org(m); !ok {
				return bad("channel %q: unknown member %q", c.Name, m)
			}
		}
		e := c.Endorsement
		if e.OutOf < 1 || e.OutOf > len(e.Orgs) {
			return bad("channel %q: endorsement outOf %d of %d orgs", c.Name, e.OutOf, len(e.Orgs))
		}
		for _, m := range e.Orgs {
			if !slices.Contains(c.Members, m) {
				return bad("channel %q: endorser %q is not a member", c.Name, m)
			}
		}
		if err := d.validateGovernance(c); err != nil {
			return err
		}
	}
	if len(chans) == 0 {
		return bad("at least one channel is required")
	}
	return nil
}

// validateGovernance enforces the trust model (DESIGN.md section 7): the governing orgs are exactly
// the channel's members that are not auditors, the auditor never counts, a rule change needs a
// majority of them, and on a Dublin channel every member state.
func (d Description) validateGovernance(c Channel) error {
	bad := func(format string, a ...any) error {
		return fmt.Errorf("%w: channel %q: governance: %s", ErrInvalidDescription, c.Name, fmt.Sprintf(format, a...))
	}
	g := c.Governance
	var want []string
	for _, m := range c.Members {
		if o, _ := d.Org(m); o.Kind != AuditorKind {
			want = append(want, m)
		}
	}
	seen := map[string]bool{}
	for _, m := range g.Orgs {
		o, ok := d.Org(m)
		switch {
		case !ok || !slices.Contains(c.Members, m):
			return bad("%q is not a member", m)
		case o.Kind == AuditorKind:
			return bad("the auditor %q may not take part in governance", m)
		case seen[m]:
			return bad("%q listed twice", m)
		}
		seen[m] = true
	}
	if len(g.Orgs) != len(want) {
		return bad("must list every member that is not an auditor (%v), got %v", want, g.Orgs)
	}
	if g.OutOf <= len(g.Orgs)/2 || g.OutOf > len(g.Orgs) {
		return bad("outOf %d of %d is not a majority", g.OutOf, len(g.Orgs))
	}
	if c.Procedure == "dublin" && g.OutOf != len(g.Orgs) {
		return bad("a Dublin channel changes its rules only with every member state (outOf %d)", len(g.Orgs))
	}
	if g.ApprovalDays < 0 || g.ApprovalDays > domain.MaxApprovalDays {
		return bad("approvalDays %d is not 1..%d (absent: %d)", g.ApprovalDays, domain.MaxApprovalDays, domain.DefaultApprovalDays)
	}
	return nil
}

// Org returns the peer organisation with the given name.
func (d Description) Org(name string) (Org, bool) {
	for _, o := range d.Orgs {
		if o.Name == name {
			return o, true
		}
	}
	return Org{}, false
}

// OrgByMSP returns the peer organisation with the given MSP id.
func (d Description) OrgByMSP(msp string) (Org, bool) {
	for _, o := range d.Orgs {
		if o.MSPID == msp {
			return o, true
		}
	}
	return Org{}, false
}

// Channel returns the channel with the given name.
func (d Description) Channel(name string) (Channel, bool) {
	for _, c := range d.Channels {
		if c.Name == name {
			return c, true
		}
	}
	return Channel{}, false
}

// ChannelsOf lists the channels an org is a member of, in description order.
func (d Description) ChannelsOf(org string) []Channel {
	var out []Channel
	for _, c := range d.Channels {
		if slices.Contains(c.Members, org) {
			out = append(out, c)
		}
	}
	return out
}

func (d Description) orgIndex(name string) int {
	for i, o := range d.Orgs {
		if o.Name == name {
			return i + 1 // block 0 belongs to the orderer org
		}
	}
	panic("network: unknown org " + name) // callers iterate d.Orgs; a miss is a programming error
}

// OrdererPorts of one orderer node.
type OrdererPorts struct {
	Listen, Admin, Ops int
}

// PortsOf returns the ports of a peer organisation.
func (d Description) PortsOf(org string) api.OrgPorts {
	b := d.BasePort + portsPerOrg*d.orgIndex(org)
	return api.OrgPorts{
		CA: b, CAOps: b + 1, TLSCA: b + 2, TLSCAOps: b + 3,
		Peer: b + 4, PeerChaincode: b + 5, PeerOps: b + 6,
		ChaincodeServer: b + 7, Privacy: b + 8, Gateway: b + 9,
		PrivacyOps: b + 10, GatewayOps: b + 11, DiskWatchOps: b + 12,
	}
}

// OrdererOrgPorts returns the CA ports of the orderer organisation.
func (d Description) OrdererOrgPorts() api.OrgPorts {
	b := d.BasePort
	return api.OrgPorts{CA: b, CAOps: b + 1, TLSCA: b + 2, TLSCAOps: b + 3, DiskWatchOps: b + portsPerOrg - 1}
}

// OrdererPortsOf returns the ports of orderer i (0-based).
func (d Description) OrdererPortsOf(i int) OrdererPorts {
	b := d.BasePort + 4 + 3*i
	return OrdererPorts{Listen: b, Admin: b + 1, Ops: b + 2}
}

// OrdererName is the node name of orderer i.
func (d Description) OrdererName(i int) string { return fmt.Sprintf("orderer%d", i) }
