package main

// Releases of the fixture projects in ci/testdata: a ripgrep-shaped
// workspace, a vendored dependency behind .gitignore, a planted clippy
// lint. The TestE2E ones need an engine (see requireEngine); the others do
// not.

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/elfcheck"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/testenv"
)

// checkoutFixture copies ci/testdata/<name> to a new folder as a user's
// checkout: its `gitignore` files become .gitignore (see
// ci/testdata/README.md), extra files are written (path → content), and
// everything git does not ignore is committed.
func checkoutFixture(t *testing.T, name string, extra map[string]string) string {
	t.Helper()
	dir := testenv.CopyFixture(t, filepath.Join("testdata", name), extra)
	if _, err := exec.LookPath("git"); err == nil {
		for _, args := range [][]string{
			{"init", "-q"}, {"add", "-A"},
			{"-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "-q", "-m", "fixture"},
		} {
			cmd := exec.Command("git", args...)
			cmd.Dir = dir
			if out, err := cmd.CombinedOutput(); err != nil {
				t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
			}
		}
	}
	return dir
}

// TestProjectFixturesBeforeTheEngine: the CLI reads a fixture, finds its
// binary and accepts it, and reaches for the engine; a file its manifests
// name but that is missing stops it before, as bad input.
func TestProjectFixturesBeforeTheEngine(t *testing.T) {
	for _, tc := range []struct {
		fixture, binary string
		workspace       bool
	}{
		{"workspace", "wsr", true},
		{"vendored", "vendored", false},
		{"lintfail", "lintfail", false},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			c := newCLI(t)
			c.dir = checkoutFixture(t, tc.fixture, nil)
			o := &options{set: map[string]bool{}, out: "dist", tag: "v0.3.1"}
			e := &env{workdir: c.dir, getenv: func(string) string { return "" }}
			if err := o.prepare(e, "release"); err != nil {
				t.Fatal(err)
			}
			if o.project.Binary != tc.binary || o.project.Workspace != tc.workspace {
				t.Errorf("binary %q, workspace %v; want %q, %v", o.project.Binary, o.project.Workspace, tc.binary, tc.workspace)
			}
			code, _, stderr := c.run("release", "--tag", "v0.3.1", "--targets", "amd64,arm64")
			if code != exitFailure || !c.dialed || !strings.Contains(stderr, "no Dagger engine reachable") {
				t.Errorf("release: exit %d, dialed %v, want the engine reached for:\n%s", code, c.dialed, stderr)
			}
			// What is released is said before the engine is reached.
			if say := "binary " + tc.binary + ", version v0.3.1"; !strings.Contains(stderr, say) || strings.Index(stderr, say) > strings.Index(stderr, "no Dagger engine") {
				t.Errorf("the output does not say %q before reaching the engine:\n%s", say, stderr)
			}
		})
	}
	t.Run("missing bin path", func(t *testing.T) {
		c := newCLI(t)
		c.dir = checkoutFixture(t, "workspace", nil)
		os.Remove(filepath.Join(c.dir, "crates", "cli", "main.rs"))
		code, _, stderr := c.run("release", "--tag", "v0.3.1")
		if code != exitUsage || c.dialed {
			t.Errorf("exit %d, dialed %v; want %d before the engine", code, c.dialed, exitUsage)
		}
		for _, w := range []string{`[[bin]] "wsr"`, "crates/cli/main.rs", "does not exist"} {
			if !strings.Contains(stderr, w) {
				t.Errorf("stderr does not say %q:\n%s", w, stderr)
			}
		}
	})
}

func TestE2EProjects(t *testing.T) {
	requireEngine(t)
	ns := "e2e-projects-" + randomHex(t)
	t.Run("workspace", func(t *testing.T) {
		// Harmless ignored files, which the upload leaves out.
		dir := checkoutFixture(t, "workspace", map[string]string{"debug.log": "x\n", "scratch/notes.md": "x\n"})
		code, _, stderr := runCLI(t, dir, "release", "--tag", "v0.3.1", "--targets", "amd64,arm64", "--cache-namespace", ns)
		if code != 0 {
			t.Fatalf("release exited %d", code)
		}
		for _, want := range []string{"binary wsr", "ok       check", "ok       test", "ok       smoke amd64", "ok       smoke arm64"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("output lacks %q", want)
			}
		}
		checkFixtureBinaries(t, dir, "wsr", "wsr 0.3.1")
		bin := filepath.Join(dir, "dist", "x86_64-unknown-linux-gnu", "wsr")
		// The build script ran for the target, include_str! found its file,
		// the path dependencies were linked.
		out, err := exec.Command(bin, "--target").Output()
		if err != nil || strings.TrimSpace(string(out)) != "x86_64-unknown-linux-gnu" {
			t.Errorf("wsr --target: %q, %v", out, err)
		}
		out, err = exec.Command(bin).Output()
		if err != nil || !strings.Contains(string(out), "== wsr, the workspace fixture") || !strings.Contains(string(out), "hello from extra") {
			t.Errorf("wsr: %q, %v", out, err)
		}
		// The tests of the whole workspace ran, not only the root package's.
		if log, err := os.ReadFile(filepath.Join(dir, "dist", filepath.FromSlash(pipeline.LogFile("test")))); err != nil {
			t.Errorf("no test log: %v", err)
		} else {
			for _, test := range []string{"total_of_nothing_is_zero", "saturates", "greets", "names"} {
				if !strings.Contains(string(log), test) {
					t.Errorf("the test log does not show the member test %q", test)
				}
			}
		}
	})
	t.Run("workspace with its bin folder and assets gitignored", func(t *testing.T) {
		// cargo fmt and clippy read crates/cli/main.rs and assets/banner.txt:
		// the upload must carry them although .gitignore leaves them out.
		dir := checkoutFixture(t, "workspace", nil)
		appendFile(t, filepath.Join(dir, ".gitignore"), "crates/cli/\nassets/\n")
		if code, _, _ := runCLI(t, dir, "check", "--cache-namespace", ns); code != 0 {
			t.Fatalf("check exited %d", code)
		}
	})
	t.Run("vendored", func(t *testing.T) {
		dir := checkoutFixture(t, "vendored", nil)
		if out, err := exec.Command("git", "-C", dir, "ls-files", "vendor").Output(); err == nil && len(out) > 0 {
			t.Fatalf("vendor/ is committed; the fixture must keep it out of git:\n%s", out)
		}
		code, _, stderr := runCLI(t, dir, "release", "--tag", "v0.3.1", "--targets", "amd64,arm64", "--cache-namespace", ns)
		if code != 0 {
			t.Fatalf("release exited %d", code)
		}
		if !strings.Contains(stderr, "ok       smoke arm64") {
			t.Errorf("output lacks the arm64 smoke test")
		}
		checkFixtureBinaries(t, dir, "vendored", "vendored v0.3.1")
	})
	t.Run("lintfail", func(t *testing.T) {
		dir := checkoutFixture(t, "lintfail", nil)
		code, _, stderr := runCLI(t, dir, "check", "--cache-namespace", ns)
		if code != exitFailure {
			t.Fatalf("check exited %d, want %d", code, exitFailure)
		}
		for _, want := range []string{"check failed", "bool_assert_comparison"} {
			if !strings.Contains(stderr, want) {
				t.Errorf("output does not say %q", want)
			}
		}
	})
}

// checkFixtureBinaries checks dist/ after a release for amd64 and arm64:
// static binaries named binary, and the amd64 one prints version.
func checkFixtureBinaries(t *testing.T, dir, binary, version string) {
	t.Helper()
	for _, name := range []string{"amd64", "arm64"} {
		tg, err := target.Lookup(name)
		if err != nil {
			t.Fatal(err)
		}
		data := readFile(t, filepath.Join(dir, "dist", tg.Triple, binary))
		if err := elfcheck.Check(data, tg); err != nil {
			t.Error(err)
		}
	}
	out, err := exec.Command(filepath.Join(dir, "dist", "x86_64-unknown-linux-gnu", binary), "--version").Output()
	if err != nil || strings.TrimSpace(string(out)) != version {
		t.Errorf("%s --version: %q, %v; want %q", binary, out, err, version)
	}
}
