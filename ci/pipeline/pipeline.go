// Package pipeline is garage-release's release DAG on a Dagger engine.
//
// Every stage is a lazy, pure builder: it takes Dagger objects and options
// and returns a *dagger.Container, *dagger.Directory or *dagger.File without
// running anything. Only the leaf calls (Verify, Release, the Run* helpers)
// take a context and make the engine work. The package never touches the
// host: the front ends (ci/main.go and the Dagger module) read flags, upload
// the source, export results and publish.
//
// A maintainer can compose the stages differently in their own main; see
// the package example.
package pipeline

import (
	"fmt"
	"io"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/target"
)

// DefaultBaseImage is the only image the pipeline pulls: everything else is
// installed on it from Debian's archive, or built from scratch.
const DefaultBaseImage = "debian:trixie"

// Config is everything a pipeline needs besides the engine client.
type Config struct {
	// Source is the Rust project, as uploaded (see project.Upload): no
	// target/, .git/ or output folders.
	Source *dagger.Directory
	// Project holds the release settings, flags already applied.
	Project project.Settings
	// Targets to build; empty means the project's targets (or all).
	Targets []target.Target
	// Version is the release version (tag, 40-hex commit or "dev"); Class
	// is "stable", "extra" or "development"; Commit may be empty.
	Version, Class, Commit string
	// Date is recorded in the manifest.
	Date time.Time
	// SourceDateEpoch is the build's SOURCE_DATE_EPOCH (the commit's time):
	// build scripts that stamp a date and the image's file times use it, so
	// a rebuild of the commit gives the same bytes.
	SourceDateEpoch int64
	// BaseImage replaces DefaultBaseImage.
	BaseImage string
	// ToolchainImage, when set, is pulled instead of building the toolchain.
	ToolchainImage string
	// ToolchainComplete says ToolchainImage was pushed by its recipe digest
	// with the project's build packages in it (see ToolchainTag).
	ToolchainComplete bool
	// RegistryAuth is the login the toolchain image is pulled with.
	RegistryAuth *RegistryAuth
	// DebianMirror overrides the archive the pinned Rust std packages are
	// fetched from; by default the base image's own apt source is used.
	DebianMirror string
	// CacheNamespace prefixes every cache volume; a fresh one gives a cold
	// build without deleting anyone's caches.
	CacheNamespace string
	// CacheBust, when set, is added to the toolchain and build steps so the
	// engine cannot reuse their earlier results (for benchmarks).
	CacheBust string
	// Jobs limits how many heavy stages (checks, tests, builds, smoke tests)
	// run at once; 0 means no limit.
	Jobs int
	// Progress receives one line per stage start and end; nil discards.
	Progress io.Writer
	// Live, for a terminal, keeps one live line per running stage under
	// the progress lines (elapsed time, cargo's crate count). Otherwise a
	// line per running stage is printed every Heartbeat (default
	// HeartbeatEvery), so a long stage never looks hung in a CI log.
	Live      bool
	Heartbeat time.Duration
	// Untrusted runs (a pull request, a read-only run; see trust.Untrusted)
	// keep to cache volumes of their own: their build scripts run with the
	// volumes mounted, and must not leave anything a release uses later.
	Untrusted bool
	// CompileCache, when set, compiles through sccache (see CompileCache).
	CompileCache *CompileCache
	// Cores is the engine's CPU count; 0 asks the engine. With fewer cores
	// than stages to run at once, the checks run first, alone (see Run).
	Cores int
	// Verified, when set, spares Verify reading back a binary whose
	// content passed for its target before (see VerifiedMemo). nil reads
	// and checks every binary: what verify's rebuild wants.
	Verified VerifiedMemo
}

// untrustedSuffix ends the cache namespace of an untrusted run.
const untrustedSuffix = "-untrusted"

// Pipeline builds the stages of one release.
type Pipeline struct {
	c         *dagger.Client
	cfg       Config
	toolchain *dagger.Container
	// hashes lists the sources' checksums, computed once for every cargo
	// command's freshness repair (see sourcesHashesScript).
	hashes *dagger.File
}

// New checks cfg and returns a pipeline. It does not contact the engine.
func New(c *dagger.Client, cfg Config) (*Pipeline, error) {
	if c == nil {
		return nil, fmt.Errorf("pipeline: no Dagger client")
	}
	if cfg.Source == nil {
		return nil, fmt.Errorf("pipeline: no source directory")
	}
	if err := cfg.Project.Validate(); err != nil {
		return nil, fmt.Errorf("pipeline: %w", err)
	}
	if len(cfg.Targets) == 0 {
		ts, err := target.Parse(cfg.Project.Targets)
		if err != nil {
			return nil, fmt.Errorf("pipeline: %w", err)
		}
		cfg.Targets = ts
	}
	if cfg.Version == "" {
		cfg.Version = "dev"
	}
	if cfg.Class == "" {
		cfg.Class = "development"
	}
	if cfg.Date.IsZero() {
		cfg.Date = time.Now().UTC()
	}
	if cfg.BaseImage == "" {
		cfg.BaseImage = DefaultBaseImage
	}
	if cfg.CacheNamespace == "" {
		cfg.CacheNamespace = "garage-release"
	}
	if cfg.Untrusted && !strings.HasSuffix(cfg.CacheNamespace, untrustedSuffix) {
		cfg.CacheNamespace += untrustedSuffix
	}
	if cfg.Progress == nil {
		cfg.Progress = io.Discard
	}
	// Built once here (lazily: nothing runs yet) so that every stage shares
	// the same toolchain object.
	tc := Toolchain(c, ToolchainConfig{
		BaseImage: cfg.BaseImage, DebianMirror: cfg.DebianMirror,
		Image: cfg.ToolchainImage, CacheBust: cfg.CacheBust,
		BuildPackages: cfg.Project.BuildPackages, Targets: cfg.Targets,
		ImageComplete: cfg.ToolchainComplete, Auth: cfg.RegistryAuth,
	})
	hashes := c.Container().From(cfg.BaseImage).
		WithMountedDirectory("/src", cfg.Source).
		WithExec([]string{"sh", "-c", sourcesHashesScript, "sources-hashes", "/src", "/sources.sha256"}).
		File("/sources.sha256")
	return &Pipeline{c: c, cfg: cfg, toolchain: tc, hashes: hashes}, nil
}

// Config returns the pipeline's configuration with defaults filled in.
func (p *Pipeline) Config() Config { return p.cfg }

// Client returns the engine client the stages are built on.
func (p *Pipeline) Client() *dagger.Client { return p.c }

// cache returns a cache volume private to this project and namespace. Each
// target gets its own target/ volume: a shared one would serialise the
// concurrent builds on cargo's lock.
func (p *Pipeline) cache(parts ...string) *dagger.CacheVolume {
	return p.c.CacheVolume(p.cacheKey(parts...))
}

func (p *Pipeline) cacheKey(parts ...string) string {
	return CacheKey(p.cfg.CacheNamespace, p.cfg.Project.Name, parts...)
}

// CacheKey names a cache volume of project in namespace: "target",
// "<triple>" names a target's target/ directory.
func CacheKey(namespace, project string, parts ...string) string {
	return namespace + "-" + sanitize(project) + "-" + strings.Join(parts, "-")
}

func sanitize(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, s)
}

// cargo is the toolchain with the source mounted and cargo's caches set up.
// profile names the target/ volume ("check", "test", or a target's triple).
func (p *Pipeline) cargo(base *dagger.Container, profile string) *dagger.Container {
	ctr := p.withSource(base).
		// LOCKED: one exec at a time per target/ volume, so two releases of
		// the same project on one engine cannot mix their builds.
		WithMountedCache("/target", p.cache("target", profile), dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}).
		WithEnvVariable("CARGO_TARGET_DIR", "/target").
		WithEnvVariable("CARGO_TERM_COLOR", "never").
		// Cargo's progress bar, off when not on a terminal, is forced on:
		// logScript turns it into the live "n/m crates" of each stage.
		WithEnvVariable("CARGO_TERM_PROGRESS_WHEN", "always").
		WithEnvVariable("CARGO_TERM_PROGRESS_WIDTH", "200").
		WithMountedCache(progressDir, p.cache("progress"))
	if p.cfg.CacheBust != "" {
		ctr = ctr.WithEnvVariable("GARAGE_RELEASE_CACHE_BUST", p.cfg.CacheBust)
	}
	ctr = p.withCompileCache(ctr, profile).
		WithMountedFile(sourcesHashed, p.hashes).
		WithEnvVariable("SOURCES_HASHED", sourcesHashed)
	// The engine caches an exec's result by its inputs, and a cache
	// volume's name is not one of them: without this, a new namespace
	// would get the old namespace's results without running anything.
	// With it, a new namespace really builds cold (what verify relies
	// on), and the same namespace stays warm.
	return ctr.WithEnvVariable("GARAGE_RELEASE_CACHE_NAMESPACE", p.cfg.CacheNamespace)
}

// withSource is base with the project at /src (the working folder) and
// cargo's download caches: what every cargo command needs.
func (p *Pipeline) withSource(base *dagger.Container) *dagger.Container {
	return base.
		WithMountedCache("/cargo/registry", p.cache("cargo-registry")).
		WithMountedCache("/cargo/git", p.cache("cargo-git")).
		WithEnvVariable("CARGO_HOME", "/cargo").
		WithMountedDirectory("/src", p.cfg.Source).
		WithWorkdir("/src")
}

// cargoArgs returns the flags the release build of the project takes: the
// package that builds the binary, and its features. The build itself adds
// --bin <binary>, which picks the binary among a package's several, and
// finds a root package's [[bin]] whatever its name and path.
func (p *Pipeline) cargoArgs() []string {
	var args []string
	if p.cfg.Project.Locked {
		args = append(args, "--locked")
	}
	if p.cfg.Project.Package != "" {
		args = append(args, "--package", p.cfg.Project.Package)
	}
	if len(p.cfg.Project.Features) > 0 {
		args = append(args, "--features", strings.Join(p.cfg.Project.Features, ","))
	}
	return args
}

// workspaceArgs returns the flags of checks and tests: the whole workspace
// whenever there is one (a root package with members, or a virtual
// workspace), so checks and tests cover every crate, not only the one
// released; cargo's default in a root package would be that package alone.
// Features are then named by their package.
func (p *Pipeline) workspaceArgs() []string {
	s := p.cfg.Project
	if s.Package == "" && !s.Workspace && len(s.Members) == 0 {
		return p.cargoArgs()
	}
	var args []string
	if s.Locked {
		args = append(args, "--locked")
	}
	args = append(args, "--workspace")
	if len(s.Features) > 0 {
		owner := s.Package
		if owner == "" && !s.Virtual {
			owner = s.Name // the root package
		}
		features := append([]string{}, s.Features...)
		if owner != "" {
			for i, f := range features {
				features[i] = owner + "/" + f
			}
		}
		args = append(args, "--features", strings.Join(features, ","))
	}
	return args
}
