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
	"maps"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"sort"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"dagger.io/dagger"
	"github.com/google/go-containerregistry/pkg/name"
	"github.com/spf13/pflag"
	"golang.org/x/sync/errgroup"

	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/outdir"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/target"
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
			summary: "measure cold, warm, incremental and one-at-a-time releases, or build beside plain cargo (--floor); print a table (--json)",
			flags: func(fs *pflag.FlagSet, o *options) {
				fs.StringVar(&o.source, "source", "", "the Rust project to measure (default: the bundled example)")
				fs.IntVar(&o.runs, "runs", 3, "runs of each measurement; the median is printed")
				fs.BoolVar(&o.json, "json", false, "print the results as JSON on stdout (the table goes to stderr)")
				fs.StringVar(&o.pushRef, "toolchain-ref", "", "also measure 'toolchain --publish REF' and a release with --toolchain-image REF; with --floor, the push measured, and without REGISTRY the registry (REF's folder) the fresh runner finds its toolchain in")
				fs.BoolVar(&o.failFast, "fail-fast", false, "measure only how soon a release reports a planted clippy error, against clippy alone (fresh cache volumes, the toolchain as it is)")
				fs.BoolVar(&benchFloor, "floor", false, "measure 'build' instead of releases: plain cargo in the toolchain container (the floor) and 'build', cold, after a one-line edit and with no change; "+
					"given an S3 bucket (S3_ENDPOINT, S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY) and REGISTRY or --toolchain-ref, also a fresh runner: new cache namespace, toolchain found in <registry>/"+benchToolchainRepo+" by its recipe (--registry, as a user's CI finds it) and pulled, compile cache from S3")
				targetsFlag(fs, o)
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

// benchFloor is bench --floor. The options struct (options.go) is shared
// by every command and has no field for it; pflag resets it to false each
// time bench's flags are registered, so it never outlives one command line.
var benchFloor bool

// benchJob is what bench reads from its flags and the environment.
type benchJob struct {
	Source         string // the project measured, as the report names it
	Runs           int
	JSON, FailFast bool
	Floor          bool
	Targets        []string // --targets: given to every measured command ("" the project's)
	// ToolchainRef is --toolchain-ref, else, with --floor, a ref under
	// REGISTRY. Only --floor reads REGISTRY: the other modes would push to
	// a publishing registry the user did not name for the bench.
	ToolchainRef string
	// Registry is, with --floor, the --registry of the fresh runner's
	// builds: REGISTRY, else the folder of ToolchainRef's repository.
	Registry string
	// S3 says where the fresh runner's compile cache goes, with --floor
	// ("" none); the releases see the environment as it is.
	S3 string
}

// benchImage is the --image of the fresh runner's builds, so that the
// toolchain they share goes to a repository of the bench's own,
// <registry>/benchToolchainRepo, never to the project's.
const benchImage = "garage-release-bench"

// benchToolchainRepo is the repository under the registry the floor bench
// pushes the toolchain to: by recipe (the fresh runner's lookup) and as
// :bench (the measured push).
const benchToolchainRepo = benchImage + "-toolchain"

func (o *options) benchJob(e *env, source string) (benchJob, error) {
	job := benchJob{Source: source, Runs: o.runs, JSON: o.json, FailFast: o.failFast, Floor: benchFloor, Targets: o.targets, ToolchainRef: o.pushRef}
	if len(o.targets) > 0 {
		if _, err := target.Parse(o.targets); err != nil {
			return job, usagef("--targets: %v", err)
		}
	}
	if job.FailFast && job.Floor {
		return job, usagef("--fail-fast and --floor measure different things: give one")
	}
	if !job.Floor {
		return job, nil
	}
	job.Registry = strings.TrimSuffix(e.getenv("REGISTRY"), "/")
	if job.ToolchainRef == "" && job.Registry != "" {
		job.ToolchainRef = job.Registry + "/" + benchToolchainRepo + ":bench"
	}
	if job.Registry == "" && job.ToolchainRef != "" {
		ref, err := name.ParseReference(job.ToolchainRef)
		if err != nil {
			return job, usagef("--toolchain-ref %q is not an image reference: %v", job.ToolchainRef, err)
		}
		job.Registry = ref.Context().RegistryStr()
		if dir := path.Dir(ref.Context().RepositoryStr()); dir != "." {
			job.Registry += "/" + dir
		}
	}
	if ep, b := e.getenv("S3_ENDPOINT"), e.getenv("S3_BUCKET"); ep != "" && b != "" {
		job.S3 = b + " at " + ep
	}
	return job, nil
}

// freshSkipped says why the fresh-runner rows cannot run, "" when they can.
func (j benchJob) freshSkipped() string {
	var missing []string
	if j.S3 == "" {
		missing = append(missing, "S3 bucket for the compile cache (S3_ENDPOINT, S3_BUCKET, AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY)")
	}
	if j.Registry == "" {
		missing = append(missing, "registry to share the toolchain through (REGISTRY or --toolchain-ref)")
	}
	if len(missing) == 0 {
		return ""
	}
	return "fresh-runner rows skipped: no " + strings.Join(missing, " and no ")
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
	// Before is the time until the first stage line (connecting, reading
	// the project, restoring the compile cache); After is the time from
	// the last stage's end to the exit (exporting dist/, uploading packs).
	Before time.Duration `json:"beforeStages"`
	After  time.Duration `json:"afterStages"`
	// Notes are the program's lines about the caches (compile cache,
	// toolchain, sccache's hits), to see what a run was served from.
	Notes []string `json:"notes,omitempty"`
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
	Before    float64    `json:"beforeStagesSeconds"`
	After     float64    `json:"afterStagesSeconds"`
}

// benchTarget is one figure against a target of the speed issue.
type benchTarget struct {
	What  string  `json:"what"`
	Value float64 `json:"value"`
	Limit float64 `json:"limit"`
	Unit  string  `json:"unit"` // "x" (a ratio) or "s"
	Met   bool    `json:"met"`
}

type benchReport struct {
	Machine string        `json:"machine"`
	Cores   int           `json:"cores"`
	Source  string        `json:"source"`
	Runs    int           `json:"runs"`
	Figures []benchFigure `json:"figures"`
	Targets []benchTarget `json:"targets,omitempty"`
	Notes   []string      `json:"notes,omitempty"`
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
	job, err := o.benchJob(e, ws.shown)
	if err != nil {
		return err
	}
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
	if len(job.Targets) > 0 {
		common = append(common, "--targets", strings.Join(job.Targets, ","))
	}
	release := func(extra ...string) []string {
		return append(append([]string{"release"}, common...), extra...)
	}
	rep := benchReport{Machine: machineName(), Cores: runtime.NumCPU(), Source: ws.shown, Runs: o.runs}
	progress := func(format string, args ...any) { fmt.Fprintf(e.stderr, "bench: "+format+"\n", args...) }

	switch {
	case job.Floor:
		b := &floorBench{e: e, o: o, job: job, self: self, ws: ws, edit: edit, progress: progress,
			build: func(extra ...string) []string { return append(append([]string{"build"}, common...), extra...) }}
		if err := b.run(ctx, &rep); err != nil {
			return err
		}
	case job.FailFast:
		alone := benchFigure{Name: "clippy alone (check --checks clippy)"}
		planted := benchFigure{Name: "release, planted clippy error: to failure"}
		overlap := benchFigure{Name: "the same, checks overlapping the builds (--cores 64)"}
		for i := 1; i <= o.runs; i++ {
			// Fresh target/ volumes, the toolchain as it is: what a CI job
			// on a warm engine sees for a new commit.
			progress("run %d/%d: clippy alone, fresh cache volumes", i, o.runs)
			ns := "bench-" + randomID()
			r, err := withPlant(edit, plantedLint(false), func() (benchRun, error) {
				return timeProgram(ctx, self, src, clippyAloneArgs(src, ns)...)
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
	default:
		figs, err := benchReleases(ctx, self, src, edit, o, release, progress)
		if err != nil {
			return err
		}
		rep.Figures = figs
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
	baseline := benchFigure{Name: figConnect}
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

// Figure names: the floor bench's, and the connect row every mode has.
const (
	figConnect   = "connect + one query"
	figFloorCold = "floor: plain cargo, cold"
	figFloorEdit = "floor: plain cargo, one-line edit"
	figWarmCold  = "build, warm engine: cold (new namespace)"
	figWarmSame  = "build, warm engine: no change"
	figWarmEdit  = "build, warm engine: one-line edit"
	figPush      = "toolchain --publish (push)"
	figFreshFill = "build, fresh runner: first (fills S3)"
	figFreshEdit = "build, fresh runner: one-line edit"
	figFreshSame = "build, fresh runner: no change"
)

// floorBench measures `build` beside its floor, the same cargo commands in
// the plain toolchain container, so that every ratio is taken in one run,
// on one machine in one state.
type floorBench struct {
	e        *env
	o        *options
	job      benchJob
	self     string
	ws       *benchWorkspace
	edit     string
	progress func(string, ...any)
	build    func(extra ...string) []string
}

func (b *floorBench) run(ctx context.Context, rep *benchReport) error {
	fl, err := b.newFloor(ctx)
	if err != nil {
		return err
	}
	defer closeClient(fl.c)
	skip := b.job.freshSkipped()
	runs := map[string][]benchRun{}
	add := func(name string, r benchRun) {
		runs[name] = append(runs[name], r)
		b.progress("  %s: %.2f s", name, r.Wall.Seconds())
	}
	// The warm-engine rows compile without the compile cache, as the floor
	// does: an S3 bucket in the environment must not serve them.
	// Nor a registry: they find the toolchain in the engine.
	warmEnv := benchEnv(os.Environ(), nil, "S3_ENDPOINT", "S3_BUCKET", "REGISTRY")
	volumes := 0
	n := b.job.Runs
	for i := 1; i <= n; i++ {
		r, err := timeProgram(ctx, b.self, b.ws.src, "engine")
		if err != nil {
			return err
		}
		add(figConnect, r)
		id := randomID()
		b.progress("run %d/%d: floor, cold: plain cargo, the %d targets at once, each on an empty target directory", i, n, len(fl.targets))
		if r, err = fl.run(ctx, id); err != nil {
			return err
		}
		add(figFloorCold, r)
		b.progress("run %d/%d: floor, one-line edit of %s", i, n, b.edit)
		if r, err = withEdit(b.edit, func() (benchRun, error) { return fl.run(ctx, id) }); err != nil {
			return err
		}
		add(figFloorEdit, r)
		ns := "bench-" + randomID()
		args := b.build("--cache-namespace", ns)
		volumes++
		// A user cache folder of the series' own: the cold row must not
		// find its binaries checked already by an earlier bench (the
		// verified-binary memo), the later rows may.
		host, err := os.MkdirTemp(b.ws.dir, "host-cache-")
		if err != nil {
			return err
		}
		warmEnv := benchEnv(warmEnv, map[string]string{"XDG_CACHE_HOME": host})
		b.progress("run %d/%d: build, warm engine, cold (cache namespace %s, the toolchain in the engine)", i, n, ns)
		if r, err = timeProgramEnv(ctx, b.self, b.ws.src, warmEnv, args...); err != nil {
			return err
		}
		add(figWarmCold, r)
		b.progress("run %d/%d: build, warm engine, no change", i, n)
		if r, err = timeProgramEnv(ctx, b.self, b.ws.src, warmEnv, args...); err != nil {
			return err
		}
		add(figWarmSame, r)
		b.progress("run %d/%d: build, warm engine, one-line edit", i, n)
		if r, err = withEdit(b.edit, func() (benchRun, error) { return timeProgramEnv(ctx, b.self, b.ws.src, warmEnv, args...) }); err != nil {
			return err
		}
		add(figWarmEdit, r)
		if skip != "" {
			continue
		}
		prefix, err := b.freshRunner(ctx, i, &volumes, add)
		if err != nil {
			return err
		}
		rep.Notes = append(rep.Notes, fmt.Sprintf("run %d's compile cache stays in S3 under the prefix %s ('cache erase --s3-prefix %s --yes' removes it)", i, prefix, prefix))
	}
	for _, name := range []string{figConnect, figFloorCold, figFloorEdit, figWarmCold, figWarmSame, figWarmEdit, figPush, figFreshFill, figFreshEdit, figFreshSame} {
		if len(runs[name]) > 0 {
			rep.Figures = append(rep.Figures, summarize(benchFigure{Name: name, Runs: runs[name]}))
		}
	}
	rep.Targets = floorTargets(rep.Figures)
	if skip != "" {
		rep.Notes = append(rep.Notes, skip)
	} else {
		by := figuresByName(rep.Figures)
		rep.Notes = append(rep.Notes,
			fmt.Sprintf("the fresh runner found its toolchain in %s/%s by its recipe and pulled it; the engine already held its layers (it built them), so the pull is faster than on a really new machine", b.job.Registry, benchToolchainRepo),
			fmt.Sprintf("the fresh runner's first run (filling S3) took %.2fx the warm-engine cold build", ratio(by[figFreshFill].Wall, by[figWarmCold].Wall)))
	}
	rep.Notes = append(rep.Notes,
		"cold is the warm engine's cold build: the toolchain already built; a runner that must also build it (or pull it from far) takes longer, so the ratios against cold are the strictest",
		"the floor runs the targets' builds at once, as build does, each on its own target directory; its clock starts once the source is in the engine and the toolchain built",
		fmt.Sprintf("the runs left %d sets of cache volumes (namespaces bench-*, bench-floor-*) on the engine; being least recently used, they are the first its garbage collector evicts", volumes+n))
	return nil
}

// freshRunner measures what a new CI runner does with the caches that
// follow the project: the toolchain pushed, a first build filling the
// compile cache, then builds in new cache namespaces (nothing of the
// engine's) with a host cache folder of their own (nothing of this
// machine's), after a one-line edit and with no change. Each build finds
// its toolchain as a user's CI does, by --registry and its recipe: the
// first one ever pushes it, the others pull it.
func (b *floorBench) freshRunner(ctx context.Context, i int, volumes *int, add func(string, benchRun)) (prefix string, err error) {
	n := b.job.Runs
	ref := b.job.ToolchainRef
	b.progress("run %d/%d: toolchain --publish %s", i, n, ref)
	r, err := timeProgram(ctx, b.self, b.ws.src, "toolchain", "--publish", ref)
	if err != nil {
		return "", err
	}
	add(figPush, r)
	// A prefix of this run's own: the first run starts from an empty
	// compile cache whatever earlier benches left in the bucket.
	prefix = b.e.getenv("S3_PREFIX") + "garage-release-bench-" + randomID() + "/"
	runner := func(name, what string) (benchRun, error) {
		host, err := os.MkdirTemp(b.ws.dir, "host-cache-")
		if err != nil {
			return benchRun{}, err
		}
		// The restored packs take as much disk as the compile cache:
		// gone once the run is measured.
		defer os.RemoveAll(host)
		ns := "bench-" + randomID()
		*volumes++
		b.progress("run %d/%d: build, fresh runner, %s (cache namespace %s, S3 prefix %s)", i, n, what, ns, prefix)
		env := benchEnv(os.Environ(), map[string]string{"S3_PREFIX": prefix, "XDG_CACHE_HOME": host})
		r, err := timeProgramEnv(ctx, b.self, b.ws.src, env, b.freshArgs(ns)...)
		if err != nil {
			return r, err
		}
		for _, l := range r.Notes {
			b.progress("  %s", l)
		}
		if err := compileCacheUsed(name, r); err != nil {
			return r, err
		}
		if err := toolchainShared(name, r); err != nil {
			return r, err
		}
		add(name, r)
		return r, nil
	}
	if _, err = runner(figFreshFill, "first run, filling the compile cache"); err != nil {
		return prefix, err
	}
	if _, err = withEdit(b.edit, func() (benchRun, error) { return runner(figFreshEdit, "one-line edit") }); err != nil {
		return prefix, err
	}
	_, err = runner(figFreshSame, "no change")
	return prefix, err
}

// freshArgs are a fresh-runner build's, in the cache namespace ns. They
// find the toolchain by --registry and its recipe, as a user's CI does;
// read-write as a trusted CI run, whatever CI variables the bench runs
// under, so that the first build writes what the others read.
func (b *floorBench) freshArgs(ns string) []string {
	return b.build("--cache-namespace", ns, "--cache", "read-write", "--registry", b.job.Registry, "--image", benchImage)
}

// toolchainShared checks that a fresh-runner build found its toolchain in
// the registry (the first may instead push it, when no run did before):
// a toolchain taken from the engine would make the row a warm one.
func toolchainShared(name string, r benchRun) error {
	for _, l := range r.Notes {
		if strings.HasPrefix(l, "Toolchain: pulling ") || (name == figFreshFill && strings.HasPrefix(l, "Toolchain: pushed ")) {
			return nil
		}
	}
	return fmt.Errorf("%s: build did not pull its toolchain from the registry:\n%s", name, strings.Join(r.Notes, "\n"))
}

var (
	restoredLine = regexp.MustCompile(`^Compile cache: .*; (\d+) packs, (\d+) downloaded`)
	wroteLine    = regexp.MustCompile(`^Compile cache: wrote (\d+) packs`)
)

// compileCacheUsed checks that a fresh-runner run really went through the
// compile cache: the first must write packs, the others restore them.
// Otherwise the row would measure something else under its name.
func compileCacheUsed(name string, r benchRun) error {
	restored, wrote := -1, -1
	for _, l := range r.Notes {
		if m := restoredLine.FindStringSubmatch(l); m != nil {
			restored, _ = strconv.Atoi(m[1])
		}
		if m := wroteLine.FindStringSubmatch(l); m != nil {
			wrote, _ = strconv.Atoi(m[1])
		}
	}
	switch {
	case restored < 0:
		return fmt.Errorf("%s: build did not use the compile cache:\n%s", name, strings.Join(r.Notes, "\n"))
	case name == figFreshFill && wrote < 1:
		return fmt.Errorf("%s: build wrote no packs to S3:\n%s", name, strings.Join(r.Notes, "\n"))
	case name != figFreshFill && restored < 1:
		return fmt.Errorf("%s: build restored no packs from S3:\n%s", name, strings.Join(r.Notes, "\n"))
	}
	return nil
}

func figuresByName(figs []benchFigure) map[string]benchFigure {
	m := map[string]benchFigure{}
	for _, f := range figs {
		m[f.Name] = f
	}
	return m
}

// floorTargets are the floor bench's figures against the speed issue's
// targets; a target whose rows did not run is left out.
func floorTargets(figs []benchFigure) []benchTarget {
	by := figuresByName(figs)
	var out []benchTarget
	have := func(names ...string) bool {
		for _, n := range names {
			if by[n].Wall == 0 {
				return false
			}
		}
		return true
	}
	x := func(what, a, b string, limit float64) {
		if have(a, b) {
			v := ratio(by[a].Wall, by[b].Wall)
			out = append(out, benchTarget{What: what, Value: v, Limit: limit, Unit: "x", Met: v <= limit})
		}
	}
	overConnect := func(what, a string) {
		if have(a, figConnect) {
			v := by[a].Wall - by[figConnect].Wall
			out = append(out, benchTarget{What: what, Value: v, Limit: 1, Unit: "s", Met: v < 1})
		}
	}
	x("warm engine, cold / floor, cold", figWarmCold, figFloorCold, 1.1)
	x("warm engine, one-line edit / floor, one-line edit", figWarmEdit, figFloorEdit, 1.1)
	overConnect("warm engine, no change, over connect", figWarmSame)
	x("fresh runner, one-line edit / warm engine, one-line edit", figFreshEdit, figWarmEdit, 1.5)
	x("fresh runner, one-line edit / cold", figFreshEdit, figWarmCold, 0.4)
	overConnect("fresh runner, no change, over connect", figFreshSame)
	return out
}

// floor runs the build stage's cargo commands in the plain toolchain
// container: no wrapper, no freshness repair, no log or progress files, no
// compile cache. It is what `build` could take at best.
type floor struct {
	c         *dagger.Client
	src, out  string
	edit      string // the file the edit runs change
	settings  project.Settings
	targets   []target.Target
	toolchain *dagger.Container
	version   string
	epoch     string
}

func (b *floorBench) newFloor(ctx context.Context) (*floor, error) {
	s, err := project.Load(b.ws.src)
	if err != nil {
		return nil, err
	}
	names := b.job.Targets
	if len(names) == 0 {
		names = s.Targets
	}
	ts, err := target.Parse(names)
	if err != nil {
		return nil, err
	}
	info, err := version.Detect(version.Options{Tag: benchTag, Commit: b.ws.commit, Getenv: b.e.getenv, Dir: b.ws.src})
	if err != nil {
		return nil, err
	}
	// What build sets: the caller's SOURCE_DATE_EPOCH, else the commit's
	// time, which the copy (no .git) cannot give: 0.
	epoch := "0"
	if v, ok := envEpoch(b.e); ok {
		epoch = fmt.Sprint(v)
	}
	c, err := connect(ctx, b.e, b.o)
	if err != nil {
		return nil, err
	}
	// The pipeline's toolchain for these targets and build packages: the
	// build rows then find it in the engine, as a warm engine has it.
	tc := pipeline.Toolchain(c, pipeline.ToolchainConfig{BaseImage: pipeline.DefaultBaseImage, BuildPackages: s.BuildPackages, Targets: ts})
	b.progress("the toolchain (built once per recipe, then cached by the engine)")
	if tc, err = tc.Sync(ctx); err != nil {
		closeClient(c)
		return nil, fmt.Errorf("floor: the toolchain: %s", pipeline.Describe(err))
	}
	return &floor{c: c, src: b.ws.src, out: b.ws.out, edit: b.edit, settings: s, targets: ts, toolchain: tc, version: info.Version, epoch: epoch}, nil
}

// cargoArgs are the release build's package and feature flags, as the
// pipeline passes them.
func (f *floor) cargoArgs() []string {
	var args []string
	if f.settings.Locked {
		args = append(args, "--locked")
	}
	if f.settings.Package != "" {
		args = append(args, "--package", f.settings.Package)
	}
	if len(f.settings.Features) > 0 {
		args = append(args, "--features", strings.Join(f.settings.Features, ","))
	}
	return args
}

// run builds every target at once, each on the target directory of volume
// series id (empty the first time), and times the cargo commands alone.
func (f *floor) run(ctx context.Context, id string) (benchRun, error) {
	// The same upload as build's, so that cargo sees the same tree.
	up, err := project.Upload(f.src, f.settings, f.out)
	if err != nil {
		return benchRun{}, err
	}
	// NoCache: within one session the engine would otherwise hand back the
	// first upload, and the edit run would rebuild nothing.
	src := f.c.Host().Directory(f.src, dagger.HostDirectoryOpts{Exclude: up.Exclude, Gitignore: true, NoCache: true})
	if len(up.Needed) > 0 {
		src = src.WithDirectory(".", f.c.Host().Directory(f.src, dagger.HostDirectoryOpts{Include: up.Patterns(), Exclude: up.Exclude, NoCache: true}))
	}
	// In the engine before the clock starts: the floor is cargo's time.
	if src, err = src.Sync(ctx); err != nil {
		return benchRun{}, fmt.Errorf("floor: upload: %s", pipeline.Describe(err))
	}
	if err := f.sameAsDisk(ctx, src); err != nil {
		return benchRun{}, err
	}
	vol := func(name string) *dagger.CacheVolume { return f.c.CacheVolume("bench-floor-" + id + "-" + name) }
	base := f.toolchain.
		WithMountedCache("/cargo/registry", vol("cargo-registry")).
		WithMountedCache("/cargo/git", vol("cargo-git")).
		WithEnvVariable("CARGO_HOME", "/cargo").
		WithMountedDirectory("/src", src).
		WithWorkdir("/src").
		WithEnvVariable("CARGO_TERM_COLOR", "never").
		// The engine caches an exec by its inputs, not by its volumes'
		// names: without this a second bench would get the first's result.
		WithEnvVariable("GARAGE_RELEASE_BENCH_FLOOR", id)
	start, cpu := time.Now(), readCPU()
	g, gctx := errgroup.WithContext(ctx)
	for _, t := range f.targets {
		args := append([]string{"cargo", "build", "--release", "--target", t.Triple, "--bin", f.settings.Binary}, f.cargoArgs()...)
		ctr := base.
			WithMountedCache("/target", vol("target-"+t.Triple)).
			WithEnvVariable("CARGO_TARGET_DIR", "/target").
			WithEnvVariable("CARGO_TARGET_"+t.EnvTriple()+"_LINKER", t.Linker).
			WithEnvVariable("CARGO_TARGET_"+t.EnvTriple()+"_RUSTFLAGS", pipeline.ReleaseRustFlags).
			WithEnvVariable("PKG_CONFIG_ALL_STATIC", "1").
			WithEnvVariable("GIT_VERSION", f.version).
			WithEnvVariable("SOURCE_DATE_EPOCH", f.epoch).
			WithExec(args)
		g.Go(func() error {
			out, err := ctr.Stderr(gctx)
			if err != nil {
				return fmt.Errorf("floor, %s: %s", t.Name, pipeline.Describe(err))
			}
			// A floor that compiled nothing would make every ratio look bad.
			if !strings.Contains(out, "Compiling ") {
				return fmt.Errorf("floor, %s: cargo compiled nothing (it did not see the edit?):\n%s", t.Name, lastLines(out, 10))
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return benchRun{}, err
	}
	wall := time.Since(start)
	return benchRun{Wall: wall, Stages: map[string]time.Duration{}, BuildWall: wall, BuildCPU: readCPU().busy - cpu.busy}, nil
}

// sameAsDisk checks that the engine's copy of the edited file is the one
// on disk: a stale upload would time a build that compiles nothing.
func (f *floor) sameAsDisk(ctx context.Context, src *dagger.Directory) error {
	rel, err := filepath.Rel(f.src, f.edit)
	if err != nil {
		return err
	}
	want, err := os.ReadFile(f.edit)
	if err != nil {
		return err
	}
	got, err := src.File(filepath.ToSlash(rel)).Contents(ctx)
	if err != nil {
		return fmt.Errorf("floor: reading %s back: %s", rel, pipeline.Describe(err))
	}
	if got != string(want) {
		return fmt.Errorf("floor: the engine's %s is not the file on disk: the upload is stale", rel)
	}
	return nil
}

// benchEnv is environ without the variables named in drop, with set added.
func benchEnv(environ []string, set map[string]string, drop ...string) []string {
	var out []string
	for _, kv := range environ {
		k, _, _ := strings.Cut(kv, "=")
		if _, ok := set[k]; ok || slices.Contains(drop, k) {
			continue
		}
		out = append(out, kv)
	}
	for _, k := range slices.Sorted(maps.Keys(set)) {
		out = append(out, k+"="+set[k])
	}
	return out
}

// clippyAloneArgs run clippy alone: check builds nothing to version or
// export, so it takes no --tag, --commit, --out or --targets.
func clippyAloneArgs(src, namespace string) []string {
	return []string{"check", "--source", src, "--checks", "clippy", "--cache-namespace", namespace}
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
	return timeProgramEnv(ctx, self, dir, nil, args...)
}

// noteLine matches what a run says about the caches: the compile cache and
// toolchain lines, and the summary's sccache figures and notes.
var noteLine = regexp.MustCompile(`^(Compile cache: |Toolchain: |  cache    |  note     )`)

// timeProgramEnv is timeProgram with the environment env (nil: this
// process's).
func timeProgramEnv(ctx context.Context, self, dir string, env []string, args ...string) (benchRun, error) {
	cmd := exec.CommandContext(ctx, self, args...)
	cmd.Dir = dir
	cmd.Env = env
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
	var firstStage, lastStage time.Duration = -1, -1
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		tail = append(tail, line)
		if len(tail) > 40 {
			tail = tail[1:]
		}
		if noteLine.MatchString(line) {
			run.Notes = append(run.Notes, strings.TrimSpace(line))
		}
		m := progressLine.FindStringSubmatch(line)
		if m == nil {
			continue
		}
		if firstStage < 0 {
			firstStage = time.Since(start)
		}
		at, _ := strconv.ParseFloat(m[1], 64)
		stage := m[3]
		if m[2] == "start" && stage == "build" && buildStart < 0 {
			buildStart, cpuStart = at, readCPU()
		}
		if m[2] == "ok" {
			lastStage = time.Since(start)
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
	if firstStage >= 0 && lastStage >= firstStage {
		run.Before, run.After = firstStage, run.Wall-lastStage
	}
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
	f.Before = pick(func(r benchRun) time.Duration { return r.Before })
	f.After = pick(func(r benchRun) time.Duration { return r.After })
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
	fmt.Fprintln(tw, "\twall s\ttoolchain s\tstages summed s\tbuilds wall s\tbuilds CPU s\tCPU busy\tbefore stages s\tafter stages s\t")
	for _, f := range rep.Figures {
		busy := "-"
		if f.BuildWall > 0 && f.BuildCPU > 0 && rep.Cores > 0 {
			busy = fmt.Sprintf("%.0f%%", 100*f.BuildCPU/(f.BuildWall*float64(rep.Cores)))
		}
		fmt.Fprintf(tw, "%s\t%.2f\t%.2f\t%.2f\t%.2f\t%.2f\t%s\t%.2f\t%.2f\t\n", f.Name, f.Wall, f.Toolchain, f.StageSum, f.BuildWall, f.BuildCPU, busy, f.Before, f.After)
	}
	tw.Flush()
	byName := figuresByName(rep.Figures)
	base, cold, warm := byName[figConnect], byName["cold release"], byName["warm release (no change)"]
	incr, serial := byName["incremental (one .rs edited)"], byName["cold release, --jobs 1"]
	fmt.Fprintln(w)
	if alone, planted := byName["clippy alone (check --checks clippy)"], byName["release, planted clippy error: to failure"]; alone.Wall > 0 {
		fmt.Fprintf(w, "fail fast: a planted clippy error fails the release in %.2f s, %.2fx of clippy alone (%.2f s)\n", planted.Wall, ratio(planted.Wall, alone.Wall), alone.Wall)
		if ov := byName["the same, checks overlapping the builds (--cores 64)"]; ov.Wall > 0 {
			fmt.Fprintf(w, "without checks first (--cores 64): %.2f s, %.2fx of clippy alone\n", ov.Wall, ratio(ov.Wall, alone.Wall))
		}
	}
	if cold.Wall > 0 {
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
	for _, t := range rep.Targets {
		fmt.Fprintf(w, "target: %s\n", t)
	}
	for _, n := range rep.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
}

// String is the target's line: the figure, the limit, and whether it is met.
func (t benchTarget) String() string {
	verdict := "met"
	if !t.Met {
		verdict = "NOT met"
	}
	if t.Unit == "s" {
		return fmt.Sprintf("%s: %.2f s (target under %.2f s): %s", t.What, t.Value, t.Limit, verdict)
	}
	return fmt.Sprintf("%s: %.2fx (target %.2fx at most): %s", t.What, t.Value, t.Limit, verdict)
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
