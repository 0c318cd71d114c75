package main

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/pflag"

	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/outdir"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/request"
	"github.com/garage-release/garage-release/ci/signing"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/version"
)

// options holds every flag of every command; each command registers the
// ones it takes.
type options struct {
	set map[string]bool // flags given on the command line

	// The project and how to run it on the engine.
	source, out                  string
	targets, features            []string
	binary                       string
	tag, commit                  string
	jobs                         int
	toolchainImage, debianMirror string
	baseImage, cacheNamespace    string
	cacheBust                    string
	verbose                      bool
	progressEvery                time.Duration // --progress-every
	logs                         string        // --logs
	cache                        string        // --cache
	cacheBucket                  string        // --cache-bucket
	olderThan                    string        // cache erase --older-than
	yes                          bool          // cache erase --yes
	toolchainComplete            bool          // the toolchain image was found by its recipe digest
	checks                       []string      // --checks
	clippyArgs                   string        // --clippy-args
	lints                        string        // --lints
	cores                        int           // --cores
	buildPackages                []string      // --build-packages
	testArgs                     string        // --test-args

	// Publishing.
	publish   bool
	force     bool
	s3        s3Flags
	registry  string // image repository prefix: host[:port]/namespace
	imageName string
	insecure  bool   // plain-http registry (tests, local registries)
	dist      string // publish: the dist/ folder to publish
	from, to  string // promote
	json      bool   // plan, bench
	runs      int    // bench
	failFast  bool   // bench --fail-fast
	pushRef   string // toolchain --publish REF
	arg       string // the positional argument (verify: the version)
	// init
	providers     []string // --ci
	pin           string   // --pin
	writeSettings bool     // --write-settings
	signKey       string   // --sign-key: a cosign private key file
	// sourceDateEpoch, when set, is the published build's (verify).
	sourceDateEpoch *int64
	// signer signs the release (--sign-key or the environment); nil: unsigned.
	signer *signing.Signer
	// cmdline is the command line after the program name, for the provenance.
	cmdline []string

	// Derived by prepare.
	project    project.Settings
	projectDir string // "" for the bundled example
	targetList []target.Target
	version    version.Info
}

type s3Flags struct {
	endpoint, bucket, prefix, region string
	insecure                         bool
}

// The flag sets, one per concern; each command takes just the sets it
// reads (see commands.go), so its --help lists only flags that change what
// it does.

// sourceFlag chooses the project.
func sourceFlag(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.source, "source", "", "the Rust project to release (a folder with Cargo.toml); default: the current folder if it has one, else the bundled example")
}

// binaryFlag chooses the program released.
func binaryFlag(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.binary, "binary", "", "the binary to release (default: from Cargo.toml)")
}

// compileFlags change what cargo compiles, in every stage that runs it.
func compileFlags(fs *pflag.FlagSet, o *options) {
	fs.StringSliceVar(&o.features, "features", nil, "cargo features to enable (default: from Cargo.toml)")
	fs.StringSliceVar(&o.buildPackages, "build-packages", nil, "Debian packages the build scripts need, comma-separated (tools, and -dev libraries, installed for every target's architecture too); default: the project's build-packages")
}

// targetsFlag chooses the architectures built.
func targetsFlag(fs *pflag.FlagSet, o *options) {
	fs.StringSliceVar(&o.targets, "targets", nil, "targets to build, comma-separated: "+strings.Join(target.Names(), ", ")+" (default: the project's, else all)")
}

// jobsFlag limits concurrency, for the commands that run several heavy
// stages at once.
func jobsFlag(fs *pflag.FlagSet, o *options) {
	fs.IntVar(&o.jobs, "jobs", 0, "at most this many checks, tests and builds at once (0: no limit)")
}

// stageFlags are for every command that runs cargo on the engine.
func stageFlags(fs *pflag.FlagSet, o *options) {
	toolchainFlags(fs, o)
	engineFlags(fs, o)
	fs.StringVar(&o.cacheNamespace, "cache-namespace", "garage-release", "prefix of the engine cache volumes (a new one starts cold)")
	runFlags(fs, o)
}

// toolchainFlags choose how the toolchain image is made.
func toolchainFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.toolchainImage, "toolchain-image", "", "pull this toolchain image (from 'toolchain --publish') instead of building it")
	fs.StringVar(&o.debianMirror, "debian-mirror", "", "Debian archive URL for the pinned Rust std packages (default: the base image's apt source)")
	fs.StringVar(&o.cacheBust, "cache-bust", "", "any value: run the toolchain and build steps again instead of reusing the engine's results (benchmarks)")
}

// engineFlags are for every command that runs containers.
func engineFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.baseImage, "base-image", "", "base image of every container (default: debian:trixie)")
	fs.BoolVarP(&o.verbose, "verbose", "v", false, "show the engine's own log (every command's output)")
}

// runFlags are for the commands that run stages and report on them.
func runFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.logs, "logs", "", "when a stage fails, its logs go to a new folder in this one (default: the system's temporary folder)")
	fs.DurationVar(&o.progressEvery, "progress-every", pipeline.HeartbeatEvery, "when stderr is not a terminal (a CI log): a line per running stage this often, with cargo's crate count")
}

// outFlag is for the commands that write results (or read them, plan).
func outFlag(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.out, "out", "dist", "where results are written: replaced as a whole on success, so it must be missing, empty or an earlier output")
}

// checkFlags set the check policy over the project's (see
// project.Checks), for the commands that run the checks.
func checkFlags(fs *pflag.FlagSet, o *options) {
	fs.StringSliceVar(&o.checks, "checks", nil, "checks to run: fmt, clippy, both, or none (default: the project's, else both)")
	fs.StringVar(&o.clippyArgs, "clippy-args", "", `clippy's arguments after --, e.g. "-D warnings -A clippy::pedantic" (default: the project's, else "-D warnings")`)
	fs.StringVar(&o.lints, "lints", "", `what a check finding does: "deny" fails the release, "warn" reports it in the summary and on the page (default: the project's, else deny)`)
}

// versionFlags choose the version when CI variables and git should not.
func versionFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.tag, "tag", "", "release this tag (default: from the CI provider's variables, else git)")
	fs.StringVar(&o.commit, "commit", "", "the commit being released, 40 hex digits (default: from CI variables, else git)")
}

func s3FlagSet(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.s3.endpoint, "s3-endpoint", "", "S3 endpoint, host:port or URL (env S3_ENDPOINT)")
	fs.StringVar(&o.s3.bucket, "s3-bucket", "", "S3 bucket (env S3_BUCKET)")
	fs.StringVar(&o.s3.prefix, "s3-prefix", "", "key prefix inside the bucket (env S3_PREFIX)")
	fs.StringVar(&o.s3.region, "s3-region", "", "S3 region (env S3_REGION, default garage)")
	fs.BoolVar(&o.s3.insecure, "s3-insecure", false, "plain http to the S3 endpoint (default: https unless the endpoint URL says http)")
}

// cacheFlag says what a run may do with the caches that follow the project
// from runner to runner, for the commands that use them.
func cacheFlag(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.cache, "cache", "auto", "the caches that follow the project: the toolchain image in the registry (with --registry) and the compile cache in S3 (with an S3 bucket): read-write reads and writes them, read-only only reads, off neither; auto: read-write for a tag, a protected or default branch or a local run, read-only for a pull request")
}

// registryFlagSet is for the commands that push or tag the image, or
// share the toolchain through the registry.
func registryFlagSet(fs *pflag.FlagSet, o *options) {
	registryNameFlags(fs, o)
	fs.BoolVar(&o.insecure, "registry-insecure", false, "plain http to the registry (a local test registry)")
}

// registryNameFlags name the image's repository, for plan, which only
// reads tags (publish.Plan takes no transport: loopback and private
// addresses use http anyway).
func registryNameFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.registry, "registry", "", "image repository prefix, host[:port]/namespace (env REGISTRY); empty: no image is pushed")
	fs.StringVar(&o.imageName, "image", "", "image name under --registry (default: from Cargo.toml, else the binary)")
}

// needsProject says which commands work on a Rust project.
func needsProject(cmd string) bool {
	switch cmd {
	case "toolchain", "publish", "promote", "index", "engine", "bench", "init", "cache":
		return false
	}
	return true
}

// prepare checks the flags against each other and the disk, before
// anything is started, and fills the derived fields.
func (o *options) prepare(e *env, cmd string) error {
	req := o.request(e)
	if err := req.Validate(); err != nil {
		return err
	}
	// For the request 0 is the default; given on the command line it is a
	// mistake.
	if o.progressEvery == 0 && o.set["progress-every"] {
		return fmt.Errorf("--progress-every %s: give a positive duration, e.g. 30s", o.progressEvery)
	}
	for _, p := range []struct{ flag, val string }{{"--out", o.out}, {"--dist", o.dist}, {"--logs", o.logs}} {
		if p.val != "" && strings.TrimSpace(p.val) == "" {
			return fmt.Errorf("%s is blank", p.flag)
		}
	}
	if !needsProject(cmd) {
		return nil
	}
	if err := o.loadProject(e); err != nil {
		return err
	}
	if err := o.overrides().Apply(&o.project, nil); err != nil {
		return err
	}
	if cmd == "docs" && o.project.Docs == "" {
		return fmt.Errorf("%s declares no docs: set docs = \"<mdBook folder>\" under [package.metadata.release] in Cargo.toml", o.project.Name)
	}
	ts, err := target.Parse(o.project.Targets)
	if err != nil {
		return err
	}
	o.targetList = ts
	info, err := version.Detect(version.Options{Tag: req.Version.Tag, Commit: req.Version.Commit, Getenv: e.getenv, Dir: o.projectDir})
	if err != nil {
		return err
	}
	o.version = info
	if cmd == "release" {
		if err := o.loadSigner(e); err != nil {
			return err
		}
	}
	if writesOut(cmd) {
		return o.checkOut(e)
	}
	return nil
}

// request is the run's settings as both front ends carry them (see
// ci/request): the project's overrides (flags given only), the engine's
// and the publishing settings, S3 and registry flags falling back on the
// environment. It is built when needed, not kept: the toolchain lookup and
// verify change options (the toolchain image, the cache namespace) after
// prepare, and the pipeline must see those.
func (o *options) request(e *env) request.Release {
	pick := func(flag, envName string) string {
		if flag != "" {
			return flag
		}
		return e.getenv(envName)
	}
	return request.Release{
		Project: o.overrides(),
		Version: request.Version{Tag: o.tag, Commit: o.commit},
		Engine: request.Engine{
			ToolchainImage: o.toolchainImage, ToolchainComplete: o.toolchainComplete,
			BaseImage: o.baseImage, DebianMirror: o.debianMirror,
			CacheNamespace: o.cacheNamespace, CacheBust: o.cacheBust,
			Jobs: o.jobs, Cores: o.cores,
		},
		Cache:    request.Cache{Mode: o.cache, Bucket: pick(o.cacheBucket, "CACHE_BUCKET")},
		Progress: request.Progress{Verbose: o.verbose, Every: o.progressEvery},
		Publish: request.Publish{
			Enabled: o.publish, Force: o.force,
			S3: request.S3{
				Endpoint: pick(o.s3.endpoint, "S3_ENDPOINT"), Bucket: pick(o.s3.bucket, "S3_BUCKET"),
				Prefix: pick(o.s3.prefix, "S3_PREFIX"), Region: pick(o.s3.region, "S3_REGION"),
				Insecure: o.s3.insecure,
			},
			Registry: request.Registry{Prefix: pick(o.registry, "REGISTRY"), Insecure: o.insecure},
		},
	}
}

// overrides are the flags that change the project's settings, those
// given only: the same funnel as the Dagger module's arguments.
func (o *options) overrides() project.Overrides {
	var ov project.Overrides
	list := func(flag string, v []string) *[]string {
		if !o.set[flag] {
			return nil
		}
		return &v
	}
	if o.set["binary"] {
		ov.Binary = &o.binary
	}
	ov.Features = list("features", o.features)
	ov.Targets = list("targets", o.targets)
	ov.BuildPackages = list("build-packages", o.buildPackages)
	ov.TestArgs = list("test-args", strings.Fields(o.testArgs))
	ov.Checks = list("checks", o.checks)
	ov.ClippyArgs = list("clippy-args", strings.Fields(o.clippyArgs))
	if o.set["lints"] {
		ov.Lints = &o.lints
	}
	if o.imageName != "" {
		ov.Image = &o.imageName
	}
	return ov
}

// writesOut says which commands replace --out: those whose stages produce
// files (check and test produce none and leave --out alone).
func writesOut(cmd string) bool {
	switch cmd {
	case "release", "build", "image", "docs":
		return true
	}
	return false
}

// checkOut refuses an --out that replacing would destroy (the project, the
// current folder, home, a folder of the user's files), before anything runs.
func (o *options) checkOut(e *env) error {
	if o.out == "" {
		return usagef("--out is empty: give the folder results are written to (default dist)")
	}
	err := outdir.Check(outDir(e, o), protectedDirs(e, o)...)
	if err != nil {
		return usagef("--out %s: %v", o.out, err)
	}
	return nil
}

// protectedDirs are the folders --out must never be nor contain.
func protectedDirs(e *env, o *options) []string {
	dirs := []string{e.workdir}
	if o.projectDir != "" {
		dirs = append(dirs, o.projectDir)
	}
	if home, err := os.UserHomeDir(); err == nil {
		dirs = append(dirs, home)
	}
	return dirs
}

// loadProject finds the project: --source, else a Cargo.toml in the
// current folder, else the bundled example.
func (o *options) loadProject(e *env) error {
	dir := o.source
	if dir == "" {
		if _, err := os.Stat(filepath.Join(e.workdir, "Cargo.toml")); err == nil {
			dir = e.workdir
		}
	} else if !filepath.IsAbs(dir) {
		dir = filepath.Join(e.workdir, dir)
	}
	if dir == "" {
		data, err := example.FS.ReadFile("Cargo.toml")
		if err != nil {
			return err
		}
		s, err := project.Parse(data, example.FS)
		if err != nil {
			return fmt.Errorf("bundled example: %w", err)
		}
		o.project = s
		return nil
	}
	s, err := project.Load(dir)
	if err != nil {
		return err
	}
	o.project, o.projectDir = s, dir
	return nil
}

// testFlags are for the commands that run the project's tests.
func testFlags(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.testArgs, "test-args", "", `more arguments for 'cargo test --workspace', e.g. "--all-features" (default: the project's test-args)`)
}
