package domain

import (
	"fmt"
	"slices"
	"time"
)

// AgencyKind says what an organisation is; the workflow tables grant
// transitions to kinds, not to MSP ids.
type AgencyKind string

// The closed set of agency kinds.
const (
	AgencyAsylumOffice         AgencyKind = "asylum-office"
	AgencyBorderPolice         AgencyKind = "border-police"
	AgencyImmigrationAuthority AgencyKind = "immigration-authority"
	AgencyPartnerState         AgencyKind = "partner-state" // another member state's Dublin unit
	AgencyAuditor              AgencyKind = "auditor"
)

// Valid reports whether k is one of the closed set.
func (k AgencyKind) Valid() bool {
	switch k {
	case AgencyAsylumOffice, AgencyBorderPolice, AgencyImmigrationAuthority, AgencyPartnerState, AgencyAuditor:
		return true
	}
	return false
}

// Role is the value of the certificate attribute "role".
type Role string

// The closed set of roles.
const (
	RoleCaseworker    Role = "caseworker"
	RoleDublinOfficer Role = "dublin-officer"
	RoleAuditor       Role = "auditor"
	RoleAdmin         Role = "admin"
)

// RoleAttribute is the name of the certificate attribute carrying the role.
const RoleAttribute = "role"

// Valid reports whether r is one of the closed set.
func (r Role) Valid() bool {
	switch r {
	case RoleCaseworker, RoleDublinOfficer, RoleAuditor, RoleAdmin:
		return true
	}
	return false
}

// Procedure names the workflow a channel runs.
type Procedure string

// The two procedures, one channel (pseudonymisation domain) each.
const (
	ProcedureNational Procedure = "national"
	ProcedureDublin   Procedure = "dublin"
)

// Valid reports whether p is one of the closed set.
func (p Procedure) Valid() bool { return p == ProcedureNational || p == ProcedureDublin }

// Member is one organisation of the network.
type Member struct {
	MSPID       string     `json:"mspId"`
	Kind        AgencyKind `json:"kind"`
	MemberState string     `json:"memberState"`
	DublinUnit  bool       `json:"dublinUnit"`
}

// Channel says which procedure runs on a channel and which members sit on it.
type Channel struct {
	Name      string    `json:"name"`
	Procedure Procedure `json:"procedure"`
	Members   []string  `json:"members"` // MSP ids
	// Governance is who approves a change of this membership on the channel (gov:SetMembership);
	// absent: DefaultGovernance.
	Governance *Governance `json:"governance,omitempty"`
}

// Governance is a channel's governance rule as data: OutOf of the Orgs' admins must approve a
// change, each approval counting for ApprovalDays after its transaction's timestamp. It mirrors
// the network description's rule, which also sets the channel's Admins and LifecycleEndorsement
// policies, so the chaincode's membership and the channel configuration are governed by the same
// organisations.
type Governance struct {
	OutOf int      `json:"outOf"`
	Orgs  []string `json:"orgs"` // MSP ids
	// ApprovalDays is how long an approval of a change counts, in days of 24 h from the approving
	// transaction's timestamp: an approval given long ago for a document must not still tip a
	// vote today. Absent (0): DefaultApprovalDays; at most MaxApprovalDays.
	ApprovalDays int `json:"approvalDays,omitempty"`
}

// Bounds of Governance.ApprovalDays.
const (
	DefaultApprovalDays = 14
	MaxApprovalDays     = 366
)

// ApprovalValidity is how long an approval counts under the rule.
func (g Governance) ApprovalValidity() time.Duration {
	d := g.ApprovalDays
	if d == 0 {
		d = DefaultApprovalDays
	}
	return time.Duration(d) * 24 * time.Hour
}

// ApprovalExpiry is the first instant at which an approval given at approvedAt no longer counts.
func (g Governance) ApprovalExpiry(approvedAt time.Time) time.Time {
	return approvedAt.Add(g.ApprovalValidity())
}

// ApprovalCounts reports whether an approval given at approvedAt still counts at now (both
// transaction timestamps: the chaincode has no other clock).
func (g Governance) ApprovalCounts(approvedAt, now time.Time) bool {
	return now.Before(g.ApprovalExpiry(approvedAt))
}

// MembershipVersion is the only document version this code accepts.
const MembershipVersion = 1

// Membership is the network's who-is-who, generated from the network
// description and given identically to every organisation's chaincode server
// (it is part of what endorsements must agree on).
type Membership struct {
	Version  int       `json:"version"`
	Members  []Member  `json:"members"`
	Channels []Channel `json:"channels"`
}

// Limits that keep a malformed or hostile document cheap to reject.
const (
	maxMembers     = 256
	maxChannels    = 16
	maxMembershipB = 1 << 20
)

// DecodeMembership strictly decodes and validates a membership document:
// unknown fields, trailing data and invalid content are refused.
func DecodeMembership(data []byte) (Membership, error) {
	var m Membership
	if len(data) > maxMembershipB {
		return m, Errorf(KindInvalidArgument, "membership: document larger than %d bytes", maxMembershipB)
	}
	if err := DecodeStrict(data, &m); err != nil {
		return Membership{}, fmt.Errorf("membership: %w", err)
	}
	if err := m.Validate(); err != nil {
		return Membership{}, err
	}
	return m, nil
}

// Validate checks the document's content.
func (m Membership) Validate() error {
	bad := func(format string, args ...any) error {
		return Errorf(KindInvalidArgument, "membership: "+format, args...)
	}
	if m.Version != MembershipVersion {
		return bad("version must be %d", MembershipVersion)
	}
	if len(m.Members) == 0 || len(m.Members) > maxMembers {
		return bad("between 1 and %d members required", maxMembers)
	}
	seen := make(map[string]Member, len(m.Members))
	for i, mem := range m.Members {
		if !IsMSPID(mem.MSPID) {
			return bad("members[%d]: invalid mspId", i)
		}
		if _, dup := seen[mem.MSPID]; dup {
			return bad("members[%d]: duplicate mspId %s", i, mem.MSPID)
		}
		seen[mem.MSPID] = mem
		if !mem.Kind.Valid() {
			return bad("members[%d]: unknown kind", i)
		}
		if mem.Kind == AgencyAuditor {
			if mem.MemberState != "" && !IsMemberState(mem.MemberState) {
				return bad("members[%d]: unknown memberState", i)
			}
			if mem.DublinUnit {
				return bad("members[%d]: an auditor cannot be a Dublin unit", i)
			}
		} else if !IsMemberState(mem.MemberState) {
			return bad("members[%d]: memberState must be an ISO 3166-1 alpha-2 code of a Dublin state", i)
		}
		if mem.Kind == AgencyPartnerState && !mem.DublinUnit {
			return bad("members[%d]: a partner-state member must be a Dublin unit", i)
		}
	}
	if len(m.Channels) == 0 || len(m.Channels) > maxChannels {
		return bad("between 1 and %d channels required", maxChannels)
	}
	names := map[string]bool{}
	procs := map[Procedure]bool{}
	for i, ch := range m.Channels {
		if !isChannelName(ch.Name) {
			return bad("channels[%d]: invalid channel name", i)
		}
		if names[ch.Name] {
			return bad("channels[%d]: duplicate channel %s", i, ch.Name)
		}
		names[ch.Name] = true
		if !ch.Procedure.Valid() {
			return bad("channels[%d]: unknown procedure", i)
		}
		if procs[ch.Procedure] {
			return bad("channels[%d]: procedure %s already runs on another channel", i, ch.Procedure)
		}
		procs[ch.Procedure] = true
		if len(ch.Members) == 0 {
			return bad("channels[%d]: no members", i)
		}
		in := map[string]bool{}
		state := ""
		for j, id := range ch.Members {
			mem, ok := seen[id]
			if !ok {
				return bad("channels[%d].members[%d]: not a member", i, j)
			}
			if in[id] {
				return bad("channels[%d].members[%d]: duplicate", i, j)
			}
			in[id] = true
			if mem.Kind == AgencyAuditor {
				continue
			}
			switch ch.Procedure {
			case ProcedureDublin:
				if !mem.DublinUnit {
					return bad("channels[%d].members[%d]: only Dublin units and auditors sit on a dublin channel", i, j)
				}
			case ProcedureNational:
				// A national channel is one state's pseudonymisation domain.
				if mem.Kind == AgencyPartnerState {
					return bad("channels[%d].members[%d]: a partner state cannot sit on a national channel", i, j)
				}
				if state != "" && mem.MemberState != state {
					return bad("channels[%d].members[%d]: a national channel spans one member state", i, j)
				}
				state = mem.MemberState
			}
		}
		if ch.Governance != nil {
			if msg := ch.Governance.problem(ch, seen); msg != "" {
				return bad("channels[%d].governance: %s", i, msg)
			}
		}
	}
	return nil
}

// governors are the channel's members that may govern: every member that is not an auditor (the
// auditor reads and verifies, it never tips a vote), in the channel's order.
func governors(ch Channel, members map[string]Member) []string {
	var out []string
	for _, id := range ch.Members {
		if members[id].Kind != AgencyAuditor {
			out = append(out, id)
		}
	}
	return out
}

// problem describes what is wrong with a channel's governance rule, "" if nothing: the governing
// organisations are exactly the channel's members that are not auditors (in any order, each once),
// OutOf is at least a majority of them, and on a Dublin channel all of them (every member state
// agrees to a change of its rules).
func (g *Governance) problem(ch Channel, members map[string]Member) string {
	want := governors(ch, members)
	if len(g.Orgs) != len(want) {
		return "orgs must list every member of the channel that is not an auditor"
	}
	seen := map[string]bool{}
	for _, id := range g.Orgs {
		if !slices.Contains(want, id) || seen[id] {
			return "orgs must list every member of the channel that is not an auditor, each once"
		}
		seen[id] = true
	}
	if g.OutOf <= len(g.Orgs)/2 || g.OutOf > len(g.Orgs) {
		return "outOf must be a majority of orgs, at most all of them"
	}
	if ch.Procedure == ProcedureDublin && g.OutOf != len(g.Orgs) {
		return "a dublin channel changes only with every member state (outOf = all orgs)"
	}
	if g.ApprovalDays < 0 || g.ApprovalDays > MaxApprovalDays {
		return fmt.Sprintf("approvalDays must be 1..%d (absent: %d)", MaxApprovalDays, DefaultApprovalDays)
	}
	return ""
}

// GovernanceOf is the channel's governance rule in force: its own, or the default one — a majority
// of the members that are not auditors (Fabric's MAJORITY Admins over the agencies), all of them on
// a Dublin channel. ApprovalDays is always the period in force (the default filled in), so what
// gov:GetMembership shows is what gov:SetMembership applies.
func (m Membership) GovernanceOf(ch Channel) Governance {
	if ch.Governance != nil {
		days := ch.Governance.ApprovalDays
		if days == 0 {
			days = DefaultApprovalDays
		}
		return Governance{OutOf: ch.Governance.OutOf, Orgs: slices.Clone(ch.Governance.Orgs), ApprovalDays: days}
	}
	members := make(map[string]Member, len(m.Members))
	for _, mem := range m.Members {
		members[mem.MSPID] = mem
	}
	orgs := governors(ch, members)
	g := Governance{OutOf: len(orgs)/2 + 1, Orgs: orgs, ApprovalDays: DefaultApprovalDays}
	if ch.Procedure == ProcedureDublin {
		g.OutOf = len(orgs)
	}
	return g
}

// ParseMembershipDocument decodes a membership document given as a transaction argument: strictly,
// in exactly its canonical encoding (EncodeCanonical; DecodeCanonical says why), and validated.
// So the bytes an approval's hash covers are the only bytes that decode to that membership.
func ParseMembershipDocument(data []byte) (Membership, error) {
	var m Membership
	if len(data) > maxMembershipB {
		return m, Errorf(KindInvalidArgument, "membership: document larger than %d bytes", maxMembershipB)
	}
	if err := DecodeCanonical(data, &m); err != nil {
		return Membership{}, fmt.Errorf("membership: %w", err)
	}
	if err := m.Validate(); err != nil {
		return Membership{}, err
	}
	return m, nil
}

// CheckSuccessor reports whether next may replace m as the membership of channel: the channel
// stays, with its procedure (its cases were recorded under it); every channel stays with its
// procedure; the channel keeps an organisation that governs it; and every member stays with its
// entry unchanged (kind, state and Dublin unit decide
// what its past writes meant; an organisation that leaves is taken off the channel's members and
// keeps its entry). Members and channels may be added.
func (m Membership) CheckSuccessor(next Membership, channel string) error {
	bad := func(format string, args ...any) error {
		return Errorf(KindInvalidArgument, "membership: "+format, args...)
	}
	nc, ok := next.Channel(channel)
	if !ok {
		return bad("the document does not describe channel %s", channel)
	}
	if len(next.GovernanceOf(nc).Orgs) == 0 {
		return bad("channel %s must keep an organisation that governs it", channel)
	}
	for _, ch := range m.Channels {
		nc, ok := next.Channel(ch.Name)
		if !ok || nc.Procedure != ch.Procedure {
			return bad("channel %s must stay, with procedure %s", ch.Name, ch.Procedure)
		}
	}
	for _, mem := range m.Members {
		nm, ok := next.Member(mem.MSPID)
		if !ok || nm != mem {
			return bad("member %s must stay with its entry unchanged (take it off the channels to remove it)", mem.MSPID)
		}
	}
	return nil
}

// isChannelName follows Fabric's channel-name rule: [a-z][a-z0-9.-]*, < 250.
func isChannelName(s string) bool {
	if len(s) == 0 || len(s) > 249 || !(s[0] >= 'a' && s[0] <= 'z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.' || c == '-') {
			return false
		}
	}
	return true
}

// Member returns the member with the given MSP id.
func (m Membership) Member(mspID string) (Member, bool) {
	for _, mem := range m.Members {
		if mem.MSPID == mspID {
			return mem, true
		}
	}
	return Member{}, false
}

// Channel returns the channel with the given name.
func (m Membership) Channel(name string) (Channel, bool) {
	for _, ch := range m.Channels {
		if ch.Name == name {
			return ch, true
		}
	}
	return Channel{}, false
}

// ChannelFor returns the channel a procedure runs on.
func (m Membership) ChannelFor(p Procedure) (Channel, bool) {
	for _, ch := range m.Channels {
		if ch.Procedure == p {
			return ch, true
		}
	}
	return Channel{}, false
}

// OnChannel reports whether mspID sits on the channel.
func (ch Channel) OnChannel(mspID string) bool { return slices.Contains(ch.Members, mspID) }

// DublinUnitOf returns the Dublin unit of a member state on the channel.
func (m Membership) DublinUnitOf(ch Channel, memberState string) (Member, bool) {
	for _, id := range ch.Members {
		mem, ok := m.Member(id)
		if ok && mem.DublinUnit && mem.MemberState == memberState {
			return mem, true
		}
	}
	return Member{}, false
}

// IsMemberState reports whether s is the ISO 3166-1 alpha-2 code of a state
// bound by the Dublin rules (EU-27 plus the four associated states).
func IsMemberState(s string) bool {
	_, ok := slices.BinarySearch(memberStates(), s)
	return ok
}

// MemberStates returns the closed list of member-state codes, sorted.
func MemberStates() []string { return slices.Clone(memberStates()) }

func memberStates() []string {
	// Sorted; Greece is GR in ISO 3166-1 (EL is only the EU's own code).
	return []string{
		"AT", "BE", "BG", "CH", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR",
		"HR", "HU", "IE", "IS", "IT", "LI", "LT", "LU", "LV", "MT", "NL", "NO", "PL",
		"PT", "RO", "SE", "SI", "SK",
	}
}
