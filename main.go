// Garage-release as a Dagger module: `dagger call <function>` from a shell.
//
// Every function is a thin adapter over ci/pipeline, the same code
// `go run ./ci` runs: it converts the module's objects to the Go SDK's by ID
// (both clients share the caller's session), runs the stage, and converts
// the result back. There is no stage logic here.
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	sdk "dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/attest"
	"github.com/garage-release/garage-release/ci/compilecache"
	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/request"
	"github.com/garage-release/garage-release/ci/signing"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/trust"
	"github.com/garage-release/garage-release/ci/version"
	"github.com/garage-release/garage-release/internal/dagger"
)

// GarageRelease releases a Rust project: checks, tests, static binaries for
// amd64, i386, arm64 and arm, a multi-platform image, docs and a release page.
type GarageRelease struct{}

// listArg and stringArg turn an optional argument into an override: unset
// keeps the project's setting.
func listArg(v []string) *[]string {
	if len(v) == 0 {
		return nil
	}
	return &v
}

func stringArg(v string) *string {
	if v == "" {
		return nil
	}
	return &v
}

// session joins the caller's engine session with the Go SDK, which is what
// ci/pipeline is written against.
func session(ctx context.Context) (*sdk.Client, error) {
	return sdk.Connect(ctx, sdk.WithLogOutput(os.Stderr))
}

// toSDK turns a module object into the SDK's by ID.
func toSDK[T sdk.Loadable[T]](ctx context.Context, c *sdk.Client, obj interface {
	ID(context.Context) (dagger.ID, error)
}) (T, error) {
	id, err := obj.ID(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return sdk.Load[T](ctx, c, sdk.ID(id))
}

// fromSDK turns an SDK object back into the module's by ID.
func fromSDK[T dagger.Loadable[T]](ctx context.Context, obj interface {
	ID(context.Context) (sdk.ID, error)
}) (T, error) {
	id, err := obj.ID(ctx)
	if err != nil {
		var zero T
		return zero, err
	}
	return dagger.Load[T](ctx, dag, dagger.ID(id))
}

// newPipeline reads the project's settings from the source (or uses the
// bundled example when the source has no Cargo.toml) and builds the
// pipeline as req says, through the same request the CLI builds from its
// flags (see ci/request).
func newPipeline(ctx context.Context, c *sdk.Client, source *dagger.Directory, req request.Release) (*pipeline.Pipeline, error) {
	if err := req.Validate(); err != nil {
		return nil, err
	}
	src, err := toSDK[*sdk.Directory](ctx, c, source)
	if err != nil {
		return nil, err
	}
	var settings project.Settings
	entries, err := src.Entries(ctx)
	if err != nil {
		return nil, err
	}
	// The source comes with its .git folder: the version, commit and
	// SOURCE_DATE_EPOCH come from it, as the CLI reads them from git.
	vopts := version.Options{Tag: req.Version.Tag, Commit: req.Version.Commit, Getenv: func(string) string { return "" }}
	if has(entries, ".git") {
		vopts.Dir, vopts.Git = "/src", pipeline.GitRunner(ctx, c, src, "")
	}
	if has(entries, "Cargo.toml") {
		data, err := src.File("Cargo.toml").Contents(ctx)
		if err != nil {
			return nil, err
		}
		if settings, err = project.Parse([]byte(data), pipeline.DirectoryFS(ctx, src)); err != nil {
			return nil, err
		}
		settings.Locked = has(entries, "Cargo.lock")
		// The project minus build output and what .gitignore leaves out,
		// with what cargo needs put back (see pipeline.FilterSource).
		var layout project.Layout
		if src, layout, err = pipeline.FilterSource(ctx, src, settings); err != nil {
			return nil, err
		}
		settings.Benches = layout.Benches
	} else {
		fmt.Fprintln(os.Stderr, "No Cargo.toml in the source: releasing the bundled example project (ci/example).")
		data, _ := example.FS.ReadFile("Cargo.toml")
		if settings, err = project.Parse(data, example.FS); err != nil {
			return nil, err
		}
		if src, err = pipeline.DirectoryFromFS(c, example.FS); err != nil {
			return nil, err
		}
	}
	if err := req.Project.Apply(&settings, nil); err != nil {
		return nil, err
	}
	targets, err := target.Parse(settings.Targets)
	if err != nil {
		return nil, err
	}
	info, err := version.Detect(vopts)
	if err != nil {
		return nil, err
	}
	var epoch int64
	if vopts.Git != nil && info.Commit != "" {
		if epoch, err = version.CommitTimeWith(vopts.Git, vopts.Dir, info.Commit); err != nil {
			return nil, fmt.Errorf("the time of commit %s: %w", info.Commit, err)
		}
	}
	cfg := pipeline.Config{
		Source: src, Project: settings, Targets: targets,
		Version: info.Version, Class: string(info.Class), Commit: info.Commit,
		SourceDateEpoch: epoch, Progress: os.Stderr,
	}
	req.Configure(&cfg)
	// The module sees no CI variables: only --cache read-only makes a run
	// untrusted here.
	cfg.Untrusted = trust.Untrusted(req.Cache.Mode, func(string) string { return "" })
	return pipeline.New(c, cfg)
}

func has(list []string, name string) bool {
	for _, e := range list {
		if strings.TrimSuffix(e, "/") == name {
			return true
		}
	}
	return false
}

// run runs stages and returns dist/ as a module Directory.
func run(ctx context.Context, source *dagger.Directory, req request.Release, st pipeline.Stages) (*dagger.Directory, *pipeline.Result, error) {
	p, err := preparePipeline(ctx, source, req)
	if err != nil {
		return nil, nil, err
	}
	return runPrepared(ctx, p, st)
}

// preparePipeline reads the project and its version; nothing runs yet.
func preparePipeline(ctx context.Context, source *dagger.Directory, req request.Release) (*pipeline.Pipeline, error) {
	p, _, err := prepareCached(ctx, source, req, nil)
	return p, err
}

// prepareCached is preparePipeline with the compile cache in the bucket
// cacheS3 names (nil: none), as the CLI sets it up: the packs restored
// into this function's container, uploaded from it after the run.
func prepareCached(ctx context.Context, source *dagger.Directory, req request.Release, cacheS3 *publish.Config) (*pipeline.Pipeline, *compilecache.Session, error) {
	c, err := session(ctx)
	if err != nil {
		return nil, nil, err
	}
	p, err := newPipeline(ctx, c, source, req)
	if err != nil || cacheS3 == nil {
		return p, nil, err
	}
	// The module sees no CI variables: auto is a trusted run, and a pull
	// request's pipeline passes --cache read-only itself.
	mode, why, err := trust.Decide(req.Cache.Mode, func(string) string { return "" })
	if err != nil || mode == trust.Off {
		return p, nil, err
	}
	cfg := p.Config()
	s3 := *cacheS3
	if req.Cache.Bucket != "" {
		s3.Bucket = req.Cache.Bucket
	}
	cc, sess := compilecache.Open(ctx, c, compilecache.Options{
		S3: s3, Mode: mode, Why: why, Pipeline: cfg, Stages: pipeline.AllStages,
		Dir: filepath.Join(os.TempDir(), "garage-release-compile-cache"),
		Log: os.Stderr,
	})
	if cc == nil {
		return p, nil, nil
	}
	cfg.CompileCache = cc
	p, err = pipeline.New(c, cfg)
	return p, sess, err
}

// runPrepared runs stages of p and returns dist/ as a module Directory.
func runPrepared(ctx context.Context, p *pipeline.Pipeline, st pipeline.Stages) (*dagger.Directory, *pipeline.Result, error) {
	res, err := p.Run(ctx, st)
	if res != nil {
		res.Report.Summary(os.Stderr)
	}
	if err != nil {
		return nil, res, err
	}
	dist, err := fromSDK[*dagger.Directory](ctx, res.Dist)
	return dist, res, err
}

// The functions take the settings of the CLI command of the same name, as
// arguments of the same names (`dagger call` spells them as the CLI's
// flags, but for s3Endpoint: --s-3-endpoint), gathered into a
// request.Release as the CLI gathers its flags:
// a new setting is a field there, an argument line here and its line in
// the request literal. What only a terminal run has (--out, --logs,
// --verbose, --progress-every) has no argument: a function returns its
// results and Dagger shows the progress. Release --publish is Publish.

// Check runs cargo fmt --check and cargo clippy -D warnings.
func (m *GarageRelease) Check(
	ctx context.Context,
	// The Rust project; without a Cargo.toml, the bundled example.
	// +defaultPath="/"
	// +ignore=["target", "dist"]
	source *dagger.Directory,
	// Cargo features to enable; default: the project's.
	// +optional
	features []string,
	// Debian packages the build scripts need; default: the project's build-packages.
	// +optional
	buildPackages []string,
	// Checks to run: fmt, clippy, or none; default: the project's.
	// +optional
	checks []string,
	// Clippy's arguments after --; default: the project's, else -D warnings.
	// +optional
	clippyArgs []string,
	// What a finding does: deny or warn; default: the project's.
	// +optional
	lints string,
	// Pull this toolchain image instead of building it.
	// +optional
	toolchainImage string,
	// Base image of every container (default: debian:trixie).
	// +optional
	baseImage string,
	// Debian archive URL for the pinned Rust std packages.
	// +optional
	debianMirror string,
	// Prefix of the engine cache volumes (a new one starts cold).
	// +optional
	cacheNamespace string,
	// Any value: run the toolchain and build steps again.
	// +optional
	cacheBust string,
) error {
	req := request.Release{
		Project: project.Overrides{Features: listArg(features), BuildPackages: listArg(buildPackages), Checks: listArg(checks), ClippyArgs: listArg(clippyArgs), Lints: stringArg(lints)},
		Engine:  request.Engine{ToolchainImage: toolchainImage, BaseImage: baseImage, DebianMirror: debianMirror, CacheNamespace: cacheNamespace, CacheBust: cacheBust},
	}
	_, _, err := run(ctx, source, req, pipeline.Stages{Check: true})
	return err
}

// Test builds in debug mode and runs the unit and integration tests.
func (m *GarageRelease) Test(
	ctx context.Context,
	// +defaultPath="/"
	// +ignore=["target", "dist"]
	source *dagger.Directory,
	// Cargo features to enable; default: the project's.
	// +optional
	features []string,
	// Debian packages the build scripts need; default: the project's build-packages.
	// +optional
	buildPackages []string,
	// More arguments for cargo test --workspace; default: the project's test-args.
	// +optional
	testArgs []string,
	// Pull this toolchain image instead of building it.
	// +optional
	toolchainImage string,
	// Base image of every container (default: debian:trixie).
	// +optional
	baseImage string,
	// Debian archive URL for the pinned Rust std packages.
	// +optional
	debianMirror string,
	// Prefix of the engine cache volumes (a new one starts cold).
	// +optional
	cacheNamespace string,
	// Any value: run the toolchain and build steps again.
	// +optional
	cacheBust string,
) error {
	req := request.Release{
		Project: project.Overrides{Features: listArg(features), BuildPackages: listArg(buildPackages), TestArgs: listArg(testArgs)},
		Engine:  request.Engine{ToolchainImage: toolchainImage, BaseImage: baseImage, DebianMirror: debianMirror, CacheNamespace: cacheNamespace, CacheBust: cacheBust},
	}
	_, _, err := run(ctx, source, req, pipeline.Stages{Test: true})
	return err
}

// Build returns the static release binaries with SHA256SUMS and manifest.json.
func (m *GarageRelease) Build(
	ctx context.Context,
	// +defaultPath="/"
	// +ignore=["target", "dist"]
	source *dagger.Directory,
	// Targets to build (amd64, i386, arm64, arm); default: the project's.
	// +optional
	targets []string,
	// +optional
	tag string,
	// +optional
	commit string,
	// The binary to release; default: from Cargo.toml.
	// +optional
	binary string,
	// Cargo features to enable; default: the project's.
	// +optional
	features []string,
	// Debian packages the build scripts need; default: the project's build-packages.
	// +optional
	buildPackages []string,
	// At most this many checks, tests and builds at once (0: no limit).
	// +optional
	jobs int,
	// Pull this toolchain image instead of building it.
	// +optional
	toolchainImage string,
	// Base image of every container (default: debian:trixie).
	// +optional
	baseImage string,
	// Debian archive URL for the pinned Rust std packages.
	// +optional
	debianMirror string,
	// Prefix of the engine cache volumes (a new one starts cold).
	// +optional
	cacheNamespace string,
	// Any value: run the toolchain and build steps again.
	// +optional
	cacheBust string,
) (*dagger.Directory, error) {
	req := request.Release{
		Project: project.Overrides{Binary: stringArg(binary), Features: listArg(features), BuildPackages: listArg(buildPackages), Targets: listArg(targets)},
		Version: request.Version{Tag: tag, Commit: commit},
		Engine:  request.Engine{Jobs: jobs, ToolchainImage: toolchainImage, BaseImage: baseImage, DebianMirror: debianMirror, CacheNamespace: cacheNamespace, CacheBust: cacheBust},
	}
	dist, _, err := run(ctx, source, req, pipeline.Stages{Build: true})
	return dist, err
}

// Image returns the image of one platform (linux/amd64, linux/386,
// linux/arm64 or linux/arm/v5), e.g. `dagger call image --platform linux/arm64 terminal`.
func (m *GarageRelease) Image(
	ctx context.Context,
	// +defaultPath="/"
	// +ignore=["target", "dist"]
	source *dagger.Directory,
	// +default="linux/amd64"
	platform string,
	// +optional
	tag string,
	// +optional
	commit string,
	// The binary to release; default: from Cargo.toml.
	// +optional
	binary string,
	// Cargo features to enable; default: the project's.
	// +optional
	features []string,
	// Debian packages the build scripts need; default: the project's build-packages.
	// +optional
	buildPackages []string,
	// Pull this toolchain image instead of building it.
	// +optional
	toolchainImage string,
	// Base image of every container (default: debian:trixie).
	// +optional
	baseImage string,
	// Debian archive URL for the pinned Rust std packages.
	// +optional
	debianMirror string,
	// Prefix of the engine cache volumes (a new one starts cold).
	// +optional
	cacheNamespace string,
	// Any value: run the toolchain and build steps again.
	// +optional
	cacheBust string,
) (*dagger.Container, error) {
	var tgt target.Target
	found := false
	for _, t := range target.All {
		if t.Platform == platform {
			tgt, found = t, true
		}
	}
	if !found {
		return nil, fmt.Errorf("image: no target has platform %q (known: %s)", platform, strings.Join(target.Platforms(target.All), ", "))
	}
	req := request.Release{
		Project: project.Overrides{Binary: stringArg(binary), Features: listArg(features), BuildPackages: listArg(buildPackages), Targets: &[]string{tgt.Name}},
		Version: request.Version{Tag: tag, Commit: commit},
		Engine:  request.Engine{ToolchainImage: toolchainImage, BaseImage: baseImage, DebianMirror: debianMirror, CacheNamespace: cacheNamespace, CacheBust: cacheBust},
	}
	p, err := preparePipeline(ctx, source, req)
	if err != nil {
		return nil, err
	}
	bin := p.Build(tgt)
	if _, err := p.Verify(ctx, tgt, bin); err != nil {
		return nil, err
	}
	return fromSDK[*dagger.Container](ctx, p.Image(tgt, bin))
}

// Images returns the multi-platform image as an OCI tarball (the CLI's image command).
func (m *GarageRelease) Images(
	ctx context.Context,
	// +defaultPath="/"
	// +ignore=["target", "dist"]
	source *dagger.Directory,
	// Targets to build (amd64, i386, arm64, arm); default: the project's.
	// +optional
	targets []string,
	// +optional
	tag string,
	// +optional
	commit string,
	// The binary to release; default: from Cargo.toml.
	// +optional
	binary string,
	// Cargo features to enable; default: the project's.
	// +optional
	features []string,
	// Debian packages the build scripts need; default: the project's build-packages.
	// +optional
	buildPackages []string,
	// At most this many checks, tests and builds at once (0: no limit).
	// +optional
	jobs int,
	// Pull this toolchain image instead of building it.
	// +optional
	toolchainImage string,
	// Base image of every container (default: debian:trixie).
	// +optional
	baseImage string,
	// Debian archive URL for the pinned Rust std packages.
	// +optional
	debianMirror string,
	// Prefix of the engine cache volumes (a new one starts cold).
	// +optional
	cacheNamespace string,
	// Any value: run the toolchain and build steps again.
	// +optional
	cacheBust string,
) (*dagger.File, error) {
	req := request.Release{
		Project: project.Overrides{Binary: stringArg(binary), Features: listArg(features), BuildPackages: listArg(buildPackages), Targets: listArg(targets)},
		Version: request.Version{Tag: tag, Commit: commit},
		Engine:  request.Engine{Jobs: jobs, ToolchainImage: toolchainImage, BaseImage: baseImage, DebianMirror: debianMirror, CacheNamespace: cacheNamespace, CacheBust: cacheBust},
	}
	dist, _, err := run(ctx, source, req, pipeline.Stages{Build: true, Image: true})
	if err != nil {
		return nil, err
	}
	return dist.File("image.tar"), nil
}

// Docs builds the mdBook documentation site.
func (m *GarageRelease) Docs(
	ctx context.Context,
	// +defaultPath="/"
	// +ignore=["target", "dist"]
	source *dagger.Directory,
	// Base image of every container (default: debian:trixie).
	// +optional
	baseImage string,
) (*dagger.Directory, error) {
	dist, _, err := run(ctx, source, request.Release{Engine: request.Engine{BaseImage: baseImage}}, pipeline.Stages{Docs: true})
	if err != nil {
		return nil, err
	}
	return dist.Directory("docs"), nil
}

// Toolchain returns the toolchain image: Debian's Rust with std for every
// target (`dagger call toolchain publish --address REF` pushes it).
func (m *GarageRelease) Toolchain(
	ctx context.Context,
	// Pull this toolchain image instead of building it.
	// +optional
	toolchainImage string,
	// Base image of every container (default: debian:trixie).
	// +optional
	baseImage string,
	// Debian archive URL for the pinned Rust std packages.
	// +optional
	debianMirror string,
	// Any value: run the toolchain steps again.
	// +optional
	cacheBust string,
) (*dagger.Container, error) {
	req := request.Release{Engine: request.Engine{ToolchainImage: toolchainImage, BaseImage: baseImage, DebianMirror: debianMirror, CacheBust: cacheBust}}
	if err := req.Validate(); err != nil {
		return nil, err
	}
	c, err := session(ctx)
	if err != nil {
		return nil, err
	}
	return fromSDK[*dagger.Container](ctx, pipeline.Toolchain(c, req.Engine.Toolchain()))
}

// Release runs everything and returns dist/: `dagger call release export --path dist`.
func (m *GarageRelease) Release(
	ctx context.Context,
	// +defaultPath="/"
	// +ignore=["target", "dist"]
	source *dagger.Directory,
	// Targets to build (amd64, i386, arm64, arm); default: the project's.
	// +optional
	targets []string,
	// +optional
	tag string,
	// +optional
	commit string,
	// The binary to release; default: from Cargo.toml.
	// +optional
	binary string,
	// Cargo features to enable; default: the project's.
	// +optional
	features []string,
	// Debian packages the build scripts need (tools, and -dev libraries,
	// installed for every target's architecture too); default: the
	// project's build-packages.
	// +optional
	buildPackages []string,
	// Checks to run: fmt, clippy, or none; default: the project's.
	// +optional
	checks []string,
	// Clippy's arguments after --; default: the project's, else -D warnings.
	// +optional
	clippyArgs []string,
	// What a finding does: deny or warn; default: the project's.
	// +optional
	lints string,
	// More arguments for cargo test --workspace; default: the project's test-args.
	// +optional
	testArgs []string,
	// Image name (default: from Cargo.toml, else the binary), as the provenance names it.
	// +optional
	image string,
	// At most this many checks, tests and builds at once (0: no limit).
	// +optional
	jobs int,
	// The engine's CPU count, for the scheduler (0: asked from the engine).
	// +optional
	cores int,
	// Pull this toolchain image instead of building it.
	// +optional
	toolchainImage string,
	// Base image of every container (default: debian:trixie).
	// +optional
	baseImage string,
	// Debian archive URL for the pinned Rust std packages.
	// +optional
	debianMirror string,
	// Prefix of the engine cache volumes (a new one starts cold).
	// +optional
	cacheNamespace string,
	// Any value: run the toolchain and build steps again.
	// +optional
	cacheBust string,
	// The shared caches: auto, read-write, read-only or off (default auto).
	// +optional
	cache string,
	// S3 bucket of the compile cache (default: the release bucket, under _cache/).
	// +optional
	cacheBucket string,
	// The S3 server of the compile cache (with s3Bucket and the keys); a
	// release without it compiles without the compile cache.
	// +optional
	s3Endpoint string,
	// +optional
	s3Bucket string,
	// +optional
	s3Prefix string,
	// +optional
	s3Region string,
	// +optional
	s3Insecure bool,
	// +optional
	accessKeyID *dagger.Secret,
	// +optional
	secretAccessKey *dagger.Secret,
	// A service that reaches the S3 server (see publish).
	// +optional
	s3Service *dagger.Service,
	// A cosign private key (PEM) to sign the release with, e.g. env:COSIGN_PRIVATE_KEY;
	// without it the release is unsigned.
	// +optional
	signKey *dagger.Secret,
	// The signing key's password, e.g. env:COSIGN_PASSWORD.
	// +optional
	signPassword *dagger.Secret,
) (*dagger.Directory, error) {
	req := request.Release{
		Project: project.Overrides{
			Binary: stringArg(binary), Features: listArg(features), BuildPackages: listArg(buildPackages), Targets: listArg(targets),
			Checks: listArg(checks), ClippyArgs: listArg(clippyArgs), Lints: stringArg(lints), TestArgs: listArg(testArgs), Image: stringArg(image),
		},
		Version: request.Version{Tag: tag, Commit: commit},
		Engine: request.Engine{
			Jobs: jobs, Cores: cores, ToolchainImage: toolchainImage, BaseImage: baseImage,
			DebianMirror: debianMirror, CacheNamespace: cacheNamespace, CacheBust: cacheBust,
		},
		Cache: request.Cache{Mode: cache, Bucket: cacheBucket},
		Publish: request.Publish{
			S3: request.S3{Endpoint: s3Endpoint, Bucket: s3Bucket, Prefix: s3Prefix, Region: s3Region, Insecure: s3Insecure},
		},
	}
	signer, err := loadSigner(ctx, signKey, signPassword)
	if err != nil {
		return nil, err
	}
	var cacheS3 *publish.Config
	if s3Endpoint != "" || s3Service != nil {
		if accessKeyID == nil || secretAccessKey == nil {
			return nil, fmt.Errorf("the compile cache's S3 server needs --access-key-id and --secret-access-key (e.g. env:AWS_ACCESS_KEY_ID)")
		}
		if req.Publish.S3.Endpoint, err = serviceEndpoint(ctx, s3Service, s3Endpoint); err != nil {
			return nil, err
		}
		cfg, err := s3Config(ctx, req.Publish.S3, accessKeyID, secretAccessKey)
		if err != nil {
			return nil, err
		}
		cacheS3 = &cfg
	}
	p, sess, err := prepareCached(ctx, source, req, cacheS3)
	if err != nil {
		return nil, err
	}
	dist, res, err := runPrepared(ctx, p, pipeline.AllStages)
	sess.Save(ctx, res)
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "dist-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(dir)
	if _, err := dist.Export(ctx, dir); err != nil {
		return nil, err
	}
	files, _, err := complete(dir, p, signer, "", "release")
	if err != nil {
		return nil, err
	}
	for _, name := range sortedNames(files) {
		dist = dist.WithNewFile(name, string(files[name]))
	}
	return dist, nil
}

// loadSigner decrypts the signing key, read from its secret only here;
// nil without a key.
func loadSigner(ctx context.Context, key, password *dagger.Secret) (*signing.Signer, error) {
	if key == nil {
		return nil, nil
	}
	pem, err := key.Plaintext(ctx)
	if err != nil {
		return nil, err
	}
	pw := ""
	if password != nil {
		if pw, err = password.Plaintext(ctx); err != nil {
			return nil, err
		}
	}
	s, err := signing.LoadKey([]byte(pem), []byte(pw))
	if err != nil {
		return nil, fmt.Errorf("the signing key: %w", err)
	}
	return s, nil
}

// complete adds the provenance and, with a signer, the signatures to the
// exported dist/ in dir (see attest) and returns the files it wrote and
// the completed manifest.
func complete(dir string, p *pipeline.Pipeline, signer *signing.Signer, repo, function string) (map[string][]byte, *manifest.Manifest, error) {
	pc := p.Config()
	if repo == "" {
		repo = pc.Project.ImageName()
	}
	return attest.Finish(dir, attest.Options{
		Signer: signer, ImageRepo: repo,
		Command:    []string{"dagger", "call", function},
		Parameters: attest.Parameters(pc.Project, pc.Targets),
	})
}

func sortedNames(files map[string][]byte) []string {
	names := make([]string, 0, len(files))
	for n := range files {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Publish releases and publishes (the CLI's release --publish): the image
// to the registry, then the binaries, checksums, manifest and release page
// to S3.
// +cache="never"
func (m *GarageRelease) Publish(
	ctx context.Context,
	// +defaultPath="/"
	// +ignore=["target", "dist"]
	source *dagger.Directory,
	tag string,
	// +optional
	commit string,
	// Targets to build (amd64, i386, arm64, arm); default: the project's.
	// +optional
	targets []string,
	// The binary to release; default: from Cargo.toml.
	// +optional
	binary string,
	// Cargo features to enable; default: the project's.
	// +optional
	features []string,
	// Debian packages the build scripts need; default: the project's build-packages.
	// +optional
	buildPackages []string,
	// Checks to run: fmt, clippy, or none; default: the project's.
	// +optional
	checks []string,
	// Clippy's arguments after --; default: the project's, else -D warnings.
	// +optional
	clippyArgs []string,
	// What a finding does: deny or warn; default: the project's.
	// +optional
	lints string,
	// More arguments for cargo test --workspace; default: the project's test-args.
	// +optional
	testArgs []string,
	// At most this many checks, tests and builds at once (0: no limit).
	// +optional
	jobs int,
	// The engine's CPU count, for the scheduler (0: asked from the engine).
	// +optional
	cores int,
	// Pull this toolchain image instead of building it.
	// +optional
	toolchainImage string,
	// Base image of every container (default: debian:trixie).
	// +optional
	baseImage string,
	// Debian archive URL for the pinned Rust std packages.
	// +optional
	debianMirror string,
	// Prefix of the engine cache volumes (a new one starts cold).
	// +optional
	cacheNamespace string,
	// Any value: run the toolchain and build steps again.
	// +optional
	cacheBust string,
	// The shared caches: auto, read-write, read-only or off (default auto).
	// +optional
	cache string,
	// S3 bucket of the compile cache (default: the release bucket, under _cache/).
	// +optional
	cacheBucket string,
	s3Endpoint string,
	s3Bucket string,
	// +optional
	s3Prefix string,
	// S3 region (default: asked from the server).
	// +optional
	s3Region string,
	// Plain http to the S3 endpoint (default: https unless the endpoint URL says http).
	// +optional
	s3Insecure bool,
	accessKeyID *dagger.Secret,
	secretAccessKey *dagger.Secret,
	// A service that reaches the S3 server, e.g. tcp://localhost:3900 for
	// one on the caller's machine: its endpoint replaces s3Endpoint's host.
	// +optional
	s3Service *dagger.Service,
	// Image repository prefix, host[:port]/namespace; empty: no image.
	// +optional
	registry string,
	// Image name under registry (default: from Cargo.toml, else the binary).
	// +optional
	image string,
	// +optional
	registryUsername string,
	// +optional
	registryPassword *dagger.Secret,
	// Plain http to the registry (a local test registry).
	// +optional
	registryInsecure bool,
	// Overwrite a stable version that is already published.
	// +optional
	force bool,
	// A cosign private key (PEM) to sign the release with, e.g. env:COSIGN_PRIVATE_KEY.
	// +optional
	signKey *dagger.Secret,
	// The signing key's password, e.g. env:COSIGN_PASSWORD.
	// +optional
	signPassword *dagger.Secret,
) (string, error) {
	var err error
	req := request.Release{
		Project: project.Overrides{
			Binary: stringArg(binary), Features: listArg(features), BuildPackages: listArg(buildPackages), Targets: listArg(targets),
			Checks: listArg(checks), ClippyArgs: listArg(clippyArgs), Lints: stringArg(lints), TestArgs: listArg(testArgs), Image: stringArg(image),
		},
		Version: request.Version{Tag: tag, Commit: commit},
		Engine: request.Engine{
			Jobs: jobs, Cores: cores, ToolchainImage: toolchainImage, BaseImage: baseImage,
			DebianMirror: debianMirror, CacheNamespace: cacheNamespace, CacheBust: cacheBust,
		},
		Cache: request.Cache{Mode: cache, Bucket: cacheBucket},
		Publish: request.Publish{
			Enabled: true, Force: force,
			S3:       request.S3{Endpoint: s3Endpoint, Bucket: s3Bucket, Prefix: s3Prefix, Region: s3Region, Insecure: s3Insecure},
			Registry: request.Registry{Prefix: registry, Insecure: registryInsecure},
		},
	}
	if req.Publish.S3.Endpoint, err = serviceEndpoint(ctx, s3Service, req.Publish.S3.Endpoint); err != nil {
		return "", err
	}
	cfg, err := s3Config(ctx, req.Publish.S3, accessKeyID, secretAccessKey)
	if err != nil {
		return "", err
	}
	signer, err := loadSigner(ctx, signKey, signPassword)
	if err != nil {
		return "", err
	}
	p, sess, err := prepareCached(ctx, source, req, &cfg)
	if err != nil {
		return "", err
	}
	settings := p.Config().Project
	reg, err := moduleRegistry(ctx, req.Publish.Registry, settings.ImageName(), registryUsername, registryPassword)
	if err != nil {
		return "", err
	}
	// Both ends are checked before the build: a wrong key costs seconds.
	pc := p.Config()
	intent := publish.Intent{Version: pc.Version, Class: pc.Class, Commit: pc.Commit}
	if cfg, err = publish.Preflight(ctx, cfg, reg, intent, req.Publish.Force, os.Stderr); err != nil {
		return "", err
	}
	dist, res, err := runPrepared(ctx, p, pipeline.AllStages)
	sess.Save(ctx, res)
	if err != nil {
		return "", err
	}
	// publish works on files: export dist/ into this function's own
	// container (a folder it creates, so removing it is safe).
	dir, err := os.MkdirTemp("", "dist-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	if _, err := dist.Export(ctx, dir); err != nil {
		return "", err
	}
	repo := ""
	if reg != nil {
		repo = reg.Repo
	}
	_, m0, err := complete(dir, p, signer, repo, "publish")
	if err != nil {
		return "", err
	}
	rep, err := publish.Publish(ctx, cfg, dir, m0, publish.Options{Force: req.Publish.Force, Progress: os.Stderr, Registry: reg})
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("published %s (%s): %d uploaded, %d already there", m0.Version, m0.Class,
		len(rep.Keys(publish.Uploaded)), len(rep.Keys(publish.Skipped))), nil
}

// moduleRegistry is the image repository <registry>/<image> with its
// login, or nil without a registry. The push runs in this function's
// container, from dist/image.tar: the password is read from its secret
// only there.
func moduleRegistry(ctx context.Context, r request.Registry, image, username string, password *dagger.Secret) (*publish.Registry, error) {
	repo, err := r.Repo(image)
	if err != nil || repo == "" {
		return nil, err
	}
	login := map[string]string{publish.EnvRegistryUsername: username}
	if username != "" && password != nil {
		pw, err := password.Plaintext(ctx)
		if err != nil {
			return nil, err
		}
		login[publish.EnvRegistryPassword] = pw
	}
	return &publish.Registry{
		Repo:     repo,
		Auth:     publish.RegistryAuth(func(k string) string { return login[k] }),
		Insecure: r.Insecure,
	}, nil
}

// Promote turns a published development build into a release without
// rebuilding: server-side S3 copies and a re-built release page.
// +cache="never"
func (m *GarageRelease) Promote(
	ctx context.Context,
	// The development build's 40-hex commit.
	from string,
	// The tag to publish it as.
	to string,
	s3Endpoint string,
	s3Bucket string,
	// +optional
	s3Prefix string,
	// S3 region (default: asked from the server).
	// +optional
	s3Region string,
	// Plain http to the S3 endpoint (default: https unless the endpoint URL says http).
	// +optional
	s3Insecure bool,
	accessKeyID *dagger.Secret,
	secretAccessKey *dagger.Secret,
	// Image repository prefix, host[:port]/namespace; with it the image
	// is tagged :<to>, and latest moves as a release would move it.
	// +optional
	registry string,
	// The image name under registry (default: the name the release used).
	// +optional
	image string,
	// +optional
	registryUsername string,
	// +optional
	registryPassword *dagger.Secret,
	// Plain http to the registry (a local test registry).
	// +optional
	registryInsecure bool,
	// Overwrite a stable version that is already published.
	// +optional
	force bool,
) (string, error) {
	pub := request.Publish{
		Force:    force,
		S3:       request.S3{Endpoint: s3Endpoint, Bucket: s3Bucket, Prefix: s3Prefix, Region: s3Region, Insecure: s3Insecure},
		Registry: request.Registry{Prefix: registry, Insecure: registryInsecure},
	}
	cfg, err := s3Config(ctx, pub.S3, accessKeyID, secretAccessKey)
	if err != nil {
		return "", err
	}
	opts := publish.PromoteOptions{Force: pub.Force, Progress: os.Stderr}
	// Without an image name, the one the build was pushed as.
	if opts.Registry, err = moduleRegistry(ctx, pub.Registry, image, registryUsername, registryPassword); err != nil {
		return "", err
	}
	rep, err := publish.Promote(ctx, cfg, from, to, opts)
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("promoted %s to %s: %d objects", from, to, len(rep.Objects)), nil
}

// serviceEndpoint is endpoint with its host:port replaced by the service's
// (started here), keeping endpoint's scheme (http when it has none and
// the service is given): a server on the caller's machine, passed as
// tcp://localhost:PORT, is reached through the engine this way.
func serviceEndpoint(ctx context.Context, svc *dagger.Service, endpoint string) (string, error) {
	if svc == nil {
		return endpoint, nil
	}
	hostport, err := svc.Endpoint(ctx)
	if err != nil {
		return "", fmt.Errorf("the S3 service: %w", err)
	}
	scheme := "http://"
	if strings.HasPrefix(endpoint, "https://") {
		scheme = "https://"
	}
	return scheme + hostport, nil
}

// s3Config is the bucket's configuration with the credentials, read from
// their secrets only here.
func s3Config(ctx context.Context, s request.S3, key, secret *dagger.Secret) (publish.Config, error) {
	k, err := key.Plaintext(ctx)
	if err != nil {
		return publish.Config{}, err
	}
	sk, err := secret.Plaintext(ctx)
	if err != nil {
		return publish.Config{}, err
	}
	cfg := s.Config(k, sk, false)
	return cfg, cfg.Validate()
}
