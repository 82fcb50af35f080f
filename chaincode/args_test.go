package chaincode

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/fakestub"
)

// argWorld is a ledger with something to page through on both channels, and honest bookmarks.
type argWorld struct {
	n                 *net
	p1, p2, d1        string
	timelineBM        string // GetTimeline(p1, pageSize 1)
	historyBM         string // GetHistory(p1, pageSize 1)
	statusBM          string // ListByStatus(REGISTERED, 1)
	agencyBM          string // ListByAgency(BorderPoliceMSP, 1)
	anchorBM          string // ListAnchors(p1, 1)
	lateBM, lateAllBM string // ListLateEvents(BorderPoliceMSP | "", 1)
	dueBM             string // DeadlinesDue(2027-01-01, 1)
	hash              string // anchored on p1
	grownDoc          string // a membership document the national channel may change to
}

func bookmarkOf(t *testing.T, out string) string {
	t.Helper()
	var page struct {
		Bookmark string `json:"bookmark"`
	}
	if err := json.Unmarshal([]byte(out), &page); err != nil || page.Bookmark == "" {
		t.Fatalf("no bookmark in %s (%v)", out, err)
	}
	return page.Bookmark
}

func newArgWorld(t *testing.T) *argWorld {
	n := newNet(t, t0)
	w := &argWorld{n: n, p1: newID(), p2: newID(), d1: newID(), hash: strings.Repeat("1f", 32)}
	_, w.grownDoc = grown(t, n)
	n.must("national", "bp", "cases:RegisterCase", newID(), w.p1, "2026-02-27") // late
	n.must("national", "bp", "cases:RegisterCase", newID(), w.p2, "2026-02-28") // late
	// A typed anchor: the type is a withheld detail, so through RecordEvent (transient details).
	n.must("national", "bp", "cases:RecordEvent", newID(), w.p1, payload(domain.EvDocumentAnchored, n.today(), map[string]any{"documentHash": w.hash, "documentType": "OTHER"}))
	n.must("national", "bp", "anchors:AnchorDocument", newID(), w.p1, strings.Repeat("2e", 32), "", n.today())
	d2 := newID()
	for _, d := range []string{w.d1, d2} {
		n.must("dublin", "ao-do", "cases:RegisterCase", newID(), d, n.today())
		n.must("dublin", "ao-do", "cases:RecordEvent", newID(), d, takeChargePayload(n.today()))
	}
	w.timelineBM = bookmarkOf(t, n.must("national", "aud", "cases:GetTimeline", w.p1, "", "1"))
	w.historyBM = bookmarkOf(t, n.must("national", "aud", "cases:GetHistory", w.p1, "", "1"))
	w.statusBM = bookmarkOf(t, n.must("national", "aud", "cases:ListByStatus", "REGISTERED", "", "1"))
	w.agencyBM = bookmarkOf(t, n.must("national", "aud", "cases:ListByAgency", "BorderPoliceMSP", "", "1"))
	w.anchorBM = bookmarkOf(t, n.must("national", "aud", "anchors:ListAnchors", w.p1, "", "1"))
	w.lateBM = bookmarkOf(t, n.must("national", "aud", "audit:ListLateEvents", "BorderPoliceMSP", "", "1"))
	w.lateAllBM = bookmarkOf(t, n.must("national", "aud", "audit:ListLateEvents", "", "", "1"))
	w.dueBM = bookmarkOf(t, n.must("dublin", "aud", "dublin:DeadlinesDue", "2027-01-01", "", "1"))
	return w
}

// variant is a non-canonical spelling of one argument.
type variant struct {
	name, value string
	// exact: the refusal must be INVALID_ARGUMENT; otherwise PERSONAL_DATA is
	// also right (the refused value looks like personal data).
	exact bool
}

// genericVariants apply to every argument of every function: each must be refused.
func genericVariants(a string) []variant {
	vs := []variant{
		{"trailing space", a + " ", false},
		{"leading space", " " + a, false},
		{"trailing newline", a + "\n", false},
		{"trailing NUL", a + "\x00", false},
		{"name appended", a + "Max Mustermann", false},
		{"zero-width space", a + "\u200b", false},
	}
	if up := strings.ToUpper(a); up != a {
		vs = append(vs, variant{"upper case", up, false})
	}
	return vs
}

func b64(s string) string { return base64.RawURLEncoding.EncodeToString([]byte(s)) }

// bookmarkVariants are forged bookmarks for a query whose honest bookmark is good.
func bookmarkVariants(good string, other ...string) []variant {
	raw, _ := base64.RawURLEncoding.DecodeString(good)
	vs := []variant{
		{"base64 of a name", b64("Max Mustermann, born 01.02.1990"), false},
		{"base64 of a name after the index prefix", b64(string(raw[:len(raw)/2]) + "Max Mustermann"), false},
		{"padded", base64.URLEncoding.EncodeToString(raw), true},
		{"standard alphabet", base64.StdEncoding.EncodeToString(raw), false},
		{"line break inside", good[:4] + "\n" + good[4:], false},
		{"key with an extra attribute", b64(string(raw) + "Max\x00"), false},
		{"key with a name as last attribute", b64(string(raw[:strings.LastIndexByte(string(raw[:len(raw)-1]), 0)+1]) + "Mustermann\x00"), false},
	}
	for _, o := range other {
		vs = append(vs, variant{"bookmark of another query", o, false})
	}
	// Padding and the standard alphabet change nothing for some lengths and bytes.
	return slices.DeleteFunc(vs, func(v variant) bool { return v.value == good })
}

// pageVariants: spellings of a page size other than plain decimal.
func pageVariants() []variant {
	return []variant{{"leading zero", "01", true}, {"plus sign", "+1", true}, {"minus", "-1", true}, {"exponent", "1e0", true}, {"decimal point", "1.0", true}, {"too large", "1001", true}}
}

// jsonVariants: spellings of a canonical JSON object argument that decode to the same value.
func jsonVariants(canonical string) []variant {
	at := strings.Index(canonical, `"code":"`) + len(`"code":"`)
	first := canonical[:strings.IndexByte(canonical, ',')+1] // `{"vocabularyVersion":1,`
	rest := canonical[len(first):]
	return []variant{
		{"whitespace after a colon", strings.Replace(canonical, ":", ": ", 1), true},
		{"pretty printed", strings.ReplaceAll(canonical, ",", ",\n  "), true},
		{"key order", `{` + rest[:len(rest)-1] + `,` + first[1:len(first)-1] + `}`, true},
		{"duplicate key, name first", first + `"code":"Max Mustermann 01.02.1990",` + rest, false},
		{"duplicate key, file number first", first + `"occurredOn":"BAMF-7654321-438",` + rest, false},
		{"duplicate key, same value", first + `"vocabularyVersion":1,` + rest, true},
		{"escaped letter", canonical[:at] + fmt.Sprintf(`\u%04x`, canonical[at]) + canonical[at+1:], true},
		{"escaped key", strings.Replace(canonical, `"code"`, `"\u0063ode"`, 1), true},
		{"trailing whitespace", canonical + " ", true},
	}
}

// argCase is one function: who may call it, honest arguments, and the variants of each.
type argCase struct {
	channel, id string
	honest      func() []string
	// mayFail: the honest call may be refused for a domain reason (not an argument).
	mayFail bool
	extra   map[int][]variant
}

func argCases(w *argWorld) map[string]argCase {
	n := w.n
	today := n.today()
	fresh := func(args ...string) func() []string {
		return func() []string { return append([]string{newID()}, args...) }
	}
	fixed := func(args ...string) func() []string { return func() []string { return slices.Clone(args) } }
	anchorPayload := func() string {
		return payload(domain.EvDocumentAnchored, today, map[string]any{"documentHash": strings.ReplaceAll(newID()+newID(), "-", "")[:64]})
	}
	idPayload := payload(domain.EvIdentityChecked, today, map[string]any{"eurodacHit": "NONE"})
	hol := `["2026-01-01","2026-12-25"]`
	return map[string]argCase{
		"cases:RegisterCase": {channel: "national", id: "bp", honest: func() []string { return []string{newID(), newID(), today} },
			extra: map[int][]variant{2: {{"other date notation", "02.03.2026", false}, {"date with time", today + "T00:00:00Z", false}}}},
		"cases:RecordEvent": {channel: "national", id: "bp", honest: func() []string { return []string{newID(), w.p1, anchorPayload()} },
			extra: map[int][]variant{2: jsonVariants(idPayload)}},
		"cases:GetCase": {channel: "national", id: "aud", honest: fixed(w.p1),
			extra: map[int][]variant{0: {{"braced UUID", "{" + w.p1 + "}", false}, {"URN UUID", "urn:uuid:" + w.p1, false}}}},
		"cases:GetTimeline": {channel: "national", id: "aud", honest: fixed(w.p1, w.timelineBM, "1"),
			extra: map[int][]variant{1: bookmarkVariants(w.timelineBM, w.statusBM, w.anchorBM), 2: pageVariants()}},
		"cases:GetHistory": {channel: "national", id: "aud", honest: fixed(w.p1, w.historyBM, "1"),
			extra: map[int][]variant{1: append(bookmarkVariants(w.historyBM, w.timelineBM), variant{"short tx id", b64("abc"), true}), 2: pageVariants()}},
		"cases:ListByStatus": {channel: "national", id: "aud", honest: fixed("REGISTERED", w.statusBM, "1"),
			extra: map[int][]variant{0: {{"lower case", "registered", true}, {"dublin status", "TAKE_CHARGE_REQUESTED", true}}, 1: bookmarkVariants(w.statusBM, w.agencyBM), 2: pageVariants()}},
		"cases:ListByAgency": {channel: "national", id: "aud", honest: fixed("BorderPoliceMSP", w.agencyBM, "1"),
			extra: map[int][]variant{0: {{"unknown MSP", "StrangerMSP", true}}, 1: bookmarkVariants(w.agencyBM, w.statusBM), 2: pageVariants()}},
		"cases:GetRequestResult": {channel: "national", id: "bp", honest: fixed(newID()), mayFail: true},

		"dublin:ResolveDeadlines": {channel: "dublin", id: "at-do", honest: fresh(w.d1), mayFail: true},
		"dublin:DeadlinesDue": {channel: "dublin", id: "aud", honest: fixed("2027-01-01", w.dueBM, "1"),
			extra: map[int][]variant{0: {{"slashes", "2027/01/01", true}, {"short", "2027-1-1", true}}, 1: append(bookmarkVariants(w.dueBM),
				variant{"board key after the query's end", b64("due/2027-02-01/REPLY/" + w.d1), true},
				variant{"board key with an unknown kind", b64("due/2026-04-01/NAME/" + w.d1), true},
				variant{"board key with a name", b64("due/2026-04-01/REPLY/Max Mustermann"), false}), 2: pageVariants()}},
		"dublin:SetHolidays": {channel: "dublin", id: "at-do", honest: fresh("AT", "2026", hol),
			extra: map[int][]variant{1: {{"lower case", "at", true}, {"unknown", "XX", true}}, 2: {{"leading zero", "02026", true}, {"plus", "+2026", true}},
				3: {{"space", `["2026-01-01", "2026-12-25"]`, true}, {"escape", `["\u0032026-01-01","2026-12-25"]`, true}, {"unsorted", `["2026-12-25","2026-01-01"]`, true}, {"name", `["2026-01-01","Max Mustermann"]`, false}}}},
		"dublin:GetHolidays": {channel: "dublin", id: "aud", honest: fixed("AT", "2026"), mayFail: true,
			extra: map[int][]variant{1: {{"leading zero", "02026", true}, {"short", "26", true}}}},

		"anchors:AnchorDocument": {channel: "national", id: "bp", honest: func() []string {
			return []string{newID(), w.p1, strings.ReplaceAll(newID()+newID(), "-", "")[:64], "", today}
		}, extra: map[int][]variant{3: {{"withheld detail", "DECISION", true}, {"lower case", "decision", true}, {"free text", "Minutes of the hearing", false}}}},
		"anchors:VerifyAnchor": {channel: "national", id: "aud", honest: fixed(w.p1, w.hash),
			extra: map[int][]variant{1: {{"short", w.hash[:63], false}, {"0x", "0x" + w.hash[:62], false}}}},
		"anchors:ListAnchors": {channel: "national", id: "aud", honest: fixed(w.p1, w.anchorBM, "1"),
			extra: map[int][]variant{1: bookmarkVariants(w.anchorBM, w.timelineBM), 2: pageVariants()}},

		"erasure:RequestErasure":   {channel: "national", id: "bp", honest: fresh(w.p2, today), mayFail: true},
		"erasure:ConfirmErasure":   {channel: "national", id: "bp", honest: fresh(w.p2, today), mayFail: true},
		"erasure:GetErasureStatus": {channel: "national", id: "aud", honest: fixed(w.p1)},
		"erasure:ListOpenErasures": {channel: "national", id: "aud", honest: fixed("", "1"),
			extra: map[int][]variant{0: {{"base64 of a name", b64("Max Mustermann"), false}, {"erasure key with a name", b64("\x00erasure\x00Mustermann\x00"), false}, {"status bookmark", w.statusBM, true}}, 1: pageVariants()}},

		"audit:GetPrivateDataHashes": {channel: "national", id: "aud", honest: fixed(w.p1)},
		"audit:ListLateEvents": {channel: "national", id: "aud", honest: fixed("BorderPoliceMSP", w.lateBM, "1"),
			extra: map[int][]variant{0: {{"unknown MSP", "StrangerMSP", true}}, 1: bookmarkVariants(w.lateBM, w.agencyBM), 2: pageVariants()}},

		"gov:ApproveMembership": {channel: "national", id: "ao-admin", honest: fixed("1", w.hash),
			extra: map[int][]variant{0: {{"leading zero", "01", true}, {"zero", "0", true}, {"plus", "+1", true}}}},
		"gov:SetMembership": {channel: "national", id: "ao-admin", honest: fixed(w.grownDoc), mayFail: true,
			extra: map[int][]variant{0: membershipVariants(w.grownDoc)}},
		"gov:GetMembership": {channel: "national", id: "aud", honest: fixed()},

		"admin:GetChaincodeInfo":             {channel: "national", id: "aud", honest: fixed()},
		"admin:GetVocabulary":                {channel: "dublin", id: "aud", honest: fixed()},
		"org.hyperledger.fabric:GetMetadata": {channel: "national", id: "aud", honest: fixed()},
	}
}

// TestEveryArgumentIsCanonical: for every function the gate admits, honest canonical arguments
// pass, and every non-canonical variant of every argument — generic ones (whitespace, NUL, case,
// appended names) and specific ones (duplicate JSON keys carrying a name, key order, escapes,
// padded numbers, forged bookmarks carrying base64 of a name) — is refused with INVALID_ARGUMENT
// (or PERSONAL_DATA where the value looks like personal data) and writes nothing. A surplus or
// missing argument and a misspelt function name are refused too.
func TestEveryArgumentIsCanonical(t *testing.T) {
	w := newArgWorld(t)
	n := w.n
	cases := argCases(w)
	for _, fn := range n.cc.Functions() {
		if _, ok := cases[fn]; !ok {
			t.Errorf("%s has no argument test", fn)
		}
	}
	refused := func(t *testing.T, c argCase, fn string, args []string, exact bool) {
		t.Helper()
		before := n.ledger[c.channel].Keys()
		r := n.invoke(c.channel, c.id, fn, args...)
		k := r.kind()
		switch {
		case r.status == 200:
			t.Fatalf("accepted %q", args)
		case k != domain.KindInvalidArgument && (exact || k != domain.KindPersonalData):
			t.Fatalf("%q: %s, want INVALID_ARGUMENT", args, r.message)
		case len(r.tx.Writes()) != 0 || !slices.Equal(before, n.ledger[c.channel].Keys()):
			t.Fatal("a refused transaction wrote")
		case strings.Contains(r.message, "Mustermann"):
			t.Fatalf("error echoes the argument: %s", r.message)
		}
	}
	for _, fn := range slices.Sorted(func(yield func(string) bool) {
		for f := range cases {
			if !yield(f) {
				return
			}
		}
	}) {
		c := cases[fn]
		t.Run(fn, func(t *testing.T) {
			honest := c.honest()
			if got := len(honest); got != len(n.cc.Params(fn)) {
				t.Fatalf("test has %d honest arguments, %s takes %d", got, fn, len(n.cc.Params(fn)))
			}
			for i := range honest {
				vs := append(genericVariants(honest[i]), c.extra[i]...)
				for _, v := range vs {
					t.Run(n.cc.Params(fn)[i]+"/"+v.name, func(t *testing.T) {
						args := c.honest()
						args[i] = v.value
						refused(t, c, fn, args, v.exact)
					})
				}
			}
			t.Run("surplus argument", func(t *testing.T) { refused(t, c, fn, append(c.honest(), "Max Mustermann"), false) })
			t.Run("surplus empty argument", func(t *testing.T) { refused(t, c, fn, append(c.honest(), ""), true) })
			if len(honest) > 0 {
				t.Run("missing argument", func(t *testing.T) { a := c.honest(); refused(t, c, fn, a[:len(a)-1], true) })
			}
			if i := strings.IndexByte(fn, ':'); i > 0 {
				t.Run("function name variants", func(t *testing.T) {
					for _, name := range []string{fn[i+1:], fn[:i+1] + strings.ToLower(fn[i+1:i+2]) + fn[i+2:], fn + " ", strings.ToUpper(fn)} {
						refused(t, c, name, c.honest(), true)
					}
				})
			}
			// Honest, canonical arguments pass (last: a write changes the ledger).
			r := n.invoke(c.channel, c.id, fn, c.honest()...)
			if k := r.kind(); r.status != 200 && (!c.mayFail || k == domain.KindInvalidArgument || k == domain.KindPersonalData) {
				t.Fatalf("honest call refused: %s", r.message)
			}
		})
	}
}

// TestGateMatchesContracts: the gate's table names exactly the transactions the contracts
// expose, with their parameter counts, so no function escapes the argument checks.
func TestGateMatchesContracts(t *testing.T) {
	n := newNet(t, t0)
	var md struct {
		Contracts map[string]struct {
			Transactions []struct {
				Name       string            `json:"name"`
				Parameters []json.RawMessage `json:"parameters"`
			} `json:"transactions"`
		} `json:"contracts"`
	}
	if err := json.Unmarshal([]byte(n.must("national", "aud", "org.hyperledger.fabric:GetMetadata")), &md); err != nil {
		t.Fatal(err)
	}
	var exposed []string
	for cname, c := range md.Contracts {
		for _, tx := range c.Transactions {
			fn := cname + ":" + tx.Name
			exposed = append(exposed, fn)
			if got, want := len(n.cc.Params(fn)), len(tx.Parameters); got != want {
				t.Errorf("%s: gate expects %d arguments, contract takes %d", fn, got, want)
			}
		}
	}
	slices.Sort(exposed)
	if !slices.Equal(exposed, n.cc.Functions()) {
		t.Errorf("contracts expose %v, gate admits %v", exposed, n.cc.Functions())
	}
}

// TestDuplicateKeyNeverReachesTheLedger is finding 1 of issue 11 as it was observed.
func TestDuplicateKeyNeverReachesTheLedger(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	n.must("national", "bp", "cases:RegisterCase", newID(), p, n.today())
	attack := `{"vocabularyVersion":1,"code":"IDENTITY_CHECKED","occurredOn":"` + n.today() + `","eurodacHit":"Max Mustermann, 01.02.1990, max@example.org","eurodacHit":"NONE"}`
	n.refuse(domain.KindInvalidArgument, "national", "bp", "cases:RecordEvent", newID(), p, attack)
	if s := n.getCase("national", p); s.Seq != 1 || s.Status != domain.StRegistered {
		t.Fatalf("state changed: %+v", s)
	}
	for _, k := range n.ledger["national"].Keys() {
		v, _ := n.ledger["national"].Get(k)
		if strings.Contains(string(v), "Mustermann") {
			t.Fatalf("personal data stored under %q", k)
		}
	}
	// The honest, canonical spelling of the same event passes.
	n.must("national", "bp", "cases:RecordEvent", newID(), p, payload(domain.EvIdentityChecked, n.today(), map[string]any{"eurodacHit": "NONE"}))
}

// proposalParts is a decoded proposal a test may alter.
type proposalParts struct {
	chdr *common.ChannelHeader
	ext  *peer.ChaincodeHeaderExtension
	shdr *common.SignatureHeader
	cis  *peer.ChaincodeInvocationSpec
}

// alterProposal rebuilds sp after change.
func alterProposal(t *testing.T, sp *peer.SignedProposal, change func(p proposalParts)) *peer.SignedProposal {
	t.Helper()
	var prop peer.Proposal
	var hdr common.Header
	var cpp peer.ChaincodeProposalPayload
	p := proposalParts{&common.ChannelHeader{}, &peer.ChaincodeHeaderExtension{}, &common.SignatureHeader{}, &peer.ChaincodeInvocationSpec{}}
	for _, d := range []func() error{
		func() error { return proto.Unmarshal(sp.ProposalBytes, &prop) },
		func() error { return proto.Unmarshal(prop.Header, &hdr) },
		func() error { return proto.Unmarshal(hdr.ChannelHeader, p.chdr) },
		func() error { return proto.Unmarshal(p.chdr.Extension, p.ext) },
		func() error { return proto.Unmarshal(hdr.SignatureHeader, p.shdr) },
		func() error { return proto.Unmarshal(prop.Payload, &cpp) },
		func() error { return proto.Unmarshal(cpp.Input, p.cis) },
	} {
		if err := d(); err != nil {
			t.Fatal(err)
		}
	}
	change(p)
	m := func(v proto.Message) []byte {
		b, err := proto.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	p.chdr.Extension = m(p.ext)
	hdr.ChannelHeader, hdr.SignatureHeader = m(p.chdr), m(p.shdr)
	cpp.Input = m(p.cis)
	prop.Header, prop.Payload = m(&hdr), m(&cpp)
	return &peer.SignedProposal{ProposalBytes: m(&prop)}
}

// unknownField appends a field no schema knows, carrying a name.
func unknownField(m proto.Message) {
	r := m.ProtoReflect()
	r.SetUnknown(protowire.AppendBytes(protowire.AppendTag(r.GetUnknown(), 99, protowire.BytesType), []byte("Max Mustermann")))
}

// TestProposalCarriesNothingElse: the fields of a proposal that Fabric ignores but writes into the
// block with the arguments — chaincode id path and version, epoch, decorations, timeout, unknown
// protobuf fields anywhere, an oversized nonce or TLS binding — are refused; the proposal
// fabric-gateway builds passes.
func TestProposalCarriesNothingElse(t *testing.T) {
	n := newNet(t, t0)
	p := newID()
	name := "Max Mustermann"
	cases := map[string]func(p proposalParts){
		"header chaincode path":        func(p proposalParts) { p.ext.ChaincodeId.Path = name },
		"header chaincode version":     func(p proposalParts) { p.ext.ChaincodeId.Version = name },
		"invocation chaincode path":    func(p proposalParts) { p.cis.ChaincodeSpec.ChaincodeId.Path = name },
		"invocation chaincode version": func(p proposalParts) { p.cis.ChaincodeSpec.ChaincodeId.Version = name },
		"invocation names another chaincode": func(p proposalParts) {
			p.cis.ChaincodeSpec.ChaincodeId = &peer.ChaincodeID{Name: "other"}
		},
		"decorations":                   func(p proposalParts) { p.cis.ChaincodeSpec.Input.Decorations = map[string][]byte{"x": []byte(name)} },
		"timeout":                       func(p proposalParts) { p.cis.ChaincodeSpec.Timeout = 1234 },
		"epoch":                         func(p proposalParts) { p.chdr.Epoch = 0x4d6178 },
		"TLS hash of odd length":        func(p proposalParts) { p.chdr.TlsCertHash = []byte(name) },
		"nonce of 200 bytes":            func(p proposalParts) { p.shdr.Nonce = []byte(strings.Repeat(name, 15)) },
		"no nonce":                      func(p proposalParts) { p.shdr.Nonce = nil },
		"unknown field, channel header": func(p proposalParts) { unknownField(p.chdr) },
		"unknown field, extension":      func(p proposalParts) { unknownField(p.ext) },
		"unknown field, chaincode id":   func(p proposalParts) { unknownField(p.ext.ChaincodeId) },
		"unknown field, sig header":     func(p proposalParts) { unknownField(p.shdr) },
		"unknown field, input":          func(p proposalParts) { unknownField(p.cis.ChaincodeSpec.Input) },
		"unknown field, spec":           func(p proposalParts) { unknownField(p.cis.ChaincodeSpec) },
	}
	creator := n.ids["bp"]
	for name, change := range cases {
		t.Run(name, func(t *testing.T) {
			args := []string{"cases:RegisterCase", newID(), p, n.today()}
			tx := n.ledger["national"].NewTx(creator, n.clock(), args...)
			b := make([][]byte, len(args))
			for i, a := range args {
				b[i] = []byte(a)
			}
			tx.SetProposal(alterProposal(t, fakestub.Proposal("national", tx.GetTxID(), creator, n.clock(), b), change))
			resp := n.cc.Invoke(tx)
			if k, _ := domain.ParseError(resp.Message); resp.Status == 200 || k != domain.KindInvalidArgument || len(tx.Writes()) != 0 {
				t.Fatalf("%d %s", resp.Status, resp.Message)
			}
			if strings.Contains(resp.Message, "Mustermann") {
				t.Fatalf("error echoes the proposal: %s", resp.Message)
			}
		})
	}
	// The TLS binding the peer CLI adds, and the unaltered proposal, pass.
	args := []string{"cases:RegisterCase", newID(), p, n.today()}
	tx := n.ledger["national"].NewTx(creator, n.clock(), args...)
	b := make([][]byte, len(args))
	for i, a := range args {
		b[i] = []byte(a)
	}
	tx.SetProposal(alterProposal(t, fakestub.Proposal("national", tx.GetTxID(), creator, n.clock(), b), func(p proposalParts) {
		p.chdr.TlsCertHash = make([]byte, 32)
	}))
	if resp := n.cc.Invoke(tx); resp.Status != 200 {
		t.Fatalf("honest proposal: %s", resp.Message)
	}
}
