package signing

import (
	"context"
	"errors"
	"fmt"

	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/sigstore/cosign/v3/pkg/oci"
	"github.com/sigstore/cosign/v3/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
	"github.com/sigstore/cosign/v3/pkg/oci/static"
)

// ErrNoAttachments is returned by CopyAttachments when the source holds
// neither a signature nor an attestation for the digest.
var ErrNoAttachments = errors.New("no signatures or attestations to copy")

// CopyAttachments copies every signature (.sig) and attestation (.att) of
// fromRepo@digest to toRepo@digest, for `promote` to another repository: the
// image keeps verifying with `cosign verify` there, and no key is needed.
// Layers already present in toRepo are not added again (idempotent). The
// same opts (auth, transport) and insecure apply to both repositories, so
// across registries give auth through a keychain rather than one login.
func CopyAttachments(ctx context.Context, fromRepo, toRepo, digest string, insecure bool, opts ...remote.Option) error {
	from, err := parseDigestRef(fromRepo, digest, insecure)
	if err != nil {
		return fmt.Errorf("copy signatures: %w", err)
	}
	to, err := parseDigestRef(toRepo, digest, insecure)
	if err != nil {
		return fmt.Errorf("copy signatures: %w", err)
	}
	oopts := ociOptions(ctx, insecure, opts)
	src := ociremote.SignedUnknown(from, oopts...)

	sigs, err := layersOf(src.Signatures)
	if err != nil {
		return fmt.Errorf("copy signatures from %s: read: %w", from, err)
	}
	atts, err := layersOf(src.Attestations)
	if err != nil {
		return fmt.Errorf("copy attestations from %s: read: %w", from, err)
	}
	if len(sigs) == 0 && len(atts) == 0 {
		return fmt.Errorf("copy signatures from %s: %w", from, ErrNoAttachments)
	}
	if len(sigs) > 0 {
		se, err := attachAll(ociremote.SignedUnknown(to, oopts...), sigs, mutate.AttachSignatureToEntity)
		if err != nil {
			return fmt.Errorf("copy signatures to %s: %w", to, err)
		}
		if err := ociremote.WriteSignatures(to.Repository, se, oopts...); err != nil {
			return fmt.Errorf("copy signatures to %s: write: %w", to, err)
		}
	}
	if len(atts) > 0 {
		se, err := attachAll(ociremote.SignedUnknown(to, oopts...), atts, mutate.AttachAttestationToEntity)
		if err != nil {
			return fmt.Errorf("copy attestations to %s: %w", to, err)
		}
		if err := ociremote.WriteAttestations(to.Repository, se, oopts...); err != nil {
			return fmt.Errorf("copy attestations to %s: write: %w", to, err)
		}
	}
	return nil
}

// layersOf reads the layers of a .sig or .att image (none when the tag is
// missing: cosign's remote package returns an empty set for a 404).
func layersOf(get func() (oci.Signatures, error)) ([]oci.Signature, error) {
	sigs, err := get()
	if err != nil {
		return nil, err
	}
	return sigs.Get()
}

type attachFunc func(oci.SignedEntity, oci.Signature, ...mutate.SignOption) (oci.SignedEntity, error)

// attachAll adds in-memory copies of layers to se (so that writing them to
// another repository does not depend on the source's blobs), skipping those
// already there.
func attachAll(se oci.SignedEntity, layers []oci.Signature, attach attachFunc) (oci.SignedEntity, error) {
	for _, l := range layers {
		c, err := static.Copy(l)
		if err != nil {
			return nil, err
		}
		if se, err = attach(se, c, mutate.WithDupeDetector(identicalLayer{})); err != nil {
			return nil, err
		}
	}
	return se, nil
}
