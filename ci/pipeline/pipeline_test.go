package pipeline

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/target"
)

func TestToolchainRecipe(t *testing.T) {
	script := ToolchainScript()
	installed := map[string]bool{}
	for _, line := range strings.Split(script, "\n") {
		if strings.HasPrefix(line, "apt-get install") {
			for _, f := range strings.Fields(line) {
				installed[f] = true
			}
		}
	}
	for _, tg := range target.All {
		if tg.StdDeb() == "" {
			continue
		}
		line := fmt.Sprintf("fetch_std %s %s %s\n", tg.StdDeb(), tg.StdSHA256, tg.Triple)
		if !strings.Contains(script, line) {
			t.Errorf("recipe does not fetch and check %s: want line %q", tg.Name, line)
		}
		for _, pkg := range tg.CrossPackages {
			if !installed[pkg] {
				t.Errorf("recipe does not install %s", pkg)
			}
		}
	}
	for _, pkg := range []string{"rustc", "cargo", "rustfmt", "rust-clippy", "libstd-rust-dev", "qemu-user", "file"} {
		if !installed[pkg] {
			t.Errorf("recipe does not install %s", pkg)
		}
	}
	if !strings.Contains(script, target.RustStdVersion) {
		t.Errorf("recipe does not check rustc's version against %s", target.RustStdVersion)
	}
}

// TestToolchainScriptRuns runs the recipe's std-fetching part with a fake
// archive on disk, to prove a changed or vanished pinned package stops the
// build with a message naming the file.
func TestToolchainScriptFailsClearly(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	script := ToolchainScript()
	// Keep only the fetch_std function and one call to it.
	start := strings.Index(script, "fetch_std() {")
	end := strings.Index(script[start:], "\n}\n") + start + 3
	fn := script[start:end]
	arm := target.All[2]
	archive := t.TempDir()
	pool := filepath.Join(archive, "pool", "main", "r", "rustc")
	cases := []struct {
		name, setup, want string
	}{
		{"missing file", "", "could not be fetched"},
		{"wrong checksum", "mkdir -p " + pool + " && echo tampered > " + filepath.Join(pool, arm.StdDeb()), "does not match its pinned sha256"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := "set -eu\nmirror=file://" + archive + "\n" + tc.setup + "\n" + fn +
				fmt.Sprintf("fetch_std %s %s %s\n", arm.StdDeb(), arm.StdSHA256, arm.Triple)
			out, err := exec.Command("sh", "-c", body).CombinedOutput()
			if err == nil {
				t.Fatalf("fetch_std succeeded:\n%s", out)
			}
			if !strings.Contains(string(out), tc.want) || !strings.Contains(string(out), arm.StdDeb()) {
				t.Errorf("message does not say %q naming %s:\n%s", tc.want, arm.StdDeb(), out)
			}
		})
	}
}

func TestDescribeExecError(t *testing.T) {
	var lines []string
	for i := 1; i <= 50; i++ {
		lines = append(lines, fmt.Sprintf("line %d", i))
	}
	ee := &dagger.ExecError{Cmd: []string{"cargo", "clippy", "--", "-D", "warnings"}, ExitCode: 101, Stderr: strings.Join(lines, "\n")}
	err := &StageError{Stage: "check", Err: fmt.Errorf("sync: %w", ee)}
	got := err.Error()
	for _, want := range []string{"check: command `cargo clippy -- -D warnings` exited with code 101", "line 50", "line 21", "(20 lines before)"} {
		if !strings.Contains(got, want) {
			t.Errorf("message does not contain %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "line 20\n") {
		t.Errorf("message shows more than the last %d lines", StderrTail)
	}
	both := &dagger.ExecError{Cmd: []string{"cargo", "test"}, ExitCode: 101, Stdout: "test planted ... FAILED\npanicked at tests/api.rs", Stderr: "error: test failed"}
	if got := Describe(both); !strings.Contains(got, "stdout:\ntest planted ... FAILED") || !strings.Contains(got, "stderr:\nerror: test failed") {
		t.Errorf("a test failure must show stdout and stderr: %s", got)
	}
	wrapped := &dagger.ExecError{Cmd: []string{"sh", "-c", "set -eu\n...", CargoFreshName, "cargo", "build", "--release"}, ExitCode: 101, Stderr: "error[E0308]"}
	if got := Describe(wrapped); !strings.Contains(got, "command `cargo build --release` exited with code 101") {
		t.Errorf("the cargo wrapper must show the cargo command: %s", got)
	}
	script := &dagger.ExecError{Cmd: []string{"sh", "-c", "set -eu\napt-get update"}, ExitCode: 100, Stderr: "E: no network"}
	if got := Describe(script); !strings.Contains(got, "`sh -c <script>`") || !strings.Contains(got, "E: no network") {
		t.Errorf("inline script: %s", got)
	}
}

func TestReportStages(t *testing.T) {
	var log strings.Builder
	r := newReport(&log, false, 0)
	ctx, cancel := context.WithCancel(context.Background())
	if err := r.stage(ctx, nil, "build", "amd64", func(context.Context) error { return nil }); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := r.stage(ctx, nil, "build", "arm", func(context.Context) error { return boom })
	var se *StageError
	if !errors.As(err, &se) || se.Name() != "build arm" || !errors.Is(err, boom) {
		t.Fatalf("failed stage error: %v", err)
	}
	cancel()
	// A stage stopped because another failed is reported canceled, not failed.
	err = r.stage(ctx, nil, "smoke", "arm64", func(ctx context.Context) error {
		<-ctx.Done()
		return fmt.Errorf("engine: %w", ctx.Err())
	})
	if !errors.Is(err, context.Canceled) {
		t.Errorf("canceled stage returned %v", err)
	}
	// A full job queue gives up when canceled.
	slots := make(chan struct{}, 1)
	slots <- struct{}{}
	if err := r.stage(ctx, slots, "test", "", func(context.Context) error { return nil }); !errors.Is(err, context.Canceled) {
		t.Errorf("waiting stage returned %v", err)
	}
	failed := r.Failed()
	if len(failed) != 1 || failed[0].Name() != "build arm" {
		t.Errorf("Failed() = %+v", failed)
	}
	var sum strings.Builder
	r.Summary(&sum)
	for _, want := range []string{"ok       build amd64", "failed   build arm", "canceled smoke arm64", "build arm failed:\n  boom"} {
		if !strings.Contains(sum.String(), want) {
			t.Errorf("summary lacks %q:\n%s", want, sum.String())
		}
	}
	if !strings.Contains(log.String(), "start    build amd64") || !strings.Contains(log.String(), "FAILED   build arm") {
		t.Errorf("progress log:\n%s", log.String())
	}
}

func TestCargoArgs(t *testing.T) {
	cases := []struct {
		name                  string
		settings              project.Settings
		wantBuild, wantChecks string
	}{
		{"single crate", project.Settings{Binary: "kvstore", Locked: true},
			"--locked", "--locked"},
		{"features", project.Settings{Binary: "kvstore", Features: []string{"a", "b"}},
			"--features a,b", "--features a,b"},
		{"workspace member", project.Settings{Binary: "garage", Package: "garage", Locked: true, Features: []string{"k2v", "lmdb"}},
			"--locked --package garage --features k2v,lmdb", "--locked --workspace --features garage/k2v,garage/lmdb"},
	}
	for _, c := range cases {
		p := &Pipeline{cfg: Config{Project: c.settings}}
		if got := strings.Join(p.cargoArgs(), " "); got != c.wantBuild {
			t.Errorf("%s: build args %q, want %q", c.name, got, c.wantBuild)
		}
		if got := strings.Join(p.workspaceArgs(), " "); got != c.wantChecks {
			t.Errorf("%s: check/test args %q, want %q", c.name, got, c.wantChecks)
		}
	}
}
