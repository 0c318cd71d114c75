package main

import (
	"context"
	"fmt"
	"io"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/trust"
)

// toolchainLookup is where a command that builds the toolchain looks for it
// by recipe digest, <registry>/<image>-toolchain:recipe-<digest>, so that a
// fresh CI runner pulls what another runner built instead of building it
// again (Garage keeps its toolchain in a cache of its own for the same
// reason). The zero value looks nowhere.
type toolchainLookup struct {
	Repo     string            // <registry>/<image>-toolchain
	Registry *publish.Registry // Repo as the host reads it (login, transport)
	Mode     trust.Mode        // read-write pushes a toolchain it had to build; read-only does not
	Why      string            // what decided Mode, for the log
}

// toolchainLookup is the lookup o asks for, decided before the engine is
// reached: none with --toolchain-image (the user chose the image), with
// --cache off, or without a registry. A --registry that makes no
// repository is bad input, refused before anything starts.
func (o *options) toolchainLookup(e *env) (toolchainLookup, error) {
	if o.toolchainImage != "" {
		return toolchainLookup{}, nil
	}
	mode, why, err := trust.Decide(o.request(e).Cache.Mode, e.getenv)
	if err != nil {
		return toolchainLookup{}, &usageError{msg: err.Error()}
	}
	if mode == trust.Off {
		return toolchainLookup{}, nil
	}
	repo, err := repoFor(e, o, o.project.ImageName()+"-toolchain")
	if err != nil || repo == "" {
		return toolchainLookup{}, err
	}
	return toolchainLookup{Repo: repo, Registry: registryFor(e, o, repo), Mode: mode, Why: why}, nil
}

// runSharingToolchain is runStages with the toolchain looked up first (see
// toolchainLookup) and, when the lookup says so, pushed once every stage
// succeeded: a failed run offers nothing to the other runners.
func runSharingToolchain(ctx context.Context, c *dagger.Client, e *env, o *options, l toolchainLookup, st pipeline.Stages) (*pipeline.Result, error) {
	pushRef := sharedToolchain(ctx, c, e, o, l)
	res, err := runStages(ctx, c, e, o, st)
	if err != nil {
		return res, err
	}
	if pushRef != "" {
		pushToolchain(ctx, c, e, res.Toolchain, pushRef)
	}
	return res, nil
}

// buildsToolchain says whether the stages of st run in the toolchain (the
// docs alone do not), so whether a command running them shares it.
func buildsToolchain(st pipeline.Stages) bool {
	return st.Check || st.Test || st.Build || st.Smoke || st.Image || st.Page
}

// sharedToolchain reads the base image's digest, which the recipe digest
// names, and asks the registry (see find). The registry is an accelerator:
// when it cannot be asked, the toolchain is built as without it.
func sharedToolchain(ctx context.Context, c *dagger.Client, e *env, o *options, l toolchainLookup) string {
	if l.Repo == "" {
		return ""
	}
	base := o.baseImage
	if base == "" {
		base = pipeline.DefaultBaseImage
	}
	baseRef, err := c.Container().From(base).ImageRef(ctx)
	if err != nil {
		fmt.Fprintf(e.stderr, "Toolchain: the base image's digest could not be read (%s): building the toolchain\n", pipeline.Describe(err))
		return ""
	}
	return l.find(ctx, e.stderr, o, baseRef)
}

// find asks the registry for the toolchain of o's recipe on the base image
// baseRef. Found: o pulls it by digest, as a complete toolchain. Missing:
// the ref to push once the command succeeded, in a read-write run only
// ("" in a read-only one).
func (l toolchainLookup) find(ctx context.Context, log io.Writer, o *options, baseRef string) string {
	tag := pipeline.ToolchainTag(pipeline.RecipeDigest(baseRef, o.project.BuildPackages, o.targetList))
	ref := l.Repo + ":" + tag
	digest, err := l.Registry.TagDigest(ctx, tag)
	if err != nil {
		fmt.Fprintf(log, "Toolchain: warning: the registry could not be asked for %s (%v): building the toolchain\n", ref, err)
		return ""
	}
	if digest != "" {
		o.toolchainImage, o.toolchainComplete = l.Repo+"@"+digest, true
		fmt.Fprintf(log, "Toolchain: pulling %s (%s), built for this recipe by an earlier run\n", ref, digest)
		return ""
	}
	if l.Mode != trust.ReadWrite {
		fmt.Fprintf(log, "Toolchain: %s is not in the registry; building it, not pushing it (%s: read-only)\n", ref, l.Why)
		return ""
	}
	fmt.Fprintf(log, "Toolchain: not in the registry for this recipe; building it, and pushing it as %s if the run succeeds (%s)\n", ref, l.Why)
	return ref
}

// pushToolchain pushes the toolchain the run used to ref. A failure is a
// warning: the command's own work is complete.
func pushToolchain(ctx context.Context, c *dagger.Client, e *env, tc *dagger.Container, ref string) {
	pushed, err := engineRegistryAuth(c, e).Apply(tc, ref).Publish(ctx, ref)
	if err != nil {
		fmt.Fprintf(e.stderr, "Toolchain: warning: pushing %s failed, the next run builds it again: %s\n", ref, pipeline.Describe(err))
		return
	}
	fmt.Fprintf(e.stderr, "Toolchain: pushed %s\n", pushed)
}
