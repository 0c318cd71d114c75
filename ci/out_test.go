package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"

	"dagger.io/dagger"
	"github.com/spf13/pflag"

	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/outdir"
	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/testenv"
)

// outWorld is a temporary world for the --out guard: a home folder (HOME
// points at it), a project with sources, .git and a file of the user's, and
// a folder of the user's own files.
type outWorld struct {
	root, home, project, mine string
}

func newOutWorld(t *testing.T) outWorld {
	t.Helper()
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	w := outWorld{root: root, home: filepath.Join(root, "home"), project: filepath.Join(root, "work", "proj"), mine: filepath.Join(root, "mine")}
	cargo, err := example.FS.ReadFile("Cargo.toml")
	if err != nil {
		t.Fatal(err)
	}
	for name, content := range map[string]string{
		"Cargo.toml": string(cargo), "src/main.rs": "fn main() {}\n", ".git/HEAD": "ref: refs/heads/main\n", "NOTES.md": "the user's notes\n",
	} {
		p := filepath.Join(w.project, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		writeFile(t, p, content)
	}
	os.MkdirAll(w.home, 0o755)
	writeFile(t, filepath.Join(w.home, ".profile"), "export X=1\n")
	os.MkdirAll(w.mine, 0o755)
	writeFile(t, filepath.Join(w.mine, "thesis.tex"), "chapter one\n")
	if err := os.Symlink(w.project, filepath.Join(root, "link")); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOME", w.home)
	return w
}

// run runs the CLI in the project. With engineAllowed false, reaching the
// engine fails the test: a refused --out must stop before connecting.
func (w outWorld) run(t *testing.T, engineAllowed bool, args ...string) (code int, stderr string, dialed bool) {
	t.Helper()
	var out, errb bytes.Buffer
	e := &env{
		stdout: &out, stderr: &errb, workdir: w.project,
		getenv: func(string) string { return "" },
		dial: func(context.Context, ...dagger.ClientOpt) (*dagger.Client, error) {
			dialed = true
			if !engineAllowed {
				t.Errorf("%v contacted the engine", args)
			}
			return nil, errors.New("connection refused (test engine)")
		},
	}
	// --tag and --commit keep git (and the fake .git) out of it, for the
	// commands that take them.
	fs := pflag.NewFlagSet(args[0], pflag.ContinueOnError)
	commands()[args[0]].flags(fs, &options{})
	if fs.Lookup("tag") != nil {
		args = append(args, "--tag", "v1.0.0", "--commit", strings.Repeat("ab", 20))
	}
	code = run(context.Background(), e, args)
	return code, errb.String(), dialed
}

// TestOutRefused: an --out that replacing would destroy is refused with
// exit 2, a message naming --out and the fix, before the engine is
// contacted, and every file stays in place.
func TestOutRefused(t *testing.T) {
	cases := []struct {
		name string
		out  func(w outWorld) string
		want string // a piece of the reason
	}{
		{"current folder", func(outWorld) string { return "." }, "never replaced"},
		{"parent folder", func(outWorld) string { return ".." }, "contains"},
		{"home", func(w outWorld) string { return w.home }, "never replaced"},
		{"root", func(outWorld) string { return "/" }, "root folder"},
		{"project subfolder", func(outWorld) string { return "src" }, "main.rs"},
		{"folder of the user's files", func(w outWorld) string { return w.mine }, "thesis.tex"},
		{"symlink to the project", func(w outWorld) string { return filepath.Join(w.root, "link") }, "never replaced"},
		{"regular file", func(outWorld) string { return "NOTES.md" }, "not a folder"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newOutWorld(t)
			out := tc.out(w)
			before := testenv.Tree(t, w.root)
			code, stderr, _ := w.run(t, false, "build", "--targets", "amd64", "--out", out)
			if code != exitUsage {
				t.Errorf("exit %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			for _, piece := range []string{"--out " + out + ":", tc.want, "Pass --out"} {
				if !strings.Contains(stderr, piece) {
					t.Errorf("stderr does not contain %q:\n%s", piece, stderr)
				}
			}
			if after := testenv.Tree(t, w.root); !reflect.DeepEqual(before, after) {
				t.Errorf("files changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestOutRefusedByEveryWritingCommand: every command that exports results
// runs the guard; plan, which only reads --out, does not; check and test
// write nothing and take no --out.
func TestOutRefusedByEveryWritingCommand(t *testing.T) {
	for _, cmd := range []string{"check", "test"} {
		w := newOutWorld(t)
		code, stderr, _ := w.run(t, false, cmd, "--out", "dist")
		if code != exitUsage || !strings.Contains(stderr, "unknown flag: --out") {
			t.Errorf("%s --out dist: exit %d, want the flag refused; stderr:\n%s", cmd, code, stderr)
		}
	}
	for _, cmd := range []string{"release", "build", "image", "docs"} {
		t.Run(cmd, func(t *testing.T) {
			w := newOutWorld(t)
			code, stderr, _ := w.run(t, false, cmd, "--out", ".")
			if code != exitUsage || !strings.Contains(stderr, "--out .:") {
				t.Errorf("%s --out .: exit %d, stderr:\n%s", cmd, code, stderr)
			}
		})
	}
	if writesOut("plan") {
		t.Errorf("plan only reads --out, yet is guarded")
	}
}

// TestOutAccepted: a missing, empty or earlier --out passes the guard (the
// run goes on to the engine), and nothing is written without one.
func TestOutAccepted(t *testing.T) {
	cases := []struct {
		name  string
		setup func(t *testing.T, w outWorld) string
	}{
		{"missing", func(*testing.T, outWorld) string { return "dist" }},
		{"missing, outside the project", func(_ *testing.T, w outWorld) string { return filepath.Join(w.root, "elsewhere", "dist") }},
		{"empty", func(t *testing.T, w outWorld) string {
			os.MkdirAll(filepath.Join(w.project, "dist"), 0o755)
			return "dist"
		}},
		{"ours", func(t *testing.T, w outWorld) string {
			dir := filepath.Join(w.project, "dist")
			os.MkdirAll(filepath.Join(dir, "x86_64-unknown-linux-gnu"), 0o755)
			if err := outdir.Mark(dir); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, "x86_64-unknown-linux-gnu", "kvstore"), "binary")
			return "dist"
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := newOutWorld(t)
			out := tc.setup(t, w)
			before := testenv.Tree(t, w.root)
			code, stderr, dialed := w.run(t, true, "build", "--targets", "amd64", "--out", out)
			if !dialed || code != exitFailure || !strings.Contains(stderr, "no Dagger engine reachable") {
				t.Errorf("--out %s did not reach the engine: exit %d, stderr:\n%s", out, code, stderr)
			}
			if after := testenv.Tree(t, w.root); !reflect.DeepEqual(before, after) {
				t.Errorf("files changed:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// TestFailureLogsOutsideTheProject: a failed run writes its logs into a
// new folder under the system's temporary folder, never in the project
// (where `git status` would show it), or under --logs; a second failure
// gets a folder of its own.
func TestFailureLogsOutsideTheProject(t *testing.T) {
	w := newOutWorld(t)
	tmp := t.TempDir()
	t.Setenv("TMPDIR", tmp)
	before := testenv.Tree(t, w.project)
	o := &options{project: project.Settings{Name: "hello"}}
	e := &env{workdir: w.project}
	dir, err := writeFailureLogs(e, o, map[string]string{"check": "error: lint\n"})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != tmp || !strings.HasPrefix(filepath.Base(dir), "garage-release-hello-failed-logs-") {
		t.Fatalf("logs written to %s, want a new folder garage-release-hello-failed-logs-* in %s", dir, tmp)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "check.log")); err != nil || string(data) != "error: lint\n" {
		t.Fatalf("check.log: %q, %v", data, err)
	}
	if after := testenv.Tree(t, w.project); !reflect.DeepEqual(before, after) {
		t.Errorf("the project changed:\nbefore %v\nafter  %v", before, after)
	}
	o.logs = "ci-logs"
	second, err := writeFailureLogs(e, o, map[string]string{"test": "panicked\n"})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(second) != filepath.Join(w.project, "ci-logs") {
		t.Errorf("--logs ci-logs: written to %s", second)
	}
}

// TestFailureLogsStayOutOfTheUpload: logs a user chose to keep in the
// project (--logs .) are left out of the next upload, so they neither
// change the cache keys nor travel to the engine.
func TestFailureLogsStayOutOfTheUpload(t *testing.T) {
	w := newOutWorld(t)
	o := &options{logs: "."}
	e := &env{workdir: w.project}
	dir, err := writeFailureLogs(e, o, map[string]string{"check": "error: lint\n"})
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Dir(dir) != w.project {
		t.Fatalf("logs written to %s, want a new folder in the project %s", dir, w.project)
	}
	if data, err := os.ReadFile(filepath.Join(dir, "check.log")); err != nil || string(data) != "error: lint\n" {
		t.Fatalf("check.log: %q, %v", data, err)
	}
	s, err := project.Load(w.project)
	if err != nil {
		t.Fatal(err)
	}
	up, err := project.Upload(w.project, s, "")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(up.Exclude, project.EscapePattern(filepath.Base(dir))) {
		t.Errorf("the upload keeps the failed-run logs: excludes %v", up.Exclude)
	}
}
