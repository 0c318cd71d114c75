package signing

import (
	"context"
	"fmt"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	cremote "github.com/sigstore/cosign/v3/pkg/cosign/remote"
	"github.com/sigstore/cosign/v3/pkg/oci/mutate"
	ociremote "github.com/sigstore/cosign/v3/pkg/oci/remote"
	"github.com/sigstore/cosign/v3/pkg/oci/static"
	"github.com/sigstore/cosign/v3/pkg/types"
)

// predicateTypeAnnotation is the .att layer annotation `cosign attest` writes.
const predicateTypeAnnotation = "predicateType"

// Attach writes the signature (tag sha256-<hex>.sig) and the attestation
// (tag sha256-<hex>.att) of repo@is.Digest to the registry, as `cosign sign`
// and `cosign attest` do with --tlog-upload=false. It checks is first
// (Validate), so a damaged image.sig.json never reaches the registry.
//
// Idempotent: a signature already there (one that verifies with
// is.PublicKey, as cosign's own duplicate detector finds it) and an
// attestation of the same statement by the same key are not added again,
// so neither a re-run of publish nor a re-signed release piles up copies.
//
// Attaching the same ImageSignatures to another repository holding the same
// digest is how a promoted image gets its signatures (the payload names the
// release repository, but cosign checks only the digest).
//
// opts are go-containerregistry remote options (auth, transport). With none,
// the docker keychain (~/.docker/config.json) logs in; given ones replace
// it, so include the login (remote.WithAuth or WithAuthFromKeychain).
// insecure selects plain http (name.Insecure).
func Attach(ctx context.Context, repo string, insecure bool, is *ImageSignatures, opts ...remote.Option) error {
	ref, err := is.digestRef(repo, insecure)
	if err != nil {
		return fmt.Errorf("attach signatures to %s: %w", repo, err)
	}
	if err := is.Validate(); err != nil {
		return fmt.Errorf("attach signatures to %s: %w", ref, err)
	}
	oopts := ociOptions(ctx, insecure, opts)

	sig, err := static.NewSignature([]byte(is.Payload), is.Signature)
	if err != nil {
		return fmt.Errorf("attach signature to %s: %w", ref, err)
	}
	v, err := loadVerifier([]byte(is.PublicKey))
	if err != nil {
		return fmt.Errorf("attach signature to %s: %w", ref, err)
	}
	se, err := mutate.AttachSignatureToEntity(ociremote.SignedUnknown(ref, oopts...), sig,
		mutate.WithDupeDetector(cremote.NewDupeDetector(v)))
	if err != nil {
		return fmt.Errorf("attach signature to %s: %w", ref, err)
	}
	if err := ociremote.WriteSignatures(ref.Repository, se, oopts...); err != nil {
		return fmt.Errorf("attach signature to %s: write: %w", ref, err)
	}

	if is.Envelope == "" {
		return nil
	}
	att, err := static.NewAttestation([]byte(is.Envelope),
		static.WithLayerMediaType(types.DssePayloadType),
		static.WithAnnotations(map[string]string{predicateTypeAnnotation: is.PredicateType}))
	if err != nil {
		return fmt.Errorf("attach attestation to %s: %w", ref, err)
	}
	se, err = mutate.AttachAttestationToEntity(ociremote.SignedUnknown(ref, oopts...), att,
		mutate.WithDupeDetector(sameStatement{verifier: v}))
	if err != nil {
		return fmt.Errorf("attach attestation to %s: %w", ref, err)
	}
	if err := ociremote.WriteAttestations(ref.Repository, se, oopts...); err != nil {
		return fmt.Errorf("attach attestation to %s: write: %w", ref, err)
	}
	return nil
}

// ociOptions turns go-containerregistry options into cosign's. Without
// options the docker keychain gives the login, as in cosign; given options
// replace it (go-containerregistry refuses a keychain and an authenticator
// together), so they must carry the login themselves.
func ociOptions(ctx context.Context, insecure bool, opts []remote.Option) []ociremote.Option {
	if len(opts) == 0 {
		opts = []remote.Option{remote.WithAuthFromKeychain(authn.DefaultKeychain)}
	}
	ropts := append([]remote.Option{remote.WithContext(ctx)}, opts...)
	oopts := []ociremote.Option{ociremote.WithRemoteOptions(ropts...)}
	if insecure {
		oopts = append(oopts, ociremote.WithNameOptions(name.Insecure))
	}
	return oopts
}

func parseDigestRef(repo, digest string, insecure bool) (name.Digest, error) {
	var nopts []name.Option
	if insecure {
		nopts = append(nopts, name.Insecure)
	}
	ref, err := name.NewDigest(repo+"@"+digest, nopts...)
	if err != nil {
		return name.Digest{}, fmt.Errorf("image reference %s@%s: %w", repo, digest, err)
	}
	return ref, nil
}
