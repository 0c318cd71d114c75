// Package request is what a run was asked to do, whichever front end took
// the settings: the CLI builds a Release from its flags, the Dagger module
// from its functions' arguments, and both hand it on through the same
// methods (Validate, Configure, S3.Config, Registry.Repo). A setting is
// added here once, then one flag and one argument line fill it.
//
// Messages name a setting by its CLI flag, which is also its `dagger call`
// flag (the module's argument in kebab case).
//
// request imports ci/pipeline to fill its Config: pipeline must not import
// request; a front end passes what the pipeline needs as Config fields.
package request

import (
	"fmt"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"

	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/trust"
)

// Release is one release run's settings over the project's Cargo.toml.
// The zero value is a run with every default.
type Release struct {
	// Project overrides the project's settings; a nil field keeps
	// Cargo.toml's (applied by project.Overrides.Apply).
	Project project.Overrides
	Version Version
	Engine  Engine
	Cache   Cache
	// Progress is how the run reports while it runs.
	Progress Progress
	// Publish is where a finished release goes.
	Publish Publish
}

// Version chooses the version; empty fields are detected (CI variables,
// then git, see version.Detect).
type Version struct {
	Tag    string
	Commit string // 40 hex digits
}

// Engine is how the stages run on the Dagger engine; zero values are the
// pipeline's defaults.
type Engine struct {
	// ToolchainImage is pulled instead of building the toolchain.
	ToolchainImage string
	// ToolchainComplete says ToolchainImage was found by its recipe
	// digest, build packages included (see pipeline.ToolchainTag).
	ToolchainComplete bool
	// BaseImage replaces pipeline.DefaultBaseImage in every container.
	BaseImage string
	// DebianMirror is the archive of the pinned Rust std packages.
	DebianMirror string
	// CacheNamespace prefixes the engine's cache volumes.
	CacheNamespace string
	// CacheBust, any value, makes the engine run the toolchain and build
	// steps again (benchmarks).
	CacheBust string
	// Jobs is how many heavy stages run at once; 0: no limit.
	Jobs int
	// Cores is the engine's CPU count for the scheduler; 0: asked.
	Cores int
}

// Cache is the policy of the caches that follow a project from runner to
// runner (the toolchain image in the registry, the compile cache).
type Cache struct {
	// Mode is auto, read-write, read-only or off; "" is auto (see
	// trust.Decide, which turns auto into one of the others).
	Mode string
	// Bucket is the S3 bucket of the compile cache; "" is the release
	// bucket, under _cache/.
	Bucket string
}

// Progress is how a run reports on its stages.
type Progress struct {
	// Verbose shows the engine's own log (every command's output), in
	// place of live lines.
	Verbose bool
	// Every is how often a line per running stage is printed when the
	// output is not a terminal; 0: pipeline.HeartbeatEvery.
	Every time.Duration
}

// Publish is where a release goes once it is built. Credentials are not
// here: each front end reads them its own way (the environment, secrets).
type Publish struct {
	// Enabled publishes after a successful release.
	Enabled bool
	// Force overwrites a stable version that is already published.
	Force    bool
	S3       S3
	Registry Registry
}

// S3 is the bucket the release is published to.
type S3 struct {
	Endpoint, Bucket, Prefix, Region string
	// Insecure is plain http (unless the endpoint URL says https).
	Insecure bool
}

// Registry is where the image is pushed.
type Registry struct {
	// Prefix is host[:port]/namespace; "" pushes no image.
	Prefix string
	// Insecure is plain http (a local test registry).
	Insecure bool
}

// Validate checks the settings against each other before anything runs.
// The project overrides are checked by Apply, the version by version.Detect,
// the S3 settings with their credentials by S3.Config's Validate, the
// registry by Registry.Repo when an image is named.
func (r Release) Validate() error {
	e := r.Engine
	if e.Jobs < 0 {
		return fmt.Errorf("--jobs %d: give 0 (no limit) or a positive number", e.Jobs)
	}
	if e.Cores < 0 {
		return fmt.Errorf("--cores %d: give 0 (ask the engine) or a positive number", e.Cores)
	}
	for _, img := range []struct{ key, ref string }{{"toolchain-image", e.ToolchainImage}, {"base-image", e.BaseImage}} {
		if img.ref == "" {
			continue
		}
		if _, err := name.ParseReference(img.ref); err != nil {
			return fmt.Errorf("--%s %q is not an image reference (%v): give e.g. debian:trixie or host/name@sha256:...", img.key, img.ref, err)
		}
	}
	if strings.ContainsAny(e.CacheNamespace, " /\t\n") {
		return fmt.Errorf("--cache-namespace %q: give a name without spaces or slashes (it prefixes cache volume names)", e.CacheNamespace)
	}
	if r.Progress.Every < 0 {
		return fmt.Errorf("--progress-every %s: give a positive duration, e.g. 30s", r.Progress.Every)
	}
	switch trust.Mode(r.Cache.Mode) {
	case "", trust.Auto, trust.ReadWrite, trust.ReadOnly, trust.Off:
	default:
		return fmt.Errorf("--cache %q: give auto, read-write, read-only or off", r.Cache.Mode)
	}
	if b := r.Cache.Bucket; b != "" && (strings.TrimSpace(b) == "" || strings.ContainsAny(b, "/ \t\n")) {
		return fmt.Errorf("--cache-bucket %q is not a bucket name: give the bucket alone (empty: the release bucket, under _cache/)", b)
	}
	return nil
}

// Configure fills the engine and progress part of a pipeline
// configuration, so no front end copies these fields one by one.
func (r Release) Configure(cfg *pipeline.Config) {
	e := r.Engine
	cfg.ToolchainImage, cfg.ToolchainComplete = e.ToolchainImage, e.ToolchainComplete
	cfg.BaseImage, cfg.DebianMirror = e.BaseImage, e.DebianMirror
	cfg.CacheNamespace, cfg.CacheBust = e.CacheNamespace, e.CacheBust
	cfg.Jobs, cfg.Cores = e.Jobs, e.Cores
	cfg.Heartbeat = r.Progress.Every
}

// Toolchain is the configuration of the toolchain image alone (the
// toolchain command and function), without a project's build packages.
func (e Engine) Toolchain() pipeline.ToolchainConfig {
	return pipeline.ToolchainConfig{
		BaseImage: e.BaseImage, DebianMirror: e.DebianMirror,
		Image: e.ToolchainImage, ImageComplete: e.ToolchainComplete, CacheBust: e.CacheBust,
	}
}

// Config is the publish configuration with the credentials; anonymous
// reads a public bucket without them (verify).
func (s S3) Config(accessKey, secretKey string, anonymous bool) publish.Config {
	return publish.Config{
		Endpoint: s.Endpoint, Bucket: s.Bucket, Prefix: s.Prefix, Region: s.Region,
		Secure: !s.Insecure, AccessKey: accessKey, SecretKey: secretKey, Anonymous: anonymous,
	}
}

// Repo is the image repository <prefix>/<image>, "" without a prefix.
// With an empty image it is the prefix with a slash (promote reads the
// name from the build's manifest).
func (r Registry) Repo(image string) (string, error) {
	if r.Prefix == "" {
		return "", nil
	}
	repo := strings.TrimSuffix(r.Prefix, "/") + "/" + image
	var opts []name.Option
	if r.Insecure {
		opts = append(opts, name.Insecure)
	}
	if _, err := name.NewRepository(strings.TrimSuffix(repo, "/"), opts...); err != nil {
		return "", fmt.Errorf("--registry %q: %q is not an image repository (%v): give host[:port]/namespace", r.Prefix, repo, err)
	}
	return repo, nil
}
