package signing

import (
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/sigstore/cosign/v3/pkg/cosign"
	"github.com/sigstore/sigstore/pkg/cryptoutils"
	"github.com/sigstore/sigstore/pkg/signature"
)

// Signer signs with a cosign private key.
type Signer struct {
	sv     signature.SignerVerifier
	pubPEM []byte
}

// LoadKey decrypts a cosign private key (PEM as `cosign generate-key-pair`
// writes) with its password. Errors name the problem (not PEM, not a cosign
// key, wrong password) and never contain the key or the password.
func LoadKey(pemKey, password []byte) (*Signer, error) {
	block, _ := pem.Decode(pemKey)
	if block == nil {
		return nil, errors.New("load cosign key: not a PEM file")
	}
	if block.Type != cosign.SigstorePrivateKeyPemType && block.Type != cosign.CosignPrivateKeyPemType {
		// The block type is a label, not key material: safe to show.
		return nil, fmt.Errorf("load cosign key: PEM block %q is not a cosign private key (want %q, as `cosign generate-key-pair` writes)",
			block.Type, cosign.SigstorePrivateKeyPemType)
	}
	// An empty option list is what `cosign sign-blob --tlog-upload=false`
	// uses (pure Ed25519 rather than Ed25519ph); ECDSA keys are unaffected.
	sv, err := cosign.LoadPrivateKey(pemKey, password, &[]signature.LoadOption{})
	if err != nil {
		// cosign's errors are fixed strings (no key bytes), but only the
		// decryption failure is worth its own message.
		if strings.HasPrefix(err.Error(), "decrypt:") {
			return nil, errors.New("load cosign key: wrong password (the key could not be decrypted)")
		}
		return nil, fmt.Errorf("load cosign key: decrypted, but not a usable private key: %w", err)
	}
	pub, err := sv.PublicKey()
	if err != nil {
		return nil, fmt.Errorf("load cosign key: public key: %w", err)
	}
	pubPEM, err := cryptoutils.MarshalPublicKeyToPEM(pub)
	if err != nil {
		return nil, fmt.Errorf("load cosign key: encode public key: %w", err)
	}
	return &Signer{sv: sv, pubPEM: pubPEM}, nil
}

// PublicKeyPEM returns the public key as cosign.pub holds it
// ("-----BEGIN PUBLIC KEY-----", PKIX).
func (s *Signer) PublicKeyPEM() ([]byte, error) {
	return append([]byte(nil), s.pubPEM...), nil
}

// loadVerifier parses a PEM public key (cosign.pub) into a verifier with
// the hash cosign's signer uses for that key type.
func loadVerifier(pubPEM []byte) (signature.Verifier, error) {
	pub, err := cryptoutils.UnmarshalPEMToPublicKey(pubPEM)
	if err != nil {
		return nil, fmt.Errorf("parse public key: %w", err)
	}
	v, err := signature.LoadDefaultVerifier(pub)
	if err != nil {
		return nil, fmt.Errorf("load public key: %w", err)
	}
	return v, nil
}
