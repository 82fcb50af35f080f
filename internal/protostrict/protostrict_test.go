package protostrict

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

func TestHasUnknownFields(t *testing.T) {
	// Field 15, varint 1: not a field of structpb.Struct/Value/ListValue.
	unknown := []byte{0x78, 0x01}
	with := func(m proto.Message) proto.Message {
		m.ProtoReflect().SetUnknown(unknown)
		return m
	}
	inner := func() *structpb.Struct {
		return &structpb.Struct{Fields: map[string]*structpb.Value{"a": structpb.NewStringValue("x")}}
	}
	cases := []struct {
		name string
		m    proto.Message
		want bool
	}{
		{"clean", inner(), false},
		{"top level", with(inner()), true},
		{"in a map value", &structpb.Struct{Fields: map[string]*structpb.Value{"s": structpb.NewStructValue(with(inner()).(*structpb.Struct))}}, true},
		{"in a list", &structpb.ListValue{Values: []*structpb.Value{structpb.NewNullValue(), with(structpb.NewBoolValue(true)).(*structpb.Value)}}, true},
		{"clean nesting", &structpb.ListValue{Values: []*structpb.Value{structpb.NewStructValue(inner())}}, false},
	}
	for _, tc := range cases {
		if got := HasUnknownFields(tc.m); got != tc.want {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		// What a decoder keeps from the bytes is what is checked.
		b, err := proto.Marshal(tc.m)
		if err != nil {
			t.Fatal(err)
		}
		back := tc.m.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(b, back); err != nil {
			t.Fatal(err)
		}
		if got := HasUnknownFields(back); got != tc.want {
			t.Errorf("%s decoded: %v, want %v", tc.name, got, tc.want)
		}
	}
}
