// Package provenance writes the in-toto v1 Statement with a SLSA provenance
// v1 predicate for one release: which binaries (and image) were made, from
// which commit, with which toolchain and command. It is pure: the pipeline
// gives it the manifest and the run's details and writes the bytes where it
// wants; signing is not done here.
package provenance

import (
	"errors"
	"fmt"
	"time"

	slsa "github.com/in-toto/attestation/go/predicates/provenance/v1"
	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/types/known/timestamppb"

	"github.com/garage-release/garage-release/ci/manifest"
)

// PredicateType is SLSA provenance v1. The attestation library has no
// constant for it (only a comment in the generated code).
const PredicateType = "https://slsa.dev/provenance/v1"

// BuildType names our build process: what externalParameters and
// internalParameters mean. Bump the version if their meaning changes.
const BuildType = "https://github.com/garage-release/garage-release/buildtypes/release/v1"

// Input is what the statement records; the manifest carries the outputs and
// the build's record, the rest comes from the run.
type Input struct {
	// Manifest gives the subjects: every Targets[i] (name Path, sha256
	// SHA256), plus the image when Manifest.Build.ImageDigest is set.
	Manifest *manifest.Manifest
	// ImageRepo is the image's repository ("registry/ns/app") when known,
	// the image subject's name; "image" otherwise.
	ImageRepo string
	// SourceURI is the project's git remote URL when known. Credentials in
	// it are dropped.
	SourceURI string
	// Command is the command line that made the release, secrets removed.
	Command []string
	// Parameters are the release's settings (targets, features, ...).
	Parameters map[string]string
	// BuilderID identifies the builder, e.g.
	// "https://github.com/garage-release/garage-release/releaser@v1".
	BuilderID      string
	BuilderVersion string
	// Started and Finished are omitted when zero: reproducible runs pass
	// SOURCE_DATE_EPOCH-derived times or none.
	Started, Finished time.Time
	InvocationID      string
}

// Statement returns the statement as indented JSON with a final newline.
// Identical inputs give identical bytes.
func Statement(in Input) ([]byte, error) {
	st, err := statement(in)
	if err != nil {
		return nil, err
	}
	return encode(st)
}

func statement(in Input) (*intoto.Statement, error) {
	m := in.Manifest
	if m == nil {
		return nil, errors.New("provenance: no manifest")
	}
	if m.Build == nil {
		return nil, fmt.Errorf("provenance %s: the manifest has no build record", m.Version)
	}
	if in.BuilderID == "" {
		return nil, fmt.Errorf("provenance %s: no builder id", m.Version)
	}
	subjects, err := subjects(m, in.ImageRepo)
	if err != nil {
		return nil, fmt.Errorf("provenance %s: %w", m.Version, err)
	}
	deps, err := dependencies(m, in.SourceURI)
	if err != nil {
		return nil, fmt.Errorf("provenance %s: %w", m.Version, err)
	}
	def, err := buildDefinition(in, deps)
	if err != nil {
		return nil, fmt.Errorf("provenance %s: %w", m.Version, err)
	}
	pred := &slsa.Provenance{BuildDefinition: def, RunDetails: runDetails(in)}
	if err := pred.Validate(); err != nil {
		return nil, fmt.Errorf("provenance %s: %w", m.Version, err)
	}
	predicate, err := toStruct(pred)
	if err != nil {
		return nil, fmt.Errorf("provenance %s: %w", m.Version, err)
	}
	st := &intoto.Statement{
		Type:          intoto.StatementTypeUri,
		Subject:       subjects,
		PredicateType: PredicateType,
		Predicate:     predicate,
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("provenance %s: %w", m.Version, err)
	}
	return st, nil
}

func runDetails(in Input) *slsa.RunDetails {
	b := &slsa.Builder{Id: in.BuilderID}
	if in.BuilderVersion != "" {
		b.Version = map[string]string{"garage-release": in.BuilderVersion}
	}
	rd := &slsa.RunDetails{Builder: b}
	md := &slsa.BuildMetadata{InvocationId: in.InvocationID}
	if !in.Started.IsZero() {
		md.StartedOn = timestamppb.New(in.Started.UTC())
	}
	if !in.Finished.IsZero() {
		md.FinishedOn = timestamppb.New(in.Finished.UTC())
	}
	if md.InvocationId != "" || md.StartedOn != nil || md.FinishedOn != nil {
		rd.Metadata = md
	}
	return rd
}
