package main

import (
	"context"
	"fmt"
	"slices"
	"time"

	"dagger.io/dagger"
	"github.com/spf13/pflag"

	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/publish"
)

// commandNames is the order commands are listed in.
var commandNames = []string{"init", "release", "check", "test", "build", "image", "docs", "toolchain", "plan", "publish", "promote", "verify", "cache", "index", "engine", "bench"}

func commandOrder(name string) int {
	for i, n := range commandNames {
		if n == name {
			return i
		}
	}
	return len(commandNames)
}

func commands() map[string]command {
	all := map[string]command{}
	for _, list := range [][]command{stageCommands(), publishCommands(), benchCommands(), {verifyCommand(), initCommand(), cacheCommand()}} {
		for _, c := range list {
			all[c.name] = c
		}
	}
	return all
}

// stageCommands run stages of the pipeline on the engine.
func stageCommands() []command {
	stage := func(name, summary string, st pipeline.Stages, flags ...func(*pflag.FlagSet, *options)) command {
		// The stages that run in the toolchain find it in the registry by
		// its recipe, as release does, so they read the registry and who
		// may write there; the docs alone read neither.
		shares := buildsToolchain(st)
		if shares {
			flags = slices.Concat(flags, []func(*pflag.FlagSet, *options){cacheFlag, registryFlagSet})
		}
		return command{
			name: name, summary: summary,
			flags: func(fs *pflag.FlagSet, o *options) {
				for _, f := range flags {
					f(fs, o)
				}
			},
			run: func(ctx context.Context, e *env, o *options) error {
				announce(e, o)
				var look toolchainLookup
				if shares {
					var err error
					if look, err = o.toolchainLookup(e); err != nil {
						return err
					}
				}
				c, err := connect(ctx, e, o)
				if err != nil {
					return err
				}
				defer closeClient(c)
				_, err = runSharingToolchain(ctx, c, e, o, look, st)
				return err
			},
		}
	}
	// What each stage command reads: the project and what cargo compiles,
	// the engine, and the flags of its own stages.
	built := []func(*pflag.FlagSet, *options){sourceFlag, binaryFlag, compileFlags, targetsFlag, jobsFlag, stageFlags, versionFlags, outFlag}
	return []command{
		{
			name:    "release",
			summary: "everything: checks, tests, static builds, smoke tests, image, docs, release page; --publish uploads it",
			flags: func(fs *pflag.FlagSet, o *options) {
				for _, f := range built {
					f(fs, o)
				}
				checkFlags(fs, o)
				testFlags(fs, o)
				signFlags(fs, o)
				fs.IntVar(&o.cores, "cores", 0, "the engine's CPU count, for the scheduler: fewer than the stages to run at once runs the checks first (default: asked from the engine)")
				fs.BoolVar(&o.publish, "publish", false, "after a successful release, publish to S3 and the registry")
				fs.BoolVar(&o.force, "force", false, "with --publish: overwrite a stable version that is already published")
				cacheFlag(fs, o)
				cacheBucketFlag(fs, o)
				s3FlagSet(fs, o)
				registryFlagSet(fs, o)
			},
			run: runRelease,
		},
		stage("check", "cargo fmt --check and cargo clippy, as the project's check policy says (--checks, --clippy-args, --lints)", pipeline.Stages{Check: true},
			sourceFlag, compileFlags, stageFlags, checkFlags),
		stage("test", "debug build, then the tests cargo test --workspace runs (--test-args widens it)", pipeline.Stages{Test: true},
			sourceFlag, compileFlags, stageFlags, testFlags),
		stage("build", "static release binaries, ELF-verified, with SHA256SUMS and manifest.json", pipeline.Stages{Build: true}, built...),
		stage("image", "the multi-platform image as an OCI tarball (dist/image.tar)", pipeline.Stages{Build: true, Image: true}, built...),
		stage("docs", "the documentation site with mdBook (dist/docs/)", pipeline.Stages{Docs: true},
			sourceFlag, engineFlags, runFlags, outFlag),
		{
			name:    "toolchain",
			summary: "build the toolchain image (Debian's Rust with std for every target); --publish REF pushes it",
			flags: func(fs *pflag.FlagSet, o *options) {
				toolchainFlags(fs, o)
				engineFlags(fs, o)
				// No --registry-insecure: the engine pushes, and only its own
				// configuration decides plain http.
				fs.StringVar(&o.pushRef, "publish", "", "push the toolchain image to this reference (use it later with --toolchain-image)")
			},
			run: runToolchain,
		},
	}
}

// toolchainJob is what the toolchain command builds and where it pushes it.
type toolchainJob struct {
	Config pipeline.ToolchainConfig
	Push   string // --publish: "" pushes nothing
}

func (o *options) toolchainJob(e *env) toolchainJob {
	return toolchainJob{Config: o.request(e).Engine.Toolchain(), Push: o.pushRef}
}

func runToolchain(ctx context.Context, e *env, o *options) error {
	job := o.toolchainJob(e)
	c, err := connect(ctx, e, o)
	if err != nil {
		return err
	}
	defer closeClient(c)
	start := time.Now()
	tc := pipeline.Toolchain(c, job.Config)
	fmt.Fprintln(e.stderr, "Building the toolchain (cached by the engine once built)...")
	out, err := tc.WithExec([]string{"sh", "-c", "rustc --version; cargo --version; ls $(rustc --print sysroot)/lib/rustlib"}).Stdout(ctx)
	if err != nil {
		return fmt.Errorf("toolchain: %s", pipeline.Describe(err))
	}
	fmt.Fprintf(e.stderr, "%sToolchain ready in %s.\n", out, time.Since(start).Round(100*time.Millisecond))
	if job.Push != "" {
		ref, err := engineRegistryAuth(c, e).Apply(tc, job.Push).Publish(ctx, job.Push)
		if err != nil {
			return fmt.Errorf("push toolchain to %s: %s", job.Push, pipeline.Describe(err))
		}
		fmt.Fprintf(e.stdout, "%s\n", ref)
	}
	return nil
}

// engineRegistryAuth is the registry login from the environment, with the
// password handed to the engine as a secret; nil without a username.
func engineRegistryAuth(c *dagger.Client, e *env) *pipeline.RegistryAuth {
	user := e.getenv(publish.EnvRegistryUsername)
	if user == "" {
		return nil
	}
	return &pipeline.RegistryAuth{Username: user, Password: c.SetSecret("registry-password", e.getenv(publish.EnvRegistryPassword))}
}
