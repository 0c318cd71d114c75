package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/target"
)

// fakeCargo prints its arguments, one line, so the files the script writes
// show the command each target ran; it fails for the triple in FAIL_FOR.
const fakeCargo = `#!/bin/sh
for a in "$@"; do [ "$a" = "${FAIL_FOR:-}" ] && { echo "error: no such target" >&2; exit 101; }; done
printf '%s\n' "$*"
`

// runMetadataScript runs metadataScript in a folder holding a Cargo.lock,
// with fakeCargo as cargo; it returns the output folder.
func runMetadataScript(t *testing.T, p *Pipeline, targets []target.Target, failFor string) (string, string, error) {
	t.Helper()
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "bin")
	if err := os.MkdirAll(bin, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(bin, "cargo"), []byte(fakeCargo), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(dir, "src")
	if err := os.MkdirAll(src, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(src, "Cargo.lock"), []byte("# the lock\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out dir") // a space: the paths are quoted
	cmd := exec.Command("sh", "-c", p.metadataScript(out, targets))
	cmd.Dir = src
	cmd.Env = append(os.Environ(), "PATH="+bin+":"+os.Getenv("PATH"), "FAIL_FOR="+failFor)
	stderr, err := cmd.CombinedOutput()
	return out, string(stderr), err
}

// TestMetadataScript: the one exec for every target writes, for each, what
// that target's own `cargo metadata` printed (the command of metadataArgs,
// filtered to its triple), and the project's Cargo.lock.
func TestMetadataScript(t *testing.T) {
	cases := []struct {
		name     string
		settings project.Settings
		targets  []target.Target
	}{
		{"one target", project.Settings{Binary: "kvstore"}, target.All[:1]},
		{"every target, locked, features", project.Settings{Binary: "garage", Locked: true, Features: []string{"k2v", "with space"}}, target.All},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := &Pipeline{cfg: Config{Project: tc.settings}}
			out, stderr, err := runMetadataScript(t, p, tc.targets, "")
			if err != nil {
				t.Fatalf("script: %v\n%s", err, stderr)
			}
			for _, tg := range tc.targets {
				got, err := os.ReadFile(filepath.Join(out, tg.Triple+".json"))
				if err != nil {
					t.Fatal(err)
				}
				want := strings.Join(p.metadataArgs(tg)[1:], " ") + "\n"
				if string(got) != want {
					t.Errorf("%s: cargo ran %q, want %q", tg.Name, got, want)
				}
				if !strings.Contains(string(got), "--filter-platform "+tg.Triple) {
					t.Errorf("%s: not filtered to its triple: %q", tg.Name, got)
				}
			}
			if lock, err := os.ReadFile(filepath.Join(out, "Cargo.lock")); err != nil || string(lock) != "# the lock\n" {
				t.Errorf("Cargo.lock: %q, %v", lock, err)
			}
			if got := MetadataFile(tc.targets[0]); got != metadataOut+"/"+tc.targets[0].Triple+".json" {
				t.Errorf("MetadataFile = %q, not where the script writes", got)
			}
		})
	}
}

// A target whose cargo metadata fails fails the exec, naming the target.
func TestMetadataScriptFails(t *testing.T) {
	p := &Pipeline{cfg: Config{Project: project.Settings{Binary: "kvstore"}}}
	arm := target.All[3]
	_, stderr, err := runMetadataScript(t, p, target.All, arm.Triple)
	if err == nil {
		t.Fatal("the script succeeded although cargo failed")
	}
	if !strings.Contains(stderr, "cargo metadata for "+arm.Name+" ("+arm.Triple+") failed") {
		t.Errorf("stderr does not name the target:\n%s", stderr)
	}
}
