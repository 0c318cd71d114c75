package main

import (
	"bytes"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2ECancelledStageLeavesNothingStale: a release whose build fails
// while the test stage is compiling (so that stage is cancelled mid-way,
// with sources that carry an extra test), then the clean sources in the
// same cache namespace: the tests are those of the clean sources, and the
// binaries are byte-identical to a cold build in a fresh namespace. A
// cache may make a release faster, never different.
func TestE2ECancelledStageLeavesNothingStale(t *testing.T) {
	requireEngine(t)
	ns := "e2e-cancel-" + randomHex(t)
	args := func(ns string) []string {
		// --cores 64: the checks overlap the rest, so the test stage is
		// running when the build fails.
		return []string{"release", "--tag", "v0.3.1", "--targets", "amd64", "--cores", "64", "--checks", "none", "--cache-namespace", ns}
	}
	broken := checkoutFixture(t, "workspace", nil)
	appendFile(t, filepath.Join(broken, "crates", "core", "src", "lib.rs"),
		"\n#[test]\nfn planted_stale() {\n    assert_eq!(1 + 1, 3, \"planted stale test\");\n}\n")
	// The release build's script fails at once; the debug build's runs on.
	writeFile(t, filepath.Join(broken, "build.rs"), `fn main() {
    if std::env::var("PROFILE").as_deref() == Ok("release") {
        panic!("planted release build failure");
    }
    println!("cargo:rustc-env=WSR_BUILD_TARGET={}", std::env::var("TARGET").unwrap_or_default());
}
`)
	code, _, stderr := runCLI(t, broken, args(ns)...)
	if code != exitFailure || !strings.Contains(stderr, "FAILED   build amd64") || !strings.Contains(stderr, "canceled test") {
		t.Fatalf("the broken release: exit %d; want build amd64 failed and the test stage canceled", code)
	}

	clean := checkoutFixture(t, "workspace", nil)
	if code, _, _ := runCLI(t, clean, args(ns)...); code != 0 {
		t.Fatalf("the clean release after the cancelled one exited %d", code)
	}
	if log := string(readFile(t, filepath.Join(clean, "dist", "logs", "test.log"))); strings.Contains(log, "planted_stale") {
		t.Errorf("the clean release ran a test of the cancelled sources:\n%s", tail(log, 30))
	}
	cold := checkoutFixture(t, "workspace", nil)
	if code, _, _ := runCLI(t, cold, args("e2e-cancel-cold-"+randomHex(t))...); code != 0 {
		t.Fatalf("the cold release exited %d", code)
	}
	warmSums, coldSums := readFile(t, filepath.Join(clean, "dist", "SHA256SUMS")), readFile(t, filepath.Join(cold, "dist", "SHA256SUMS"))
	if !bytes.Equal(warmSums, coldSums) {
		t.Errorf("after a cancelled run, the binaries differ from a cold build's:\n%s\n%s", warmSums, coldSums)
	}
}
