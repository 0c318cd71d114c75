package main

import (
	"io"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/outdir"
	"github.com/garage-release/garage-release/ci/testenv"
	"github.com/garage-release/garage-release/ci/trust"
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

// TestClippyAloneArgs: the fail-fast bench's clippy run is a command line
// check accepts (it once carried --tag, which check does not take).
func TestClippyAloneArgs(t *testing.T) {
	dir := t.TempDir()
	if err := writeFS(example.FS, dir); err != nil {
		t.Fatal(err)
	}
	e := &env{stdout: io.Discard, stderr: io.Discard, workdir: dir, getenv: func(string) string { return "" }}
	args := clippyAloneArgs(dir, "bench-x")
	if _, _, err := parseCommand(e, commands()[args[0]], args); err != nil {
		t.Errorf("%s: %v", strings.Join(args, " "), err)
	}
}

func TestBenchJob(t *testing.T) {
	vars := map[string]string{}
	e := &env{getenv: func(k string) string { return vars[k] }}
	job := func(o options) (benchJob, error) {
		t.Helper()
		benchFloor = o.set["floor"]
		defer func() { benchFloor = false }()
		return o.benchJob(e, "proj")
	}
	floor := map[string]bool{"floor": true}
	j, err := job(options{set: floor, runs: 1})
	if err != nil || !strings.Contains(j.freshSkipped(), "no S3 bucket") || !strings.Contains(j.freshSkipped(), "no registry") {
		t.Errorf("no S3, no registry: %+v, %v, skipped %q", j, err, j.freshSkipped())
	}
	vars["S3_ENDPOINT"], vars["S3_BUCKET"], vars["REGISTRY"] = "http://127.0.0.1:9000", "b", "127.0.0.1:5000/ns/"
	if j, err = job(options{set: floor, runs: 1}); err != nil || j.ToolchainRef != "127.0.0.1:5000/ns/"+benchToolchainRepo+":bench" || j.Registry != "127.0.0.1:5000/ns" || j.freshSkipped() != "" {
		t.Errorf("REGISTRY: %+v, %v, skipped %q", j, err, j.freshSkipped())
	}
	if j, _ = job(options{set: floor, pushRef: "r:1"}); j.ToolchainRef != "r:1" || j.Registry != "127.0.0.1:5000/ns" {
		t.Errorf("--toolchain-ref does not win over REGISTRY for the push, or REGISTRY not for the lookup: %+v", j)
	}
	// Without REGISTRY, the fresh runner looks in --toolchain-ref's folder.
	delete(vars, "REGISTRY")
	for ref, want := range map[string]string{"127.0.0.1:5101/bench/toolchain:1": "127.0.0.1:5101/bench", "127.0.0.1:5000/tc:1": "127.0.0.1:5000"} {
		if j, err = job(options{set: floor, pushRef: ref}); err != nil || j.Registry != want || j.freshSkipped() != "" {
			t.Errorf("--toolchain-ref %s: %+v, %v, skipped %q; want the registry %s", ref, j, err, j.freshSkipped(), want)
		}
	}
	if _, err = job(options{set: floor, pushRef: "Not A Ref"}); err == nil {
		t.Error("--toolchain-ref 'Not A Ref' accepted")
	}
	vars["REGISTRY"] = "127.0.0.1:5000/ns/"
	// Without --floor, REGISTRY is the user's publishing registry: the
	// bench pushes nothing there.
	if j, _ = job(options{}); j.ToolchainRef != "" || j.S3 != "" {
		t.Errorf("without --floor: %+v", j)
	}
	if _, err = job(options{set: floor, failFast: true}); err == nil {
		t.Error("--floor with --fail-fast accepted")
	}
	if _, err = job(options{targets: []string{"sparc"}}); err == nil {
		t.Error("--targets sparc accepted")
	}
}

// TestFreshRunnerArgs: the fresh runner's build is a command line build
// accepts, and it finds its toolchain by the recipe lookup in the bench's
// own repository, read-write even under a CI provider's variables.
func TestFreshRunnerArgs(t *testing.T) {
	dir := t.TempDir()
	if err := writeFS(example.FS, dir); err != nil {
		t.Fatal(err)
	}
	vars := map[string]string{"CI": "true", "REGISTRY": "127.0.0.1:5000/other"}
	e := &env{stdout: io.Discard, stderr: io.Discard, workdir: dir, getenv: func(k string) string { return vars[k] }}
	b := &floorBench{job: benchJob{Registry: "127.0.0.1:5000/ns"},
		build: func(extra ...string) []string {
			return append([]string{"build", "--source", dir, "--tag", benchTag}, extra...)
		}}
	args := b.freshArgs("bench-x")
	o, _, err := parseCommand(e, commands()[args[0]], args)
	if err != nil {
		t.Fatalf("%s: %v", strings.Join(args, " "), err)
	}
	l, err := o.toolchainLookup(e)
	if err != nil || l.Repo != "127.0.0.1:5000/ns/"+benchToolchainRepo || l.Mode != trust.ReadWrite {
		t.Errorf("%s: lookup %+v, %v; want %s/%s read-write", strings.Join(args, " "), l, err, b.job.Registry, benchToolchainRepo)
	}
	if o.toolchainImage != "" {
		t.Errorf("the fresh runner names its toolchain image: %s", o.toolchainImage)
	}
}

func TestBenchEnv(t *testing.T) {
	got := benchEnv([]string{"A=1", "S3_BUCKET=b", "XDG_CACHE_HOME=/old", "B=x=y"}, map[string]string{"XDG_CACHE_HOME": "/new", "S3_PREFIX": "p/"}, "S3_BUCKET")
	want := []string{"A=1", "B=x=y", "S3_PREFIX=p/", "XDG_CACHE_HOME=/new"}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("benchEnv = %q, want %q", got, want)
	}
}

func TestFloorTargets(t *testing.T) {
	figs := []benchFigure{
		{Name: figConnect, Wall: 0.1},
		{Name: figFloorCold, Wall: 100}, {Name: figFloorEdit, Wall: 20},
		{Name: figWarmCold, Wall: 105}, {Name: figWarmSame, Wall: 1.5}, {Name: figWarmEdit, Wall: 30},
	}
	got := floorTargets(figs)
	want := []benchTarget{
		{What: "warm engine, cold / floor, cold", Value: 1.05, Limit: 1.1, Unit: "x", Met: true},
		{What: "warm engine, one-line edit / floor, one-line edit", Value: 1.5, Limit: 1.1, Unit: "x", Met: false},
		{What: "warm engine, no change, over connect", Value: 1.4, Limit: 1, Unit: "s", Met: false},
	}
	if len(got) != len(want) {
		t.Fatalf("without the fresh-runner rows: %v", got)
	}
	for i := range want {
		if got[i].What != want[i].What || got[i].Met != want[i].Met || got[i].Unit != want[i].Unit || got[i].Value-want[i].Value > 1e-9 || want[i].Value-got[i].Value > 1e-9 {
			t.Errorf("target %d: got %+v, want %+v", i, got[i], want[i])
		}
	}
	figs = append(figs, benchFigure{Name: figFreshEdit, Wall: 40}, benchFigure{Name: figFreshSame, Wall: 35})
	got = floorTargets(figs)
	if len(got) != 6 || got[3].Value != 40.0/30 || !got[3].Met || got[4].Value != 40.0/105 || !got[4].Met || got[5].Met {
		t.Errorf("with the fresh-runner rows: %v", got)
	}
	if s := got[1].String(); !strings.Contains(s, "1.50x (target 1.10x at most): NOT met") {
		t.Errorf("line %q", s)
	}
}

func TestCompileCacheUsed(t *testing.T) {
	restored := "Compile cache: s3://b/p/_cache/, reads and writes (local run); 4 packs, 4 downloaded (120.0 MB) in 2.1s"
	cases := []struct {
		name  string
		notes []string
		ok    bool
	}{
		{figFreshFill, []string{strings.Replace(restored, "4 packs, 4", "0 packs, 0", 1), "Compile cache: wrote 4 packs (120.0 MB) in 3s"}, true},
		{figFreshFill, []string{strings.Replace(restored, "4 packs, 4", "0 packs, 0", 1), "Compile cache: wrote 0 packs (0 B) in 3s"}, false},
		{figFreshEdit, []string{restored, "Compile cache: wrote 1 packs (1.0 kB) in 1s"}, true},
		{figFreshSame, []string{strings.Replace(restored, "4 packs, 4", "0 packs, 0", 1)}, false},
		{figFreshSame, []string{"Toolchain: pulling x"}, false},
	}
	for i, c := range cases {
		if err := compileCacheUsed(c.name, benchRun{Notes: c.notes}); (err == nil) != c.ok {
			t.Errorf("case %d (%s): %v", i, c.name, err)
		}
	}
}

// TestPrintBenchFloor: the floor bench's table ends with each target's
// verdict and the notes, and prints no release lines.
func TestPrintBenchFloor(t *testing.T) {
	figs := []benchFigure{{Name: figConnect, Wall: 0.1}, {Name: figFloorCold, Wall: 100}, {Name: figWarmCold, Wall: 120}}
	var b strings.Builder
	printBench(&b, benchReport{Machine: "m", Cores: 2, Source: "s", Runs: 1, Figures: figs, Targets: floorTargets(figs), Notes: []string{"fresh-runner rows skipped: no S3 bucket"}})
	out := b.String()
	for _, want := range []string{"floor: plain cargo, cold", "target: warm engine, cold / floor, cold: 1.20x (target 1.10x at most): NOT met", "note: fresh-runner rows skipped: no S3 bucket"} {
		if !strings.Contains(out, want) {
			t.Errorf("no %q in:\n%s", want, out)
		}
	}
	if strings.Contains(out, "cold release") {
		t.Errorf("release lines in the floor table:\n%s", out)
	}
}
