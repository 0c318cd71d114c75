package provenance

import (
	"bytes"
	"encoding/json"
	"fmt"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"
)

// toStruct turns the typed predicate into the Statement's free-form
// predicate, through protojson so the field names are the spec's
// (buildDefinition, resolvedDependencies, ...).
func toStruct(m proto.Message) (*structpb.Struct, error) {
	b, err := protojson.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("encoding the predicate: %w", err)
	}
	var s structpb.Struct
	if err := protojson.Unmarshal(b, &s); err != nil {
		return nil, fmt.Errorf("converting the predicate: %w", err)
	}
	return &s, nil
}

// encode writes protojson's field order (the proto's, map keys sorted) and
// then re-indents with encoding/json: protojson deliberately varies its
// whitespace between builds, which would make the bytes, and so the
// signatures over them, differ for identical inputs.
func encode(m proto.Message) ([]byte, error) {
	b, err := protojson.MarshalOptions{}.Marshal(m)
	if err != nil {
		return nil, fmt.Errorf("provenance: encoding the statement: %w", err)
	}
	var out bytes.Buffer
	if err := json.Indent(&out, b, "", "  "); err != nil {
		return nil, fmt.Errorf("provenance: indenting the statement: %w", err)
	}
	out.WriteByte('\n')
	return out.Bytes(), nil
}
