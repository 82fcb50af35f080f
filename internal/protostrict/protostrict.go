// Package protostrict holds the one check that protobuf bytes carry nothing
// a decoder would keep and ignore. The chaincode applies it to the proposals
// it endorses and the gateway's auditor to every committed transaction; it is
// apart from both so that the gateway does not link the chaincode.
package protostrict

import (
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// HasUnknownFields reports unknown protobuf fields in m or any message within
// it: bytes every decoder keeps and ignores, so a place to hide data. (The
// auditor's verification uses it on the parts of a transaction the chaincode
// never sees.)
func HasUnknownFields(m proto.Message) bool { return hasUnknownFields(m.ProtoReflect()) }

func hasUnknownFields(m protoreflect.Message) bool {
	if len(m.GetUnknown()) != 0 {
		return true
	}
	found := false
	m.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		switch {
		case fd.IsList() && fd.Message() != nil:
			l := v.List()
			for i := 0; i < l.Len() && !found; i++ {
				found = hasUnknownFields(l.Get(i).Message())
			}
		case fd.IsMap() && fd.MapValue().Message() != nil:
			v.Map().Range(func(_ protoreflect.MapKey, mv protoreflect.Value) bool {
				found = hasUnknownFields(mv.Message())
				return !found
			})
		case fd.Message() != nil && !fd.IsList() && !fd.IsMap():
			found = hasUnknownFields(v.Message())
		}
		return !found
	})
	return found
}
