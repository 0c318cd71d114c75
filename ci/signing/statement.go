package signing

import (
	"bytes"
	"fmt"

	intoto "github.com/in-toto/attestation/go/v1"
	"github.com/sigstore/cosign/v3/pkg/types"
	"github.com/sigstore/sigstore/pkg/signature/dsse"
	"google.golang.org/protobuf/encoding/protojson"
)

// SignStatement wraps an in-toto statement (JSON) in a DSSE envelope signed
// with the key (payload type application/vnd.in-toto+json), as `cosign
// attest-blob --statement s --key k --tlog-upload=false --output-signature f`
// writes f. `cosign verify-blob-attestation --key cosign.pub --signature f
// --type <predicate> --insecure-ignore-tlog <blob>` checks it.
func (s *Signer) SignStatement(statement []byte) ([]byte, error) {
	if _, err := parseStatement(statement); err != nil {
		return nil, fmt.Errorf("sign statement: %w", err)
	}
	env, err := dsse.WrapSigner(s.sv, types.IntotoPayloadType).SignMessage(bytes.NewReader(statement))
	if err != nil {
		return nil, fmt.Errorf("sign statement: %w", err)
	}
	return env, nil
}

// VerifyEnvelope checks a SignStatement envelope against a PEM public key
// and returns the statement it carries, once the signature, the payload
// type and the statement's shape are all right.
func VerifyEnvelope(pubPEM, env []byte) (statement []byte, err error) {
	v, err := loadVerifier(pubPEM)
	if err != nil {
		return nil, fmt.Errorf("verify envelope: %w", err)
	}
	var payload []byte
	dv := dsse.WrapVerifier(v, dsse.WithExpectedPayloadType(types.IntotoPayloadType), dsse.WithDecodedPayload(&payload))
	if err := dv.VerifySignature(bytes.NewReader(env), nil); err != nil {
		return nil, fmt.Errorf("verify envelope: signature does not match the key: %w", err)
	}
	if _, err := parseStatement(payload); err != nil {
		return nil, fmt.Errorf("verify envelope: %w", err)
	}
	return payload, nil
}

// parseStatement reads an in-toto v1 statement and checks what cosign's
// verifiers rely on: the statement type, a predicate type, digests.
func parseStatement(b []byte) (*intoto.Statement, error) {
	var st intoto.Statement
	if err := protojson.Unmarshal(b, &st); err != nil {
		return nil, fmt.Errorf("not an in-toto statement: %w", err)
	}
	if err := st.Validate(); err != nil {
		return nil, fmt.Errorf("invalid in-toto statement: %w", err)
	}
	return &st, nil
}

// hasSubjectDigest reports whether a statement names digest ("sha256:<hex>")
// among its subjects: `cosign verify-attestation` requires it of an image's.
func hasSubjectDigest(st *intoto.Statement, algo, hex string) bool {
	for _, sub := range st.GetSubject() {
		if sub.GetDigest()[algo] == hex {
			return true
		}
	}
	return false
}
