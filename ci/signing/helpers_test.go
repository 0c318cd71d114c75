package signing

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// need returns the environment variable v, or skips the test (fails it
// when CI=true, where every service must be there).
func need(t *testing.T, v, what string) string {
	t.Helper()
	val := os.Getenv(v)
	if val != "" {
		return val
	}
	if os.Getenv("CI") == "true" {
		t.Fatalf("%s is not set: %s is required when CI=true (.ci/run sets it)", v, what)
	}
	t.Skipf("%s is not set: no %s (run through .ci/run)", v, what)
	return ""
}

func cosignCLI(t *testing.T) string { return need(t, "GR_TEST_COSIGN", "cosign CLI") }
func registry(t *testing.T) string  { return need(t, "GR_TEST_REGISTRY", "test registry") }

func randomHex(t *testing.T, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// keyPair is a key pair made by the real `cosign generate-key-pair`.
type keyPair struct {
	dir      string
	pubPath  string
	pub      []byte
	signer   *Signer
	password string
}

func newKeyPair(t *testing.T, cosign string) keyPair {
	t.Helper()
	dir := t.TempDir()
	password := randomHex(t, 16)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cosign, "generate-key-pair")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "COSIGN_PASSWORD="+password)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("cosign generate-key-pair: %v\n%s", err, out)
	}
	priv, err := os.ReadFile(filepath.Join(dir, "cosign.key"))
	if err != nil {
		t.Fatal(err)
	}
	pub, err := os.ReadFile(filepath.Join(dir, "cosign.pub"))
	if err != nil {
		t.Fatal(err)
	}
	s, err := LoadKey(priv, []byte(password))
	if err != nil {
		t.Fatalf("LoadKey(cosign.key from the CLI): %v", err)
	}
	return keyPair{dir: dir, pubPath: filepath.Join(dir, "cosign.pub"), pub: pub, signer: s, password: password}
}

// runCosign runs the cosign CLI and returns its exit code and its output
// (stdout then stderr).
func runCosign(t *testing.T, cosign string, args ...string) (int, string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, cosign, args...)
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	out := stdout.String() + stderr.String()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0, out
	case errors.As(err, &ee):
		return ee.ExitCode(), out
	default:
		t.Fatalf("cosign %s: %v", strings.Join(args, " "), err)
		return -1, ""
	}
}

// cosignOK runs cosign and requires exit status 0 and every one of wants
// in its output: a verification that printed nothing proves nothing.
func cosignOK(t *testing.T, cosign string, wants []string, args ...string) string {
	t.Helper()
	code, out := runCosign(t, cosign, args...)
	if code != 0 {
		t.Fatalf("cosign %s: exit %d, want 0\n%s", strings.Join(args, " "), code, out)
	}
	for _, w := range wants {
		if !strings.Contains(out, w) {
			t.Fatalf("cosign %s: exit 0 but the output lacks %q\n%s", strings.Join(args, " "), w, out)
		}
	}
	return out
}

// cosignFails runs cosign and requires a failure for a verification reason,
// not a usage error (which would make the test pass for nothing).
func cosignFails(t *testing.T, cosign string, args ...string) string {
	t.Helper()
	code, out := runCosign(t, cosign, args...)
	if code == 0 {
		t.Fatalf("cosign %s: exit 0, want a failure\n%s", strings.Join(args, " "), out)
	}
	for _, bad := range []string{"unknown flag", "unknown command", "Usage:", "Verified OK", "verified against the specified public key"} {
		if strings.Contains(out, bad) {
			t.Fatalf("cosign %s: failed, but not as a rejected verification (%q in the output)\n%s", strings.Join(args, " "), bad, out)
		}
	}
	t.Logf("cosign %s rejected it as it should (exit %d): %s", args[0], code, lastLine(out))
	return out
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	return lines[len(lines)-1]
}
