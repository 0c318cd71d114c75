package example

import (
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestFS checks the embedded project has what a release needs and none of
// a local build's output.
func TestFS(t *testing.T) {
	for _, name := range []string{"Cargo.toml", "Cargo.lock", "src/main.rs", "smoke.sh", "docs/book.toml"} {
		info, err := fs.Stat(FS, name)
		if err != nil {
			t.Errorf("FS has no %s: %v", name, err)
			continue
		}
		if info.IsDir() || info.Size() == 0 {
			t.Errorf("FS: %s is a folder or empty", name)
		}
	}
	tests, err := fs.Glob(FS, "tests/*.rs")
	if err != nil || len(tests) == 0 {
		t.Errorf("FS has no integration tests in tests/*.rs (%v)", err)
	}
	err = fs.WalkDir(FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		first, _, _ := strings.Cut(p, "/")
		if first == "target" || first == ".git" || first == "dist" {
			t.Errorf("FS holds %s: the embedded project must not carry build output or VCS files", p)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestCargo runs the checks the pipeline runs, with the host's cargo, on a
// copy of the embedded files: so it also proves FS alone is a buildable
// project.
func TestCargo(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: skipping the cargo build of the example")
	}
	if _, err := exec.LookPath("cargo"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("cargo is not on PATH; CI must run the example's Rust checks")
		}
		t.Skip("cargo is not on PATH: cannot check the Rust example")
	}
	dir := t.TempDir()
	if err := os.CopyFS(dir, FS); err != nil {
		t.Fatal(err)
	}
	// Build output stays in the copy, whatever CARGO_TARGET_DIR says.
	env := []string{"CARGO_TARGET_DIR=" + filepath.Join(dir, "target"), "CARGO_TERM_COLOR=never"}

	run := func(t *testing.T, extraEnv []string, name string, args ...string) string {
		t.Helper()
		cmd := exec.Command(name, args...)
		cmd.Dir = dir
		cmd.Env = append(append(os.Environ(), env...), extraEnv...)
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
		}
		return string(out)
	}

	if !t.Run("fmt", func(t *testing.T) {
		run(t, nil, "cargo", "fmt", "--check")
	}) {
		return
	}
	if !t.Run("clippy", func(t *testing.T) {
		if err := exec.Command("cargo", "clippy", "--version").Run(); err != nil {
			t.Skip("cargo clippy is not installed")
		}
		run(t, nil, "cargo", "clippy", "--all-targets", "--locked", "--offline", "--", "-D", "warnings")
	}) {
		return
	}
	if !t.Run("test", func(t *testing.T) {
		out := run(t, nil, "cargo", "test", "--locked", "--offline")
		if !strings.Contains(out, "test result: ok") {
			t.Errorf("cargo test ran no tests:\n%s", out)
		}
	}) {
		return
	}

	bin := filepath.Join(dir, "target", "release", "kvstore")
	if !t.Run("release build", func(t *testing.T) {
		run(t, []string{"GIT_VERSION=v9.9.9"}, "cargo", "build", "--release", "--locked", "--offline")
		out := run(t, nil, bin, "--version")
		if got := strings.TrimSpace(out); got != "kvstore v9.9.9" {
			t.Errorf("%s --version = %q, want %q (GIT_VERSION at build time)", bin, got, "kvstore v9.9.9")
		}
	}) {
		return
	}
	t.Run("smoke", func(t *testing.T) {
		if _, err := exec.LookPath("curl"); err != nil {
			t.Skip("curl is not installed: smoke.sh drives the server with curl")
		}
		out := run(t, nil, "sh", "smoke.sh", bin)
		if !strings.Contains(out, "smoke: all checks passed") {
			t.Errorf("smoke.sh did not finish its checks:\n%s", out)
		}
	})
}
