package pipeline

import (
	"time"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/target"
)

// Image returns the image for one target: scratch plus the static binary.
// Nothing runs in it, so a foreign platform needs no emulation. The file's
// time is SOURCE_DATE_EPOCH, not the build's: the layer, and with it the
// image digest, is the same for every build of the commit.
func (p *Pipeline) Image(t target.Target, bin *dagger.File) *dagger.Container {
	s := p.cfg.Project
	ctr := p.c.Container(dagger.ContainerOpts{Platform: dagger.Platform(t.Platform)}).
		WithFile("/"+s.Binary, bin.WithTimestamps(int(p.cfg.SourceDateEpoch)), dagger.ContainerWithFileOpts{Permissions: 0o755}).
		WithEntrypoint(s.ImageEntrypoint()).
		WithLabel("org.opencontainers.image.title", s.ImageName()).
		WithLabel("org.opencontainers.image.version", p.cfg.Version).
		// The engine stamps the export time into the config; the publisher
		// replaces it with this (see publish.CreatedLabel).
		WithLabel("org.opencontainers.image.created", time.Unix(p.cfg.SourceDateEpoch, 0).UTC().Format(time.RFC3339))
	if p.cfg.Commit != "" {
		ctr = ctr.WithLabel("org.opencontainers.image.revision", p.cfg.Commit)
	}
	return ctr
}

// ImageTarball packages per-platform images as one multi-platform OCI
// tarball (an index with one manifest per platform).
func (p *Pipeline) ImageTarball(variants []*dagger.Container) *dagger.File {
	return p.c.Container().AsTarball(dagger.ContainerAsTarballOpts{PlatformVariants: variants})
}
