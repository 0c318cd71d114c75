package signing

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/sigstore/sigstore/pkg/signature/payload"
)

// ImageSignatures are an image's (index's) signature and signed attestation,
// made at release time and attached at publish time, so that publishing
// needs no key. It is stored as JSON (image.sig.json); the signed bytes are
// kept as JSON strings so that they survive the round trip byte for byte.
type ImageSignatures struct {
	// Repository is the repository the signature claims (the simple-signing
	// docker-reference); cosign checks only the digest, so the signatures
	// also verify where the image is promoted to.
	Repository string `json:"repository"`
	// Digest is the signed manifest digest, "sha256:<hex>".
	Digest string `json:"digest"`
	// Payload is the simple-signing JSON `cosign sign` signs.
	Payload string `json:"payload"`
	// Signature is the base64 signature of Payload (the .sig layer's
	// dev.cosignproject.cosign/signature annotation).
	Signature string `json:"signature"`
	// Envelope is the signed DSSE envelope of an in-toto statement about
	// Digest (the .att layer); empty when there is no attestation.
	Envelope string `json:"envelope,omitempty"`
	// PredicateType is the statement's predicate type (the .att layer's
	// predicateType annotation).
	PredicateType string `json:"predicateType,omitempty"`
	// PublicKey is the PEM public key that checks all of the above; Attach
	// checks it before writing and uses it to spot a signature already there.
	PublicKey string `json:"publicKey"`
}

// SignImage signs repo@digest (repo like "registry.example/ns/app", digest
// "sha256:...") as `cosign sign --key k --tlog-upload=false repo@digest`
// does, and keeps envelope (from SignStatement, by the same key, about a
// subject with that digest) as its attestation. envelope may be nil.
func (s *Signer) SignImage(repo, digest string, envelope []byte) (*ImageSignatures, error) {
	ref, err := name.NewDigest(repo + "@" + digest)
	if err != nil {
		return nil, fmt.Errorf("sign image %s@%s: %w", repo, digest, err)
	}
	// ClaimedIdentity empty: the docker-reference is the repository, as
	// cosign writes it without --sign-container-identity.
	p, err := payload.Cosign{Image: ref}.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("sign image %s: payload: %w", ref, err)
	}
	sig, err := s.SignBlob(p)
	if err != nil {
		return nil, fmt.Errorf("sign image %s: %w", ref, err)
	}
	is := &ImageSignatures{
		Repository: ref.Context().Name(),
		Digest:     ref.DigestStr(),
		Payload:    string(p),
		Signature:  string(sig),
		Envelope:   string(envelope),
		PublicKey:  string(s.pubPEM),
	}
	if len(envelope) > 0 {
		st, err := VerifyEnvelope(s.pubPEM, envelope)
		if err != nil {
			return nil, fmt.Errorf("sign image %s: attestation: %w", ref, err)
		}
		parsed, _ := parseStatement(st) // VerifyEnvelope parsed it already
		is.PredicateType = parsed.GetPredicateType()
	}
	if err := is.Validate(); err != nil {
		return nil, fmt.Errorf("sign image %s: %w", ref, err)
	}
	return is, nil
}

// Marshal serialises the signatures for image.sig.json.
func (is *ImageSignatures) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(is, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("encode image signatures: %w", err)
	}
	return append(b, '\n'), nil
}

// ParseImageSignatures reads image.sig.json and checks it (see Validate).
func ParseImageSignatures(b []byte) (*ImageSignatures, error) {
	var is ImageSignatures
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&is); err != nil {
		return nil, fmt.Errorf("parse image signatures: %w", err)
	}
	if err := is.Validate(); err != nil {
		return nil, fmt.Errorf("parse image signatures: %w", err)
	}
	return &is, nil
}

// Validate checks that the signatures are whole and consistent: the payload
// names Digest, the signature and the envelope verify with PublicKey, and
// the statement's subjects include Digest. It is what cosign will check,
// done before anything reaches a registry.
func (is *ImageSignatures) Validate() error {
	h, err := v1.NewHash(is.Digest)
	if err != nil {
		return fmt.Errorf("image signatures: digest %q: %w", is.Digest, err)
	}
	var p payload.Cosign
	if err := json.Unmarshal([]byte(is.Payload), &p); err != nil {
		return fmt.Errorf("image signatures for %s: payload: %w", is.Digest, err)
	}
	if got := p.Image.DigestStr(); got != is.Digest {
		return fmt.Errorf("image signatures for %s: the payload signs %s instead", is.Digest, got)
	}
	if err := VerifyBlob([]byte(is.PublicKey), []byte(is.Payload), []byte(is.Signature)); err != nil {
		return fmt.Errorf("image signatures for %s: %w", is.Digest, err)
	}
	if is.Envelope == "" {
		if is.PredicateType != "" {
			return fmt.Errorf("image signatures for %s: predicate type %q without an attestation", is.Digest, is.PredicateType)
		}
		return nil
	}
	st, err := VerifyEnvelope([]byte(is.PublicKey), []byte(is.Envelope))
	if err != nil {
		return fmt.Errorf("image signatures for %s: attestation: %w", is.Digest, err)
	}
	parsed, err := parseStatement(st)
	if err != nil {
		return fmt.Errorf("image signatures for %s: attestation: %w", is.Digest, err)
	}
	if !hasSubjectDigest(parsed, h.Algorithm, h.Hex) {
		return fmt.Errorf("image signatures for %s: the attestation's subjects do not include this digest", is.Digest)
	}
	if parsed.GetPredicateType() != is.PredicateType {
		return fmt.Errorf("image signatures for %s: predicate type %q, but the statement says %q",
			is.Digest, is.PredicateType, parsed.GetPredicateType())
	}
	return nil
}

// errNoSignature is returned by Attach for an empty ImageSignatures.
var errNoSignature = errors.New("no image signature")

func (is *ImageSignatures) digestRef(repo string, insecure bool) (name.Digest, error) {
	if is == nil || strings.TrimSpace(is.Signature) == "" {
		return name.Digest{}, errNoSignature
	}
	return parseDigestRef(repo, is.Digest, insecure)
}
