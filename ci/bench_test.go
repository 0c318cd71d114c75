package main

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/garage-release/garage-release/ci/outdir"
	"github.com/garage-release/garage-release/ci/testenv"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, c := range cases {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestProgressLineMatchesReport keeps the benchmark's parser in step with
// the progress lines the pipeline's report writes.
func TestProgressLineMatchesReport(t *testing.T) {
	lines := map[string][]string{
		"[   0.0s] start    toolchain":             {"0.0", "start", "toolchain", "", ""},
		"[  57.8s] ok       toolchain (57.8s)":     {"57.8", "ok", "toolchain", "", "57.8"},
		"[ 112.3s] ok       build arm64 (34.7s)":   {"112.3", "ok", "build", "arm64", "34.7"},
		"[   1.0s] start    smoke i386":            {"1.0", "start", "smoke", "i386", ""},
		"[   9.0s] FAILED   check (8.1s): command": nil,
	}
	for line, want := range lines {
		m := progressLine.FindStringSubmatch(line)
		if want == nil {
			if m != nil {
				t.Errorf("%q matched", line)
			}
			continue
		}
		if m == nil || strings.Join(m[1:], "|") != strings.Join(want, "|") {
			t.Errorf("%q: got %q, want %q", line, m, want)
		}
	}
}

func TestWithEditRestores(t *testing.T) {
	f := filepath.Join(t.TempDir(), "lib.rs")
	os.WriteFile(f, []byte("fn a() {}\n"), 0o644)
	_, err := withEdit(f, func() (benchRun, error) {
		data, _ := os.ReadFile(f)
		if !strings.Contains(string(data), "// garage-release bench edit") {
			t.Errorf("the file was not edited during the run: %q", data)
		}
		return benchRun{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(f); string(data) != "fn a() {}\n" {
		t.Errorf("the file was not restored: %q", data)
	}
}

func TestSummarize(t *testing.T) {
	f := summarize(benchFigure{Name: "x", Runs: []benchRun{
		{Wall: 10 * time.Second, Stages: map[string]time.Duration{"toolchain": 4 * time.Second, "build amd64": 3 * time.Second}},
		{Wall: 30 * time.Second, Stages: map[string]time.Duration{"toolchain": 6 * time.Second, "build amd64": 5 * time.Second}},
		{Wall: 20 * time.Second, Stages: map[string]time.Duration{"toolchain": 5 * time.Second, "build amd64": 4 * time.Second}},
	}})
	if f.Wall != 20 || f.Toolchain != 5 || f.StageSum != 9 {
		t.Errorf("summarize: wall %v toolchain %v sum %v", f.Wall, f.Toolchain, f.StageSum)
	}
}

func TestReadCPU(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat on this system")
	}
	a := readCPU()
	if a.busy <= 0 {
		t.Fatalf("busy CPU time %v", a.busy)
	}
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	if b := readCPU(); b.busy < a.busy {
		t.Errorf("busy CPU time went backwards: %v then %v", a.busy, b.busy)
	}
}

func TestBenchNeedsEngine(t *testing.T) {
	c := newCLI(t)
	if code, _, stderr := c.run("bench", "--runs", "0"); code != exitUsage || !strings.Contains(stderr, "--runs 0") {
		t.Errorf("bench --runs 0: exit %d, %s", code, stderr)
	}
}

// TestBenchWorkspace: the bench copies the project (modes and links kept,
// target/, .git/, dist/ and earlier outputs left out), edits only the copy
// and writes its releases outside the project.
func TestBenchWorkspace(t *testing.T) {
	w := newOutWorld(t)
	p := w.project
	os.MkdirAll(filepath.Join(p, "target", "debug"), 0o755)
	writeFile(t, filepath.Join(p, "target", "debug", "kvstore"), "build output")
	os.MkdirAll(filepath.Join(p, "dist"), 0o755)
	writeFile(t, filepath.Join(p, "dist", "manifest.json"), "{}")
	os.MkdirAll(filepath.Join(p, "out2"), 0o755)
	if err := outdir.Mark(filepath.Join(p, "out2")); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(p, "smoke.sh"), "#!/bin/sh\n")
	os.Chmod(filepath.Join(p, "smoke.sh"), 0o751)
	os.Symlink("src/main.rs", filepath.Join(p, "main-link.rs"))
	// A link out of the project: the incremental edit must not follow it.
	writeFile(t, filepath.Join(w.mine, "a.rs"), "fn mine() {}\n")
	os.Symlink(filepath.Join(w.mine, "a.rs"), filepath.Join(p, "src", "a.rs"))
	before := testenv.Tree(t, w.root)

	for _, source := range []string{p, filepath.Join(w.root, "link")} {
		ws, err := newBenchWorkspace(&env{workdir: w.root, getenv: func(string) string { return "" }}, &options{source: source})
		if err != nil {
			t.Fatal(err)
		}
		got := testenv.Tree(t, ws.src)
		want := map[string]string{
			".": "dir", "Cargo.toml": before["work/proj/Cargo.toml"], "NOTES.md": "the user's notes\n",
			"src": "dir", "src/main.rs": "fn main() {}\n", "src/a.rs": "link " + filepath.Join(w.mine, "a.rs"),
			"smoke.sh": "#!/bin/sh\n", "main-link.rs": "link src/main.rs",
		}
		if !reflect.DeepEqual(got, want) {
			t.Errorf("copy of %s:\n got %v\nwant %v", source, got, want)
		}
		if fi, err := os.Stat(filepath.Join(ws.src, "smoke.sh")); err != nil || fi.Mode().Perm() != 0o751 {
			t.Errorf("smoke.sh lost its mode: %v %v", fi, err)
		}
		if !strings.HasPrefix(ws.out, ws.dir+string(filepath.Separator)) || strings.HasPrefix(ws.src, p) {
			t.Errorf("workspace %+v is not apart from the project %s", ws, p)
		}
		if err := outdirCheck(ws); err != nil {
			t.Errorf("the bench's --out is refused: %v", err)
		}
		edit, err := firstRustFile(ws.src)
		if err != nil || edit != filepath.Join(ws.src, "src", "main.rs") {
			t.Errorf("firstRustFile = %q, %v; want the copy's src/main.rs", edit, err)
		}
		withEdit(edit, func() (benchRun, error) { return benchRun{}, nil })
		ws.cleanup()
		if _, err := os.Stat(ws.dir); !os.IsNotExist(err) {
			t.Errorf("cleanup left %s", ws.dir)
		}
	}
	if after := testenv.Tree(t, w.root); !reflect.DeepEqual(before, after) {
		t.Errorf("the bench changed the user's files:\nbefore %v\nafter  %v", before, after)
	}
}

// outdirCheck is the guard the bench's releases will meet.
func outdirCheck(ws *benchWorkspace) error {
	return outdir.Check(ws.out, ws.src)
}

// TestBenchEditsAMemberOfAVirtualWorkspace: with no src/ at the root (a
// virtual workspace like Garage's), the incremental run edits a member's.
func TestBenchEditsAMemberOfAVirtualWorkspace(t *testing.T) {
	dir := testenv.CopyFixture(t, filepath.Join("testdata", "cworkspace"), nil)
	edit, err := firstRustFile(dir)
	if err != nil || edit != filepath.Join(dir, "crates", "core", "src", "lib.rs") {
		t.Errorf("firstRustFile = %q, %v; want crates/core/src/lib.rs", edit, err)
	}
}
