package signing

import (
	"bytes"
	"encoding/pem"
	"strings"
	"testing"

	"github.com/sigstore/cosign/v3/pkg/cosign"
)

func TestLoadKeyFromCosignCLI(t *testing.T) {
	kp := newKeyPair(t, cosignCLI(t))
	got, err := kp.signer.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(bytes.TrimSpace(got), bytes.TrimSpace(kp.pub)) {
		t.Fatalf("PublicKeyPEM differs from cosign.pub:\n%s\nwant\n%s", got, kp.pub)
	}
}

// libraryKey makes a key in cosign's format without the CLI, so that the
// error tests run everywhere.
func libraryKey(t *testing.T, password string) []byte {
	t.Helper()
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte(password), nil })
	if err != nil {
		t.Fatal(err)
	}
	return kb.PrivateBytes
}

func TestLoadKeyWrongPassword(t *testing.T) {
	right, wrong := "right-"+randomHex(t, 8), "wrong-"+randomHex(t, 8)
	key := libraryKey(t, right)
	if _, err := LoadKey(key, []byte(right)); err != nil {
		t.Fatalf("LoadKey with the right password: %v", err)
	}
	_, err := LoadKey(key, []byte(wrong))
	if err == nil {
		t.Fatal("LoadKey with a wrong password succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, "password") {
		t.Errorf("error %q does not name the password as the problem", msg)
	}
	for _, secret := range []string{right, wrong} {
		if strings.Contains(msg, secret) {
			t.Errorf("error %q contains a password", msg)
		}
	}
	block, _ := pem.Decode(key)
	for _, line := range strings.Split(string(key), "\n") {
		if len(line) >= 16 && !strings.HasPrefix(line, "-----") && strings.Contains(msg, line[:16]) {
			t.Errorf("error %q contains key material", msg)
		}
	}
	if len(block.Bytes) > 0 && strings.Contains(msg, string(block.Bytes)) {
		t.Errorf("error %q contains the raw key", msg)
	}
}

func TestLoadKeyNotACosignKey(t *testing.T) {
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte("p"), nil })
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ name, input, want string }{
		{"public key", string(kb.PublicBytes), "not a cosign private key"},
		{"plain EC key", "-----BEGIN EC PRIVATE KEY-----\nAAAA\n-----END EC PRIVATE KEY-----\n", "not a cosign private key"},
		{"not PEM", "cosign.key was overwritten by a shell redirect", "not a PEM file"},
		{"empty", "", "not a PEM file"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := LoadKey([]byte(tc.input), []byte("p"))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("LoadKey(%s) = %v, want an error with %q", tc.name, err, tc.want)
			}
		})
	}
}
