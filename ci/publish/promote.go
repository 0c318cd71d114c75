package publish

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/minio/minio-go/v7"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/version"
)

// PromoteOptions tune Promote.
type PromoteOptions struct {
	// Force replaces a stable release that is already published.
	Force bool
	// Image, when set, replaces the image in the new manifest: pass the
	// reference RetagImage made (<repo>:<to>) and its digest. When nil the
	// development build's image is kept; its digest is the same image.
	Image *manifest.Image
	// Progress receives one line per object; nil discards them.
	Progress io.Writer
}

// Promote turns a published development build (from, a 40-hex commit) into
// the release `to` without rebuilding: every object under its release and
// docs folders is copied server-side under to's, then a manifest with the
// new version and class (and the same checksums) is written, then the index
// is rebuilt. Objects already copied are skipped, so an interrupted promote
// is completed by running it again.
func Promote(ctx context.Context, cfg Config, from, to string, opts PromoteOptions) (Report, error) {
	from, err := version.NormalizeCommit(from)
	if err != nil {
		return Report{}, fmt.Errorf("promote: the build to promote must be a development build: %w", err)
	}
	if err := version.ValidateTag(to); err != nil {
		return Report{}, fmt.Errorf("promote: %w", err)
	}
	class := version.Classify(to)
	if class == version.Development {
		return Report{}, fmt.Errorf("promote: %q is a commit or %q, not a tag: promote to a tag such as v1.2.3", to, version.DefaultVersion)
	}
	c, err := newClient(cfg)
	if err != nil {
		return Report{}, err
	}
	report := Report{Version: to, Class: string(class)}
	if err := c.check(ctx); err != nil {
		return report, err
	}

	srcManifest := c.cfg.key(index.ManifestKey(from))
	data, found, err := c.get(ctx, srcManifest)
	if err != nil {
		return report, err
	}
	if !found {
		return report, fmt.Errorf("promote: development build %s is not published (%s is missing in %s): publish it first", from, srcManifest, c.cfg.where())
	}
	src, err := manifest.Parse(data)
	if err != nil {
		return report, fmt.Errorf("promote: %s: %w", srcManifest, err)
	}
	dst := promoted(src, to, class, opts.Image)
	mdata, err := dst.Marshal()
	if err != nil {
		return report, fmt.Errorf("promote: %w", err)
	}
	dstManifest := dataObject(c.cfg.key(index.ManifestKey(to)), mdata, "no-cache")

	existing, err := c.stat(ctx, dstManifest.Key)
	if err != nil {
		return report, err
	}
	if existing.Exists && class == version.Stable && !opts.Force && existing.SHA256 != dstManifest.SHA256 {
		return report, fmt.Errorf("promote: stable release %s is already published (%s in %s): a stable release is never overwritten; pass --force to replace it", to, dstManifest.Key, c.cfg.where())
	}

	p := &progress{w: opts.Progress}
	p.printf("promoting %s to %s (%s) in %s", from, to, class, c.cfg.where())
	results, err := c.copyFolder(ctx, index.ReleasePrefix(from), index.ReleasePrefix(to), p)
	report.Objects = append(report.Objects, results...)
	if err == nil {
		results, err = c.copyFolder(ctx, index.DocsPrefix(from), index.DocsPrefix(to), p)
		report.Objects = append(report.Objects, results...)
	}
	if err != nil {
		return report, fmt.Errorf("promote %s to %s stopped: %w; the manifest and the index were not written; run the promote again to copy the rest", from, to, err)
	}
	results, err = c.sync(ctx, []object{dstManifest}, p)
	report.Objects = append(report.Objects, results...)
	if err != nil {
		return report, fmt.Errorf("promote %s to %s: writing the manifest: %w", from, to, err)
	}
	report.Index, err = c.rebuildIndex(ctx, p)
	if err != nil {
		return report, fmt.Errorf("promote %s to %s: the release is in place, but rebuilding the index failed: %w", from, to, err)
	}
	return report, nil
}

// promoted returns a copy of src named `to`: same binaries and checksums,
// same commit and build date.
func promoted(src *manifest.Manifest, to string, class version.Class, img *manifest.Image) *manifest.Manifest {
	m := *src
	m.Version, m.Class = to, string(class)
	if m.Commit == "" {
		m.Commit = src.Version
	}
	m.Targets = append([]manifest.Artifact(nil), src.Targets...)
	if img != nil {
		cp := *img
		m.Image = &cp
	}
	return &m
}

// copyFolder copies every object under fromRel to the same name under toRel
// (both relative to the configured prefix), server-side, except the
// manifest, which the caller rewrites. An object whose copy is already there
// (same sha256, or same ETag and size when it has no sha256) is skipped.
func (c *client) copyFolder(ctx context.Context, fromRel, toRel string, p *progress) ([]ObjectResult, error) {
	fromPrefix, toPrefix := c.cfg.key(fromRel), c.cfg.key(toRel)
	objs, err := c.list(ctx, fromPrefix)
	if err != nil {
		return nil, err
	}
	results := make([]ObjectResult, len(objs))
	err = forEach(len(objs), func(i int) error {
		o := objs[i]
		rel := strings.TrimPrefix(o.Key, fromPrefix)
		if rel == manifest.FileName {
			return nil
		}
		srcState, err := c.stat(ctx, o.Key)
		if err != nil {
			return err
		}
		dstKey := toPrefix + rel
		dstState, err := c.stat(ctx, dstKey)
		if err != nil {
			return err
		}
		status := Skipped
		if !sameObject(srcState, dstState) {
			// The COPY metadata directive (the default) keeps the content
			// type and the sha256 metadata.
			_, err := c.mc.CopyObject(ctx,
				minio.CopyDestOptions{Bucket: c.cfg.Bucket, Object: dstKey},
				minio.CopySrcOptions{Bucket: c.cfg.Bucket, Object: o.Key})
			if err != nil {
				return c.explain("copy "+o.Key+" to", dstKey, err)
			}
			status = Copied
		}
		results[i] = ObjectResult{Key: dstKey, Status: status, Size: srcState.Size, SHA256: srcState.SHA256}
		p.printf("%-8s %s (%d bytes)", status, dstKey, srcState.Size)
		return nil
	})
	return done(results), err
}

// sameObject reports whether dst already is a copy of src.
func sameObject(src, dst remoteState) bool {
	if !dst.Exists || src.Size != dst.Size {
		return false
	}
	if src.SHA256 != "" {
		return src.SHA256 == dst.SHA256
	}
	return src.ETag != "" && src.ETag == dst.ETag
}
