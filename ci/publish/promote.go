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
	// Registry, when set, tags the build's image :<to> (the same digest:
	// nothing is pushed) and moves latest as a release would. A Repo
	// ending in "/" is a prefix: the image name is the one the build was
	// pushed as (from its manifest), which must be under that prefix.
	Registry *Registry
	// Progress receives one line per object; nil discards them.
	Progress io.Writer
}

// Promote turns a published development build (from, a 40-hex commit) into
// the release `to` without rebuilding, in Publish's order: every object
// under the build's release and docs folders is copied server-side under
// to's (staged, unlisted), then the manifest with the new version and
// class (the same checksums) is written, the image tagged :<to> and the
// page rebuilt (undone together on a failure), then latest moves. Objects
// already copied are skipped, so an interrupted promote is completed by
// running it again.
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

	// The image: the build's own digest, re-tagged.
	reg, digest, err := promotedImage(ctx, src, from, opts.Registry)
	if err != nil {
		return report, fmt.Errorf("promote: %w", err)
	}
	var img *manifest.Image
	if reg != nil {
		img = &manifest.Image{Ref: reg.Repo + ":" + to, Digest: digest, Tags: []string{to}}
		if src.Image != nil {
			img.Platforms = src.Image.Platforms
		}
	}
	dst := promoted(src, to, class, img)
	mdata, err := dst.Marshal()
	if err != nil {
		return report, fmt.Errorf("promote: %w", err)
	}
	dstManifest := dataObject(c.cfg.key(index.ManifestKey(to)), mdata, "no-cache")

	// Refusals come before the first write.
	if class == version.Stable && !opts.Force {
		existing, err := c.publishedManifest(ctx, to)
		if err != nil {
			return report, err
		}
		if existing != nil && !sameBuild(existing, dst) {
			return report, fmt.Errorf("promote: stable release %s is already published (%s in %s) from %s: a stable release is never overwritten; nothing was written; pass --force to replace it", to, dstManifest.Key, c.cfg.where(), describeBuild(existing))
		}
		if existing != nil {
			// The same build promoted before: keep its manifest.
			if old, _, err := c.get(ctx, dstManifest.Key); err == nil {
				dstManifest = dataObject(dstManifest.Key, old, "no-cache")
			}
		}
		if reg != nil {
			tagged, err := reg.TagDigest(ctx, to)
			if err != nil {
				return report, fmt.Errorf("promote: %w", err)
			}
			if tagged != "" && tagged != digest {
				return report, fmt.Errorf("promote: %s:%s already points at another image (%s, not the build's %s): a stable tag is never moved; nothing was written; pass --force to replace it", reg.Repo, to, tagged, digest)
			}
		}
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
		return report, fmt.Errorf("promote %s to %s stopped: %w; the manifest, the tag and the page were not written, so nothing lists %s; run the promote again to copy the rest", from, to, err, to)
	}
	vis := visibility{c: c, reg: reg, version: to, manifest: dstManifest, digest: digest, p: p}
	idx, results, err := vis.publish(ctx)
	report.Objects = append(report.Objects, results...)
	report.Index = idx
	if err != nil {
		return report, fmt.Errorf("promote %s to %s: %w", from, to, err)
	}
	if reg != nil {
		if err := moveLatest(ctx, reg, digest, to, opts.Progress); err != nil {
			return report, fmt.Errorf("promote %s to %s: %w", from, to, err)
		}
	}
	return report, nil
}

// promotedImage resolves the registry side of a promote: the repository
// (a prefix takes the image name from the build's manifest) and the digest
// of the build's image (from its manifest, else its tag :<commit>).
func promotedImage(ctx context.Context, src *manifest.Manifest, from string, reg *Registry) (*Registry, string, error) {
	if reg == nil {
		return nil, "", nil
	}
	r := *reg
	if strings.HasSuffix(r.Repo, "/") {
		if src.Image == nil {
			return nil, "", fmt.Errorf("development build %s was published without an image: name the image with --image to tag one", from)
		}
		repo, _, _ := strings.Cut(src.Image.Ref, "@")
		if i := strings.LastIndex(repo, ":"); i > strings.LastIndex(repo, "/") {
			repo = repo[:i]
		}
		if !strings.HasPrefix(repo, r.Repo) {
			return nil, "", fmt.Errorf("development build %s was pushed to %s, which is not under --registry %s: give --image or the registry it was pushed to", from, repo, strings.TrimSuffix(r.Repo, "/"))
		}
		r.Repo = repo
	}
	if src.Image != nil && strings.HasPrefix(src.Image.Ref, r.Repo+":") && r.hasDigest(ctx, src.Image.Digest) {
		return &r, src.Image.Digest, nil
	}
	digest, err := r.TagDigest(ctx, from)
	if err != nil {
		return nil, "", err
	}
	if digest == "" {
		return nil, "", fmt.Errorf("development build %s has no image in %s (no %s:%s): publish it with the registry first", from, r.Repo, r.Repo, from)
	}
	return &r, digest, nil
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
