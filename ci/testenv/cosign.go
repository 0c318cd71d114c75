package testenv

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/signing"
	"github.com/sigstore/cosign/v3/pkg/cosign"
)

// Cosign returns the path of the real cosign CLI (GR_TEST_COSIGN, which
// .ci/run sets), skipping the test without it (failing it under CI).
func Cosign(t testing.TB) string {
	t.Helper()
	return tool(t, "GR_TEST_COSIGN", "the cosign CLI")
}

// KeyPair is a cosign key pair made for one test by the real CLI.
type KeyPair struct {
	Dir, Private, Public, Password string
}

// CosignKeyPair runs `cosign generate-key-pair` in a new folder with a
// random password: each run signs with a key of its own.
func CosignKeyPair(t testing.TB) KeyPair {
	t.Helper()
	bin := Cosign(t)
	dir := t.TempDir()
	b := make([]byte, 12)
	rand.Read(b)
	k := KeyPair{Dir: dir, Private: filepath.Join(dir, "cosign.key"), Public: filepath.Join(dir, "cosign.pub"), Password: hex.EncodeToString(b)}
	cmd := exec.Command(bin, "generate-key-pair")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD="+k.Password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	return k
}

// RunCosign runs the cosign CLI in dir and returns its exit status and
// combined output; it never fails the test itself.
func RunCosign(t testing.TB, dir string, args ...string) (bool, string) {
	t.Helper()
	cmd := exec.Command(Cosign(t), args...)
	cmd.Dir = dir
	// No transparency log, no network lookups of Sigstore's public roots.
	cmd.Env = append(os.Environ(), "COSIGN_EXPERIMENTAL=0", "TUF_ROOT="+filepath.Join(t.TempDir(), "tuf"))
	out, err := cmd.CombinedOutput()
	return err == nil, strings.TrimSpace(string(out))
}

// Signer is a signer with a fresh key made by cosign's library, for tests
// that need signatures but not the CLI.
func Signer(t testing.TB) *signing.Signer {
	t.Helper()
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte("pw"), nil })
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.LoadKey(kb.PrivateBytes, []byte("pw"))
	if err != nil {
		t.Fatal(err)
	}
	return s
}
