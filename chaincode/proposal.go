package chaincode

import (
	"github.com/hyperledger/fabric-protos-go-apiv2/common"
	mspproto "github.com/hyperledger/fabric-protos-go-apiv2/msp"
	"github.com/hyperledger/fabric-protos-go-apiv2/peer"
	"google.golang.org/protobuf/proto"

	"github.com/caseledger/caseledger/domain"
	"github.com/caseledger/caseledger/internal/protostrict"
)

// Besides the arguments, the proposal's header and chaincode input also go into the block as the
// client signed them. Fabric ignores several of their fields, so a member could fill them with any
// bytes: the chaincode id's path and version, the channel header's epoch, unknown protobuf fields
// (kept as they are by every decoder), an oversized nonce. Honest clients (fabric-gateway, the
// peer CLI) send none of that, so checkProposal refuses it. What remains caller-chosen — the
// nonce's bits, the timestamp within the clock tolerance — is bounded and signed.

// maxNonceLen bounds the signature header's nonce; Fabric's clients draw 24 random bytes.
const maxNonceLen = 32

// tlsCertHashLen: the peer CLI binds a proposal to its TLS client certificate (SHA-256).
const tlsCertHashLen = 32

func checkProposal(sp *peer.SignedProposal) error {
	bad := func(what string) error {
		return domain.Errorf(domain.KindInvalidArgument, "proposal: %s", what)
	}
	var prop peer.Proposal
	if sp == nil || proto.Unmarshal(sp.ProposalBytes, &prop) != nil {
		return bad("undecodable")
	}
	var hdr common.Header
	var chdr common.ChannelHeader
	var shdr common.SignatureHeader
	var ext peer.ChaincodeHeaderExtension
	var creator mspproto.SerializedIdentity
	var cpp peer.ChaincodeProposalPayload
	var cis peer.ChaincodeInvocationSpec
	// Each message's bytes come from the one decoded before it, hence one at a time.
	decode := func(b []byte, m proto.Message) bool {
		return proto.Unmarshal(b, m) == nil && !protostrict.HasUnknownFields(m)
	}
	if !decode(prop.Header, &hdr) || !decode(hdr.ChannelHeader, &chdr) || !decode(hdr.SignatureHeader, &shdr) ||
		!decode(chdr.Extension, &ext) || !decode(shdr.Creator, &creator) || !decode(prop.Payload, &cpp) || !decode(cpp.Input, &cis) {
		return bad("undecodable, or unknown protobuf fields")
	}
	switch {
	case chdr.Epoch != 0:
		return bad("epoch must be 0")
	case len(chdr.TlsCertHash) != 0 && len(chdr.TlsCertHash) != tlsCertHashLen:
		return bad("TLS certificate hash must be a SHA-256")
	case len(shdr.Nonce) == 0 || len(shdr.Nonce) > maxNonceLen:
		return bad("nonce of 1..32 bytes required")
	case ext.GetChaincodeId().GetPath() != "" || ext.GetChaincodeId().GetVersion() != "":
		return bad("chaincode id in the header must name the chaincode only")
	}
	spec := cis.GetChaincodeSpec()
	switch {
	case spec.GetChaincodeId().GetPath() != "" || spec.GetChaincodeId().GetVersion() != "":
		return bad("chaincode id in the invocation must name the chaincode only")
	case spec.GetChaincodeId().GetName() != ext.GetChaincodeId().GetName():
		return bad("chaincode names in header and invocation differ")
	case len(spec.GetInput().GetDecorations()) != 0:
		return bad("decorations are not accepted")
	case spec.GetTimeout() != 0:
		return bad("timeout must be unset")
	}
	return nil
}
