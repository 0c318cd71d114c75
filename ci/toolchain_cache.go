package main

import (
	"context"
	"fmt"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/trust"
)

// sharedToolchain looks for the project's toolchain in its registry by
// recipe digest, <registry>/<image>-toolchain:recipe-<digest>, so that a
// fresh CI runner pulls what another runner built instead of building it
// again (Garage keeps its toolchain in a cache of its own for the same
// reason). Found: the pipeline pulls it (o.toolchainImage). Missing: the
// ref to push once the release succeeded, in a trusted run only ("" in a
// read-only one). The registry is an accelerator: when it cannot be
// asked, the toolchain is built as without it.
func sharedToolchain(ctx context.Context, c *dagger.Client, e *env, o *options) string {
	if o.toolchainImage != "" {
		return ""
	}
	mode, why, err := trust.Decide(o.cache, e.getenv)
	if err != nil || mode == trust.Off {
		return ""
	}
	repo, err := repoFor(e, o, o.project.ImageName()+"-toolchain")
	if err != nil || repo == "" {
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
	tag := pipeline.ToolchainTag(pipeline.RecipeDigest(baseRef, o.project.BuildPackages, o.targetList))
	ref := repo + ":" + tag
	digest, err := registryFor(e, o, repo).TagDigest(ctx, tag)
	if err != nil {
		fmt.Fprintf(e.stderr, "Toolchain: warning: the registry could not be asked for %s (%v): building the toolchain\n", ref, err)
		return ""
	}
	if digest != "" {
		o.toolchainImage, o.toolchainComplete = repo+"@"+digest, true
		fmt.Fprintf(e.stderr, "Toolchain: pulling %s (%s), built for this recipe by an earlier run\n", ref, digest)
		return ""
	}
	if mode != trust.ReadWrite {
		fmt.Fprintf(e.stderr, "Toolchain: %s is not in the registry; building it, not pushing it (%s: read-only)\n", ref, why)
		return ""
	}
	fmt.Fprintf(e.stderr, "Toolchain: not in the registry for this recipe; building it, and pushing it as %s after the release (%s)\n", ref, why)
	return ref
}

// pushToolchain pushes the toolchain the release ran in to ref. A failure
// is a warning: the release itself is complete.
func pushToolchain(ctx context.Context, c *dagger.Client, e *env, tc *dagger.Container, ref string) {
	pushed, err := engineRegistryAuth(c, e).Apply(tc, ref).Publish(ctx, ref)
	if err != nil {
		fmt.Fprintf(e.stderr, "Toolchain: warning: pushing %s failed, the next run builds it again: %s\n", ref, pipeline.Describe(err))
		return
	}
	fmt.Fprintf(e.stderr, "Toolchain: pushed %s\n", pushed)
}
