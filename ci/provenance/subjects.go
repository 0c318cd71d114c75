package provenance

import (
	"fmt"
	"regexp"
	"strings"

	intoto "github.com/in-toto/attestation/go/v1"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/garage-release/garage-release/ci/manifest"
)

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// subjects are the release's binaries by their path in the release folder,
// then the image: what cosign matches a blob's or image's digest against.
func subjects(m *manifest.Manifest, imageRepo string) ([]*intoto.ResourceDescriptor, error) {
	if len(m.Targets) == 0 {
		return nil, fmt.Errorf("no targets")
	}
	var out []*intoto.ResourceDescriptor
	seen := map[string]bool{}
	add := func(name, sum string) error {
		if name == "" {
			return fmt.Errorf("a subject has no name")
		}
		if seen[name] {
			return fmt.Errorf("subject %s is listed twice", name)
		}
		if !hexSHA256.MatchString(sum) {
			return fmt.Errorf("subject %s: bad sha256 %q", name, sum)
		}
		seen[name] = true
		out = append(out, &intoto.ResourceDescriptor{Name: name, Digest: map[string]string{"sha256": sum}})
		return nil
	}
	for _, a := range m.Targets {
		if err := add(a.Path, a.SHA256); err != nil {
			return nil, fmt.Errorf("target %s: %w", a.Target, err)
		}
	}
	if d := m.Build.ImageDigest; d != "" {
		hex, ok := strings.CutPrefix(d, "sha256:")
		if !ok {
			return nil, fmt.Errorf("image digest %q is not sha256:<hex>", d)
		}
		name := imageRepo
		if name == "" {
			name = "image"
		}
		if err := add(name, hex); err != nil {
			return nil, fmt.Errorf("image: %w", err)
		}
	}
	return out, nil
}

// Subjects reads a statement written by Statement and returns its subjects
// as name -> sha256 hex, so a caller can check them against the files it is
// about to publish or sign.
func Subjects(statement []byte) (map[string]string, error) {
	var st intoto.Statement
	if err := protojson.Unmarshal(statement, &st); err != nil {
		return nil, fmt.Errorf("provenance: parsing the statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("provenance: invalid statement: %w", err)
	}
	if st.GetPredicateType() != PredicateType {
		return nil, fmt.Errorf("provenance: predicate type %q, want %q", st.GetPredicateType(), PredicateType)
	}
	out := make(map[string]string, len(st.GetSubject()))
	for _, s := range st.GetSubject() {
		sum := s.GetDigest()["sha256"]
		if !hexSHA256.MatchString(sum) {
			return nil, fmt.Errorf("provenance: subject %q has no sha256", s.GetName())
		}
		if _, dup := out[s.GetName()]; dup {
			return nil, fmt.Errorf("provenance: subject %q is listed twice", s.GetName())
		}
		out[s.GetName()] = sum
	}
	return out, nil
}
