package pipeline

import (
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/diagnose"
	"github.com/garage-release/garage-release/ci/project"
)

// TestClippyCommand: what clippy compiles and how findings stop it, per
// policy; benches that need nightly are named out, the others kept.
func TestClippyCommand(t *testing.T) {
	ws := project.Settings{Name: "cw", Binary: "cw", Package: "cw", Workspace: true, Virtual: true, Locked: true}
	nightly := []project.Bench{
		{Name: "speed", Path: "crates/core/benches/speed.rs", Nightly: true},
		{Name: "walk", Path: "crates/core/benches/walk.rs"},
		{Name: "walk", Path: "crates/cw/benches/walk.rs"},
	}
	cases := []struct {
		name    string
		warn    bool
		benches []project.Bench
		want    string
		skipped int
	}{
		{"deny", false, nil, "cargo clippy --all-targets --locked --workspace -- -D warnings", 0},
		{"warn: every crate, every finding a warning", true, nil, "cargo clippy --all-targets --keep-going --locked --workspace -- -D warnings --cap-lints warn", 0},
		{"stable benches only", false, []project.Bench{{Name: "walk", Path: "benches/walk.rs"}}, "cargo clippy --all-targets --locked --workspace -- -D warnings", 0},
		{"a nightly bench", false, nightly, "cargo clippy --lib --bins --tests --examples --bench walk --locked --workspace -- -D warnings", 1},
		{"a nightly bench, warn", true, nightly, "cargo clippy --lib --bins --tests --examples --bench walk --keep-going --locked --workspace -- -D warnings --cap-lints warn", 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := ws
			s.Checks = project.DefaultChecks()
			s.Checks.Warn = c.warn
			s.Benches = c.benches
			p := &Pipeline{cfg: Config{Project: s}}
			if got := strings.Join(p.clippyCommand(), " "); got != c.want {
				t.Errorf("clippy command\n got %q\nwant %q", got, c.want)
			}
			skipped := p.SkippedBenches()
			if len(skipped) != c.skipped {
				t.Fatalf("skipped %q, want %d", skipped, c.skipped)
			}
			if c.skipped > 0 && !strings.Contains(skipped[0], `bench "speed" (crates/core/benches/speed.rs) needs a nightly compiler`) {
				t.Errorf("skipped bench line: %q", skipped[0])
			}
		})
	}
}

// TestTestCommands: the test stage builds and runs what `cargo test
// --workspace` does (no benches), widened by test-args.
func TestTestCommands(t *testing.T) {
	p := &Pipeline{cfg: Config{Project: project.Settings{Name: "cw", Binary: "cw", Workspace: true, Virtual: true, TestArgs: []string{"--all-features"}}}}
	if got := strings.Join(p.testCommands()[0], " "); got != "cargo build --workspace" {
		t.Errorf("debug build: %q", got)
	}
	if got := strings.Join(p.testCommands()[1], " "); got != "cargo test --workspace --all-features" {
		t.Errorf("tests: %q", got)
	}
}

// TestClippyFindingsPerCrate reads real clippy output (the cworkspace
// fixture, with --keep-going and --cap-lints warn, its nightly bench
// included): every crate with findings is named with its count, the
// bench that cannot compile on stable among them.
func TestClippyFindingsPerCrate(t *testing.T) {
	data, err := os.ReadFile("testdata/clippy-warn.log")
	if err != nil {
		t.Fatal(err)
	}
	got := clippyFindings(clippyPart(string(data)), true)
	want := "clippy: 4 lint findings in 3 crates (cw 1, cw-core 2, mix-sys 1) (logs/check.log)"
	if got != want {
		t.Errorf("got  %q\nwant %q", got, want)
	}
	if got := clippyFindings("$ cargo clippy\n    Checking a v0.1.0\n    Finished `dev` profile\n", false); got != "" {
		t.Errorf("a clean run has no findings: %q", got)
	}
	one := "$ cargo clippy\nwarning: unneeded `return` statement\nwarning: `b` (lib) generated 1 warning\n"
	if got := clippyFindings(one, false); got != "clippy: 1 lint finding in 1 crate (b 1) (logs/check.log)" {
		t.Errorf("one finding: %q", got)
	}
}

// TestHintLeadsTheFailure: a build script that misses a library fails its
// stage with the hint first, in the progress line and in the summary.
func TestHintLeadsTheFailure(t *testing.T) {
	var log strings.Builder
	r := newReport(&log, false, 0)
	r.setting = diagnose.Setting{Table: "workspace.metadata.release"}
	out, err := os.ReadFile("../diagnose/testdata/pkgconfig-missing.txt")
	if err != nil {
		t.Fatal(err)
	}
	ee := &dagger.ExecError{Cmd: []string{"sh", "-c", "x", CargoFreshName, "cargo", "clippy"}, ExitCode: 101, Stdout: string(out)}
	if err := r.stage(t.Context(), nil, "check", "", func(context.Context) error { return ee }); err == nil {
		t.Fatal("the stage did not fail")
	}
	var sum strings.Builder
	r.Summary(&sum)
	for _, w := range []string{"FAILED   check", `build script of zinfo v0.2.0: the system library "libzstd" was not found`, `add "libzstd-dev" to build-packages under [workspace.metadata.release]`} {
		if !strings.Contains(log.String(), w) {
			t.Errorf("progress does not say %q:\n%s", w, log.String())
		}
	}
	if !strings.Contains(sum.String(), "check failed:\n  build script of zinfo v0.2.0") || !strings.Contains(sum.String(), "command `cargo clippy` exited with code 101") {
		t.Errorf("summary:\n%s", sum.String())
	}
}

// TestBuildPackagesScriptParses: the toolchain's build-packages layer is
// valid sh (the e2e tests run it for real).
func TestBuildPackagesScriptParses(t *testing.T) {
	for name, script := range map[string]string{"build packages": BuildPackagesScript(), "toolchain": ToolchainScript()} {
		if out, err := exec.Command("sh", "-n", "-c", script).CombinedOutput(); err != nil {
			t.Errorf("%s script: %v\n%s", name, err, out)
		}
	}
}
