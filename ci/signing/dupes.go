package signing

import (
	"bytes"
	"maps"

	"github.com/sigstore/cosign/v3/pkg/oci"
	"github.com/sigstore/cosign/v3/pkg/types"
	"github.com/sigstore/sigstore/pkg/signature"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
	"google.golang.org/protobuf/proto"
)

// identicalLayer is a mutate.DupeDetector that finds a layer with the same
// digest, media type and annotations as the new one.
type identicalLayer struct{}

func (identicalLayer) Find(existing oci.Signatures, newSig oci.Signature) (oci.Signature, error) {
	want, err := newSig.Digest()
	if err != nil {
		return nil, err
	}
	wantMT, err := newSig.MediaType()
	if err != nil {
		return nil, err
	}
	wantAnn, err := newSig.Annotations()
	if err != nil {
		return nil, err
	}
	sigs, err := existing.Get()
	if err != nil {
		return nil, err
	}
	for _, s := range sigs {
		d, err := s.Digest()
		if err != nil || d != want {
			continue
		}
		if mt, err := s.MediaType(); err != nil || mt != wantMT {
			continue
		}
		if ann, err := s.Annotations(); err != nil || !maps.Equal(ann, wantAnn) {
			continue
		}
		return s, nil
	}
	return nil, nil
}

// sameStatement is a mutate.DupeDetector for attestations. cosign's own
// detector never matches one (an attestation layer has no signature
// annotation), so every `cosign attest` adds a layer; here an attestation
// is already there when an identical layer is, or when an envelope signed
// by the same key carries the same statement (a re-signed release: ECDSA
// signatures differ each time, the statement does not).
type sameStatement struct {
	verifier signature.Verifier
}

func (d sameStatement) Find(existing oci.Signatures, newSig oci.Signature) (oci.Signature, error) {
	if s, err := (identicalLayer{}).Find(existing, newSig); s != nil || err != nil {
		return s, err
	}
	newEnv, err := newSig.Payload()
	if err != nil {
		return nil, err
	}
	want, err := d.statement(newEnv)
	if err != nil {
		return nil, nil // not ours to judge: no duplicate
	}
	sigs, err := existing.Get()
	if err != nil {
		return nil, err
	}
	for _, s := range sigs {
		if mt, err := s.MediaType(); err != nil || mt != types.DssePayloadType {
			continue
		}
		env, err := s.Payload()
		if err != nil {
			continue
		}
		if got, err := d.statement(env); err == nil && proto.Equal(got, want) {
			return s, nil
		}
	}
	return nil, nil
}

// statement verifies env with the key and parses its statement.
func (d sameStatement) statement(env []byte) (proto.Message, error) {
	var payload []byte
	dv := dsse.WrapVerifier(d.verifier, dsse.WithExpectedPayloadType(types.IntotoPayloadType), dsse.WithDecodedPayload(&payload))
	if err := dv.VerifySignature(bytes.NewReader(env), nil); err != nil {
		return nil, err
	}
	return parseStatement(payload)
}
