package signing

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
)

// SignBlob returns the signature of data as `cosign sign-blob --key k
// --tlog-upload=false --output-signature f` writes it: base64, no newline.
func (s *Signer) SignBlob(data []byte) ([]byte, error) {
	sig, err := s.sv.SignMessage(bytes.NewReader(data))
	if err != nil {
		return nil, fmt.Errorf("sign blob: %w", err)
	}
	return []byte(base64.StdEncoding.EncodeToString(sig)), nil
}

// VerifyBlob checks a SignBlob signature (base64, surrounding whitespace
// allowed) of data against a PEM public key, as `cosign verify-blob` does.
func VerifyBlob(pubPEM, data, sig []byte) error {
	v, err := loadVerifier(pubPEM)
	if err != nil {
		return fmt.Errorf("verify blob: %w", err)
	}
	raw, err := base64.StdEncoding.DecodeString(string(bytes.TrimSpace(sig)))
	if err != nil {
		return errors.New("verify blob: the signature is not base64")
	}
	if err := v.VerifySignature(bytes.NewReader(raw), bytes.NewReader(data)); err != nil {
		return fmt.Errorf("verify blob: signature does not match the data and key: %w", err)
	}
	return nil
}
