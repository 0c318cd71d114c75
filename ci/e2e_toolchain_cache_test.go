package main

import (
	"bytes"
	"context"
	"path/filepath"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/testenv"
)

// TestE2ESharedToolchain: with --registry, a release pushes the toolchain
// it built under its recipe digest; a release in a new cache namespace (a
// fresh runner, as far as the engine can tell) pulls it instead of
// building, and gives the same binaries; a read-only run pushes nothing.
func TestE2ESharedToolchain(t *testing.T) {
	requireEngine(t)
	registry := testenv.Registry(t)
	prefix := registry + "/shared-" + randomHex(t)
	release := func(ns string, extra ...string) (string, []byte) {
		t.Helper()
		dir := copyExample(t)
		args := append([]string{"release", "--tag", "v0.5.0", "--targets", "amd64", "--registry", prefix, "--registry-insecure", "--cache-namespace", ns}, extra...)
		code, _, stderr := runCLI(t, dir, args...)
		if code != 0 {
			t.Fatalf("release exited %d", code)
		}
		return stderr, readFile(t, filepath.Join(dir, "dist", "SHA256SUMS"))
	}
	first, sums := release("e2e-shared-a-" + randomHex(t))
	if !strings.Contains(first, "Toolchain: not in the registry for this recipe; building it, and pushing it as "+prefix+"/kvstore-toolchain:recipe-") ||
		!strings.Contains(first, "Toolchain: pushed "+prefix+"/kvstore-toolchain:recipe-") {
		t.Fatalf("the first release did not push its toolchain")
	}
	second, sums2 := release("e2e-shared-b-" + randomHex(t))
	if !strings.Contains(second, "Toolchain: pulling "+prefix+"/kvstore-toolchain:recipe-") || strings.Contains(second, "Toolchain: pushed") {
		t.Errorf("the release on a fresh namespace did not pull the toolchain")
	}
	if !bytes.Equal(sums, sums2) {
		t.Errorf("a pulled toolchain gave other binaries:\n%s\n%s", sums, sums2)
	}

	// Read-only (a pull request): builds, pushes nothing.
	other := registry + "/shared-ro-" + randomHex(t)
	dir := copyExample(t)
	code, _, stderr := runCLI(t, dir, "release", "--tag", "v0.5.0", "--targets", "amd64", "--registry", other, "--registry-insecure", "--cache", "read-only", "--cache-namespace", "e2e-shared-c-"+randomHex(t))
	if code != 0 || !strings.Contains(stderr, "is not in the registry; building it, not pushing it (--cache read-only: read-only)") {
		t.Fatalf("read-only release: exit %d", code)
	}
	tag := stderr[strings.Index(stderr, "recipe-"):]
	tag = strings.Fields(tag)[0]
	reg := &publish.Registry{Repo: other + "/kvstore-toolchain", Insecure: true}
	if d, err := reg.TagDigest(context.Background(), tag); err != nil || d != "" {
		t.Errorf("a read-only run pushed %s: %q, %v", tag, d, err)
	}
}
