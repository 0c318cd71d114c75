package provenance

import (
	"fmt"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/structpb"
)

// buildDefinition records what was asked for (externalParameters: what a
// verifier may compare with its expectations) apart from what the builder
// chose itself (internalParameters).
func buildDefinition(in Input, deps []*intoto.ResourceDescriptor) (*slsa.BuildDefinition, error) {
	m := in.Manifest
	targets := make([]any, 0, len(m.Targets))
	for _, a := range m.Targets {
		targets = append(targets, a.Target)
	}
	command := make([]any, 0, len(in.Command))
	for _, c := range in.Command {
		command = append(command, c)
	}
	params := make(map[string]any, len(in.Parameters))
	for k, v := range in.Parameters {
		params[k] = v
	}
	ext, err := structpb.NewStruct(map[string]any{
		"version":    m.Version,
		"class":      m.Class,
		"targets":    targets,
		"command":    command,
		"parameters": params,
	})
	if err != nil {
		return nil, fmt.Errorf("externalParameters: %w", err)
	}
	internal, err := structpb.NewStruct(map[string]any{
		// A JSON number; seconds since 1970 are exact in a float64.
		"source_date_epoch": float64(m.Build.SourceDateEpoch),
	})
	if err != nil {
		return nil, fmt.Errorf("internalParameters: %w", err)
	}
	return &slsa.BuildDefinition{
		BuildType:            BuildType,
		ExternalParameters:   ext,
		InternalParameters:   internal,
		ResolvedDependencies: deps,
	}, nil
}
