package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/manifest"
)

// TestE2ECheckPolicy: a lint in test code fails the release by default;
// with findings reported as warnings the release succeeds and says so in
// the summary, the manifest, the page and the logs; a failing test still
// fails it.
func TestE2ECheckPolicy(t *testing.T) {
	requireEngine(t)
	dir := copyExample(t)
	// A lint clippy -D warnings refuses, in test code only.
	appendFile(t, filepath.Join(dir, "tests", "api.rs"),
		"\n#[test]\nfn planted_lint() {\n    let v: Vec<u8> = Vec::new();\n    assert!(v.len() == 0);\n}\n")

	code, _, stderr := runCLI(t, dir, "release", "--tag", "v0.0.6", "--targets", "amd64")
	if code != exitFailure || !strings.Contains(stderr, "check failed") || !strings.Contains(stderr, "len_zero") {
		t.Fatalf("default policy: exit %d, want the lint to fail the check", code)
	}

	code, _, stderr = runCLI(t, dir, "release", "--tag", "v0.0.6", "--targets", "amd64", "--lints", "warn")
	if code != exitOK {
		t.Fatalf("--lints warn: exit %d", code)
	}
	if !strings.Contains(stderr, "warning  clippy:") {
		t.Errorf("the summary does not list the clippy findings")
	}
	dist := filepath.Join(dir, "dist")
	m, err := manifest.Parse(readFile(t, filepath.Join(dist, manifest.FileName)))
	if err != nil {
		t.Fatal(err)
	}
	if len(m.Warnings) == 0 || !strings.Contains(m.Warnings[0], "clippy") {
		t.Errorf("manifest warnings %v", m.Warnings)
	}
	if page := string(readFile(t, filepath.Join(dist, "index.html"))); !strings.Contains(page, "warning: clippy") {
		t.Errorf("the page does not show the warning")
	}
	for _, name := range []string{"check", "test", "build-amd64", "smoke-amd64"} {
		data, err := os.ReadFile(filepath.Join(dist, "logs", name+".log"))
		if err != nil || len(data) == 0 {
			t.Errorf("logs/%s.log: %v (%d bytes)", name, err, len(data))
			continue
		}
		if strings.Contains(string(data), "Building [") {
			t.Errorf("logs/%s.log holds cargo's progress bar", name)
		}
	}
	if log := string(readFile(t, filepath.Join(dist, "logs", "check.log"))); !strings.Contains(log, "len_zero") {
		t.Errorf("check.log does not show the finding")
	}
	if log := string(readFile(t, filepath.Join(dist, "logs", "test.log"))); !strings.Contains(log, "planted_lint") {
		t.Errorf("test.log does not show the tests that ran")
	}

	// Warnings never cover a failing test.
	appendFile(t, filepath.Join(dir, "tests", "api.rs"),
		"\n#[test]\nfn planted_failure() {\n    assert_eq!(1 + 1, 3);\n}\n")
	code, _, stderr = runCLI(t, dir, "release", "--tag", "v0.0.7", "--targets", "amd64", "--lints", "warn")
	if code != exitFailure || !strings.Contains(stderr, "test failed") {
		t.Errorf("a failing test with --lints warn: exit %d, want the test to fail the release", code)
	}
}
