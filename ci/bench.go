package main

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/outdir"
	"github.com/garage-release/garage-release/ci/version"
)

// benchCommands measure the release; they run this program's own binary as
// a user would, so the figures include everything a user waits for.
func benchCommands() []command {
	return []command{
		{
			name:    "engine",
			summary: "connect to the Dagger engine, run one trivial query, print the time it took",
			flags: func(fs *pflag.FlagSet, o *options) {
				fs.BoolVarP(&o.verbose, "verbose", "v", false, "show the engine's own log")
			},
			run: runEngine,
		},
		{
			name:    "bench",
			summary: "measure cold, warm, incremental and one-at-a-time releases; print a table (--json)",
			flags: func(fs *pflag.FlagSet, o *options) {
				fs.StringVar(&o.source, "source", "", "the Rust project to measure (default: the bundled example)")
				fs.IntVar(&o.runs, "runs", 3, "runs of each measurement; the median is printed")
				fs.BoolVar(&o.json, "json", false, "print the results as JSON on stdout (the table goes to stderr)")
				fs.StringVar(&o.pushRef, "toolchain-ref", "", "also measure 'toolchain --publish REF' and a release with --toolchain-image REF")
				fs.BoolVar(&o.failFast, "fail-fast", false, "measure only how soon a release reports a planted clippy error, against clippy alone (fresh cache volumes, the toolchain as it is)")
			},
			run: runBench,
		},
	}
}

func runEngine(ctx context.Context, e *env, o *options) error {
	start := time.Now()
	c, err := connect(ctx, e, o)
	if err != nil {
		return err
	}
	defer closeClient(c)
	connected := time.Since(start)
	platform, err := c.DefaultPlatform(ctx)
	if err != nil {
		return &engineError{err: err}
	}
	fmt.Fprintf(e.stdout, "engine reachable: platform %s, connect %.3fs, connect and one query %.3fs\n",
		platform, connected.Seconds(), time.Since(start).Seconds())
	return nil
}

// benchRun is one timed run of the program.
type benchRun struct {
	Wall   time.Duration            `json:"wall"`
	Stages map[string]time.Duration `json:"stages"`
	// BuildWall is from the first build's start to the last build's end.
	BuildWall time.Duration `json:"buildWall"`
	// BuildCPU is the machine's busy CPU time during the builds (local
	// engine only; 0 when /proc/stat is unreadable).
	BuildCPU time.Duration `json:"buildCPU"`
}

// benchFigure is the median of several runs.
type benchFigure struct {
	Name      string     `json:"name"`
	Runs      []benchRun `json:"runs"`
	Wall      float64    `json:"wallSeconds"`
	Toolchain float64    `json:"toolchainSeconds,omitempty"`
	StageSum  float64    `json:"stageSumSeconds"`
	BuildWall float64    `json:"buildWallSeconds"`
	BuildCPU  float64    `json:"buildCPUSeconds"`
}

type benchReport struct {
	Machine string        `json:"machine"`
	Cores   int           `json:"cores"`
	Source  string        `json:"source"`
	Runs    int           `json:"runs"`
	Figures []benchFigure `json:"figures"`
}

func runBench(ctx context.Context, e *env, o *options) error {
	if o.runs < 1 {
		return usagef("--runs %d: give 1 or more", o.runs)
	}
	self, err := os.Executable()
	if err != nil {
		return err
	}
	// An engine is needed: say so and stop (exit 2) before measuring.
	if out, err := exec.CommandContext(ctx, self, "engine").CombinedOutput(); err != nil {
		return usagef("bench needs a Dagger engine:\n%s", strings.TrimSpace(string(out)))
	}
	ws, err := newBenchWorkspace(e, o)
	if err != nil {
		return err
	}
	defer ws.cleanup()
	src := ws.src
	edit, err := firstRustFile(src)
	if err != nil {
		return err
	}
	// Every release writes to the workspace's own dist: never into the
	// user's project, whose dist/ may hold a release they want to keep.
	common := []string{"--source", src, "--out", ws.out, "--tag", benchTag}
	if ws.commit != "" {
		common = append(common, "--commit", ws.commit)
	}
	release := func(extra ...string) []string {
		return append(append([]string{"release"}, common...), extra...)
	}
	rep := benchReport{Machine: machineName(), Cores: runtime.NumCPU(), Source: ws.shown, Runs: o.runs}
	progress := func(format string, args ...any) { fmt.Fprintf(e.stderr, "bench: "+format+"\n", args...) }

	if !o.failFast {
		figs, err := benchReleases(ctx, self, src, edit, o, release, progress)
		if err != nil {
			return err
		}
		rep.Figures = figs
	}
	if o.failFast {
		alone := benchFigure{Name: "clippy alone (check --checks clippy)"}
		planted := benchFigure{Name: "release, planted clippy error: to failure"}
		overlap := benchFigure{Name: "the same, checks overlapping the builds (--cores 64)"}
		for i := 1; i <= o.runs; i++ {
			// Fresh target/ volumes, the toolchain as it is: what a CI job
			// on a warm engine sees for a new commit.
			progress("run %d/%d: clippy alone, fresh cache volumes", i, o.runs)
			ns := "bench-" + randomID()
			r, err := withPlant(edit, plantedLint(false), func() (benchRun, error) {
				// check takes no --out: common without --source and --out.
				return timeProgram(ctx, self, src, append([]string{"check", "--source", src, "--checks", "clippy", "--cache-namespace", ns}, common[4:]...)...)
			})
			if err != nil {
				return err
			}
			alone.Runs = append(alone.Runs, r)
			progress("run %d/%d: release with a planted clippy error, fresh cache volumes", i, o.runs)
			if r, err = withPlant(edit, plantedLint(true), func() (benchRun, error) {
				return timeFailure(ctx, self, src, "check", release("--cache-namespace", "bench-"+randomID())...)
			}); err != nil {
				return err
			}
			planted.Runs = append(planted.Runs, r)
			progress("run %d/%d: the same with the checks overlapping the builds", i, o.runs)
			if r, err = withPlant(edit, plantedLint(true), func() (benchRun, error) {
				return timeFailure(ctx, self, src, "check", release("--cache-namespace", "bench-"+randomID(), "--cores", "64")...)
			}); err != nil {
				return err
			}
			overlap.Runs = append(overlap.Runs, r)
		}
		rep.Figures = append(rep.Figures, summarize(alone), summarize(planted), summarize(overlap))
	}
	if o.json {
		// The table still goes to stderr, for the person watching.
		printBench(e.stderr, rep)
		return printJSON(e, rep)
	}
	printBench(e.stdout, rep)
	return nil
}

// benchReleases measures cold, warm, incremental and one-at-a-time
// releases (and, with --toolchain-ref, the toolchain image).
func benchReleases(ctx context.Context, self, src, edit string, o *options, release func(...string) []string, progress func(string, ...any)) ([]benchFigure, error) {
	baseline := benchFigure{Name: "connect + one query"}
	cold := benchFigure{Name: "cold release"}
	warm := benchFigure{Name: "warm release (no change)"}
	incr := benchFigure{Name: "incremental (one .rs edited)"}
	serial := benchFigure{Name: "cold release, --jobs 1"}
	for i := 1; i <= o.runs; i++ {
		b, err := timeProgram(ctx, self, src, "engine")
		if err != nil {
			return nil, err
		}
		baseline.Runs = append(baseline.Runs, b)
		ns, bust := "bench-"+randomID(), randomID()
		args := release("--cache-namespace", ns, "--cache-bust", bust)
		progress("run %d/%d: cold release (cache namespace %s)", i, o.runs, ns)
		r, err := timeProgram(ctx, self, src, args...)
		if err != nil {
			return nil, err
		}
		cold.Runs = append(cold.Runs, r)
		progress("run %d/%d: warm release", i, o.runs)
		if r, err = timeProgram(ctx, self, src, args...); err != nil {
			return nil, err
		}
		warm.Runs = append(warm.Runs, r)
		progress("run %d/%d: incremental release (edit of %s)", i, o.runs, edit)
		if r, err = withEdit(edit, func() (benchRun, error) { return timeProgram(ctx, self, src, args...) }); err != nil {
			return nil, err
		}
		incr.Runs = append(incr.Runs, r)
		progress("run %d/%d: cold release with --jobs 1", i, o.runs)
		serialArgs := release("--cache-namespace", "bench-"+randomID(), "--cache-bust", randomID(), "--jobs", "1")
		if r, err = timeProgram(ctx, self, src, serialArgs...); err != nil {
			return nil, err
		}
		serial.Runs = append(serial.Runs, r)
	}
	figs := []benchFigure{summarize(baseline), summarize(cold), summarize(warm), summarize(incr), summarize(serial)}
	if o.pushRef != "" {
		push := benchFigure{Name: "toolchain build and push"}
		pull := benchFigure{Name: "release with --toolchain-image (pulled)"}
		for i := 1; i <= o.runs; i++ {
			r, err := timeProgram(ctx, self, src, "toolchain", "--cache-bust", randomID(), "--publish", o.pushRef)
			if err != nil {
				return nil, err
			}
			push.Runs = append(push.Runs, r)
			if r, err = timeProgram(ctx, self, src, release("--cache-namespace", "bench-"+randomID(), "--toolchain-image", o.pushRef)...); err != nil {
				return nil, err
			}
			pull.Runs = append(pull.Runs, r)
		}
		figs = append(figs, summarize(push), summarize(pull))
	}
	return figs, nil
}

// benchTag is the version every measured release is built as.
const benchTag = "v0.0.0-bench"

// benchWorkspace is the bench's own temporary folder: a copy of the project
// (the incremental run edits a file of it) and the folder the releases
// write. The user's project is only read, so an interrupted bench leaves it
// as it was.
type benchWorkspace struct {
	dir    string // the temporary folder, removed by cleanup
	src    string // the copy of the project
	out    string // --out of every release
	shown  string // the project as the report names it
	commit string // the project's commit, when git knows it: the copy has no .git
}

func (w *benchWorkspace) cleanup() { os.RemoveAll(w.dir) }

// newBenchWorkspace copies --source, else the bundled example, into a new
// temporary folder.
func newBenchWorkspace(e *env, o *options) (*benchWorkspace, error) {
	var from string
	if o.source != "" {
		from = o.source
		if !filepath.IsAbs(from) {
			from = filepath.Join(e.workdir, from)
		}
		if _, err := os.Stat(filepath.Join(from, "Cargo.toml")); err != nil {
			return nil, usagef("--source %s: no Cargo.toml", o.source)
		}
		// Copy the project, not a link to it.
		real, err := filepath.EvalSymlinks(from)
		if err != nil {
			return nil, fmt.Errorf("--source %s: %w", o.source, err)
		}
		from = real
	}
	dir, err := os.MkdirTemp("", "garage-release-bench-")
	if err != nil {
		return nil, err
	}
	w := &benchWorkspace{dir: dir, src: filepath.Join(dir, "project"), out: filepath.Join(dir, "dist"), shown: from}
	if from == "" {
		w.shown = "the bundled example (ci/example)"
		err = writeFS(example.FS, w.src)
	} else {
		err = copyProject(from, w.src)
		if err == nil {
			w.commit, err = projectCommit(e, from)
		}
	}
	if err != nil {
		w.cleanup()
		return nil, err
	}
	return w, nil
}

// projectCommit is the commit the releases would have recorded when run in
// the project itself (from CI variables or git), so the copy is built as the
// same commit.
func projectCommit(e *env, dir string) (string, error) {
	info, err := version.Detect(version.Options{Tag: benchTag, Getenv: e.getenv, Dir: dir})
	if err != nil {
		return "", err
	}
	return info.Commit, nil
}

// benchSkip are the project's top-level entries the copy leaves out: build
// output, history and the default --out, none of which the release reads.
var benchSkip = map[string]bool{"target": true, ".git": true, "dist": true}

// copyProject copies the project at from to a new folder to, keeping file
// modes and symlinks (as links). It leaves out benchSkip and any output
// folder of garage-release (one with the outdir marker); special files
// (sockets, devices) are skipped.
func copyProject(from, to string) error {
	type dirMode struct {
		path string
		mode fs.FileMode
	}
	var dirs []dirMode
	err := filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		info, err := d.Info()
		if err != nil {
			return err
		}
		switch {
		case d.IsDir():
			if rel != "." && benchSkip[rel] {
				return fs.SkipDir
			}
			if _, err := os.Lstat(filepath.Join(p, outdir.Marker)); rel != "." && err == nil {
				return fs.SkipDir
			}
			// Writable while filling; the real mode is set at the end.
			if err := os.Mkdir(dst, 0o700); err != nil {
				return err
			}
			dirs = append(dirs, dirMode{dst, info.Mode().Perm()})
		case d.Type()&fs.ModeSymlink != 0:
			if benchSkip[rel] {
				return nil
			}
			link, err := os.Readlink(p)
			if err != nil {
				return err
			}
			return os.Symlink(link, dst)
		case d.Type().IsRegular():
			return copyFile(p, dst, info.Mode().Perm())
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("copy %s for the bench: %w", from, err)
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		if err := os.Chmod(dirs[i].path, dirs[i].mode); err != nil {
			return fmt.Errorf("copy %s for the bench: %w", from, err)
		}
	}
	return nil
}

func copyFile(from, to string, mode fs.FileMode) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Close(); err != nil {
		return err
	}
	// Chmod, not the mode of OpenFile: the umask must not strip bits.
	return os.Chmod(to, mode)
}

// writeFS writes the files of fsys under dir.
func writeFS(fsys fs.FS, dir string) error {
	return fs.WalkDir(fsys, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dir, p), 0o755)
		}
		data, err := fs.ReadFile(fsys, p)
		if err != nil {
			return err
		}
		return os.WriteFile(filepath.Join(dir, p), data, 0o644)
	})
}

// firstRustFile picks the file the incremental run edits: the first
// src/*.rs that really lies in the copy, not a link into the user's
// project, else the first of a workspace member's (crates/core/src/lib.rs
// in a virtual workspace like Garage's).
func firstRustFile(src string) (string, error) {
	root, err := filepath.EvalSymlinks(src)
	if err != nil {
		return "", err
	}
	var matches []string
	for _, pattern := range [][]string{{"src", "*.rs"}, {"*", "src", "*.rs"}, {"*", "*", "src", "*.rs"}} {
		found, _ := filepath.Glob(filepath.Join(append([]string{src}, pattern...)...))
		sort.Strings(found)
		matches = append(matches, found...)
	}
	for _, m := range matches {
		real, err := filepath.EvalSymlinks(m)
		if err != nil {
			continue
		}
		if rel, err := filepath.Rel(root, real); err == nil && !strings.HasPrefix(rel, "..") {
			return m, nil
		}
	}
	return "", usagef("%s has no src/*.rs of its own (nor a member's) to edit for the incremental run", src)
}

// withEdit appends a comment line to file, runs fn, and restores the file
// (same content, same mode). The bench only edits its own copy of the
// project, so an interrupted run cannot leave the user's file edited.
func withEdit(file string, fn func() (benchRun, error)) (benchRun, error) {
	return withPlant(file, "\n// garage-release bench edit "+randomID()+"\n", fn)
}

// plantedLint is Rust code clippy refuses with -D warnings (len_zero), or
// the same function written cleanly, so that both measured runs compile
// the same amount of code.
func plantedLint(bad bool) string {
	body := "v.is_empty()"
	if bad {
		body = "v.len() == 0"
	}
	return "\n#[doc(hidden)]\npub fn garage_release_bench_planted(v: &[u8]) -> bool {\n    " + body + "\n}\n// " + randomID() + "\n"
}

// withPlant adds code to file for the time of fn, then restores it (same
// content, same mode).
func withPlant(file, code string, fn func() (benchRun, error)) (benchRun, error) {
	info, err := os.Stat(file)
	if err != nil {
		return benchRun{}, err
	}
	orig, err := os.ReadFile(file)
	if err != nil {
		return benchRun{}, err
	}
	defer os.WriteFile(file, orig, info.Mode().Perm())
	// Before a test module, if any: an item after it is a lint of its own
	// (items_after_test_module).
	text := string(orig)
	if i := strings.Index(text, "\n#[cfg(test)]"); i >= 0 {
		text = text[:i] + code + text[i:]
	} else {
		text += code
	}
	if err := os.WriteFile(file, []byte(text), info.Mode().Perm()); err != nil {
		return benchRun{}, err
	}
	return fn()
}

// timeFailure runs this program, which must fail at stage, and returns the
// wall time until it exited.
func timeFailure(ctx context.Context, self, dir, stage string, args ...string) (benchRun, error) {
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Dir = dir
	start := time.Now()
	out, err := cmd.CombinedOutput()
	run := benchRun{Wall: time.Since(start), Stages: map[string]time.Duration{}}
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitFailure || !strings.Contains(string(out), "FAILED   "+stage) {
		return run, fmt.Errorf("%s %s: expected it to fail at %s, got %v:\n%s", filepath.Base(self), strings.Join(args, " "), stage, err, lastLines(string(out), 40))
	}
	return run, nil
}

func lastLines(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// progressLine matches the stage lines of the CLI's progress output.
var progressLine = regexp.MustCompile(`^\[\s*([\d.]+)s\] (start|ok)\s+(\S+)(?: ([^\s(]\S*))?(?: \(([\d.]+)s\))?$`)

// timeProgram runs this program with args and times it, reading the
// stages' times from its progress lines and the machine's CPU time during
// the builds.
func timeProgram(ctx context.Context, self, dir string, args ...string) (benchRun, error) {
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Dir = dir
	stderr, err := cmd.StderrPipe()
	if err != nil {
		return benchRun{}, err
	}
	run := benchRun{Stages: map[string]time.Duration{}}
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return run, err
	}
	var tail []string
	var buildStart, buildEnd float64 = -1, -1
	var cpuStart, cpuEnd cpuSample
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		tail = append(tail, line)
		if len(tail) > 40 {
			tail = tail[1:]
		}
		m := progressLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		at, _ := strconv.ParseFloat(m[1], 64)
		stage := m[3]
		if m[2] == "start" && stage == "build" && buildStart < 0 {
			buildStart, cpuStart = at, readCPU()
		}
		if m[2] == "ok" {
			secs, _ := strconv.ParseFloat(m[5], 64)
			run.Stages[strings.TrimSpace(stage+" "+m[4])] = time.Duration(secs * float64(time.Second))
			if stage == "build" {
				buildEnd, cpuEnd = at, readCPU()
			}
		}
	}
	if err := cmd.Wait(); err != nil {
		return run, fmt.Errorf("%s %s: %v\n%s", filepath.Base(self), strings.Join(args, " "), err, strings.Join(tail, "\n"))
	}
	run.Wall = time.Since(start)
	if buildStart >= 0 && buildEnd >= buildStart {
		run.BuildWall = time.Duration((buildEnd - buildStart) * float64(time.Second))
		run.BuildCPU = cpuEnd.busy - cpuStart.busy
	}
	return run, nil
}

// cpuSample is the machine's busy CPU time from /proc/stat.
type cpuSample struct{ busy time.Duration }

func readCPU() cpuSample {
	data, err := os.ReadFile("/proc/stat")
	if err != nil {
		return cpuSample{}
	}
	line, _, _ := strings.Cut(string(data), "\n")
	f := strings.Fields(line)
	if len(f) < 8 || f[0] != "cpu" {
		return cpuSample{}
	}
	var busy int64
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i != 3 && i != 4 { // idle and iowait are not work
			busy += n
		}
	}
	const ticks = 100 // USER_HZ on Linux
	return cpuSample{busy: time.Duration(busy) * time.Second / ticks}
}

func summarize(f benchFigure) benchFigure {
	pick := func(get func(benchRun) time.Duration) float64 {
		var xs []float64
		for _, r := range f.Runs {
			xs = append(xs, get(r).Seconds())
		}
		return median(xs)
	}
	f.Wall = pick(func(r benchRun) time.Duration { return r.Wall })
	f.Toolchain = pick(func(r benchRun) time.Duration { return r.Stages["toolchain"] })
	f.StageSum = pick(func(r benchRun) time.Duration {
		var sum time.Duration
		for _, d := range r.Stages {
			sum += d
		}
		return sum
	})
	f.BuildWall = pick(func(r benchRun) time.Duration { return r.BuildWall })
	f.BuildCPU = pick(func(r benchRun) time.Duration { return r.BuildCPU })
	return f
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

func printBench(w io.Writer, rep benchReport) {
	fmt.Fprintf(w, "%s, %d cores, source %s, median of %d runs\n\n", rep.Machine, rep.Cores, rep.Source, rep.Runs)
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "\twall s\ttoolchain s\tstages summed s\tbuilds wall s\tbuilds CPU s\tCPU busy\t")
	for _, f := range rep.Figures {
		busy := "-"
		if f.BuildWall > 0 && f.BuildCPU > 0 && rep.Cores > 0 {
			busy = fmt.Sprintf("%.0f%%", 100*f.BuildCPU/(f.BuildWall*float64(rep.Cores)))
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t\n", f.Name, f.Wall, f.Toolchain, f.StageSum, f.BuildWall, f.BuildCPU, busy)
	}
	tw.Flush()
	byName := map[string]benchFigure{}
	for _, f := range rep.Figures {
		byName[f.Name] = f
	}
	base, cold, warm := byName["connect + one query"], byName["cold release"], byName["warm release (no change)"]
	incr, serial := byName["incremental (one .rs edited)"], byName["cold release, --jobs 1"]
	fmt.Fprintln(w)
	if alone, planted := byName["clippy alone (check --checks clippy)"], byName["release, planted clippy error: to failure"]; alone.Wall > 0 {
		fmt.Fprintf(w, "fail fast: a planted clippy error fails the release in %.2f s, %.2fx of clippy alone (%.2f s)\n", planted.Wall, ratio(planted.Wall, alone.Wall), alone.Wall)
		if ov := byName["the same, checks overlapping the builds (--cores 64)"]; ov.Wall > 0 {
			fmt.Fprintf(w, "without checks first (--cores 64): %.2f s, %.2fx of clippy alone\n", ov.Wall, ratio(ov.Wall, alone.Wall))
		}
	}
	if cold.Wall == 0 {
		return // --fail-fast: no release figures
	}
	fmt.Fprintf(w, "warm release minus connect-and-query: %.2f s\n", warm.Wall-base.Wall)
	fmt.Fprintf(w, "cold release: wall %.2f s against %.2f s of stages summed (%.2fx overlap); toolchain %.2f s, the rest %.2f s\n",
		cold.Wall, cold.StageSum, ratio(cold.StageSum, cold.Wall), cold.Toolchain, cold.Wall-cold.Toolchain)
	fmt.Fprintf(w, "incremental: %.2f s, builds %.2f s (%.2fx of the builds)\n", incr.Wall, incr.BuildWall, ratio(incr.Wall, incr.BuildWall))
	fmt.Fprintf(w, "note: the cold runs left %d sets of cache volumes (namespaces bench-*) on the engine; being least recently used, they are the first its garbage collector evicts\n", 2*rep.Runs)
	if rep.Cores > 0 && cold.BuildCPU > 0 {
		fmt.Fprintf(w, "fan-out: builds wall %.2f s against CPU/cores %.2f s (%.2fx); --jobs 1 builds wall %.2f s (%.2fx of fan-out)\n",
			cold.BuildWall, cold.BuildCPU/float64(rep.Cores), ratio(cold.BuildWall, cold.BuildCPU/float64(rep.Cores)), serial.BuildWall, ratio(serial.BuildWall, cold.BuildWall))
	}
}

func ratio(a, b float64) float64 {
	if b == 0 {
		return 0
	}
	return a / b
}

func randomID() string {
	b := make([]byte, 6)
	rand.Read(b)
	return hex.EncodeToString(b)
}

func machineName() string {
	data, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown machine"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown machine"
}
