package publish

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"

	"golang.org/x/sync/errgroup"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/version"
)

// parallelUploads bounds concurrent requests: enough to hide latency, few
// enough not to trip a small server's rate limits.
const parallelUploads = 8

// Options tune Publish.
type Options struct {
	// Force replaces a stable release that is already published.
	Force bool
	// Progress receives one line per object; nil discards them.
	Progress io.Writer
	// Registry, when set, receives the image in dist/image.tar and the
	// tag :<version>; latest follows the highest stable version.
	Registry *Registry
}

// Publish publishes the release in distDir (the exported dist/) described
// by m, in an order that keeps a failure invisible:
//
//  1. the image from dist/image.tar, pushed by digest (no tag);
//  2. binaries, their .sha256 files, SHA256SUMS and the docs under
//     <prefix>_releases/<version>/ and <prefix>_docs/<version>/;
//  3. the manifest (the bucket now lists the release), then the tag
//     :<version>, then the page (see visibility: undone on a failure);
//  4. latest, when the version is the highest stable one.
//
// Every binary is checked against dist's SHA256SUMS and m before anything
// is written. Objects and blobs already there are not sent again, so a run
// that failed is completed by running it again.
//
// A stable version that is already published is refused unless
// opts.Force, except when it is the same build (same commit, same
// binaries): then its published manifest is kept as it is and the run
// only completes what is missing.
func Publish(ctx context.Context, cfg Config, distDir string, m *manifest.Manifest, opts Options) (Report, error) {
	c, err := newClient(cfg)
	if err != nil {
		return Report{}, err
	}
	rel, err := readDist(c.cfg, distDir, m)
	if err != nil {
		return Report{}, fmt.Errorf("publish: %w (nothing was uploaded)", err)
	}
	imgSigs, err := imageSignatures(distDir, m)
	if err != nil {
		return Report{}, fmt.Errorf("publish: %w (nothing was uploaded)", err)
	}
	tarball := filepath.Join(distDir, ImageTarball)
	if opts.Registry != nil {
		if _, err := os.Stat(tarball); err != nil {
			return Report{}, fmt.Errorf("publish: an image repository is given but %s has no %s: build it with 'go run ./ci release' (nothing was uploaded)", distDir, ImageTarball)
		}
	}
	p := &progress{w: opts.Progress}
	report := Report{Version: m.Version, Class: m.Class}
	if err := c.check(ctx); err != nil {
		return report, err
	}
	prev, err := c.publishedManifest(ctx, m.Version)
	if err != nil {
		return report, err
	}
	final := *m
	if prev != nil && m.Class == string(version.Stable) {
		switch {
		case sameBuild(prev, m):
			// Keep what was published (its date, its image): a re-run
			// converges on it instead of rewriting it.
			final = *prev
			p.printf("%s is already published from this very build: completing it", m.Version)
		case !opts.Force:
			return report, fmt.Errorf("stable release %s is already published (%s in %s) from %s: a stable release is never overwritten; nothing was written; pass --force to replace it",
				m.Version, rel.Manifest.Key, c.cfg.where(), describeBuild(prev))
		}
	}
	p.printf("publishing %s (%s) to %s", m.Version, m.Class, c.cfg.where())

	// 1. The image, by digest.
	var digest string
	if reg := opts.Registry; reg != nil {
		if final.Image != nil && strings.HasPrefix(final.Image.Ref, reg.Repo+":") && reg.hasDigest(ctx, final.Image.Digest) {
			digest = final.Image.Digest
			p.printf("%-8s %s@%s", Skipped, reg.Repo, digest)
		} else {
			d, platforms, err := reg.PushTarball(ctx, tarball)
			if err != nil {
				return report, fmt.Errorf("publish %s stopped before anything was written to the bucket: %w; no tag was made, so nothing is visible; run the publish again", m.Version, err)
			}
			digest = d
			final.Image = &manifest.Image{Ref: reg.Repo + ":" + m.Version, Digest: d, Platforms: platforms, Tags: []string{m.Version}}
			p.printf("pushed   %s@%s (untagged: %d platforms)", reg.Repo, d, len(platforms))
		}
		// Signed before it is tagged: nobody pulls it by tag unsigned.
		if imgSigs != nil {
			if err := reg.attachSignatures(ctx, imgSigs, digest); err != nil {
				return report, fmt.Errorf("publish %s stopped before anything was written to the bucket: %w; no tag was made, so nothing is visible; run the publish again", m.Version, err)
			}
			p.printf("signed   %s@%s (cosign signature and provenance attestation)", reg.Repo, digest)
		}
	}

	// 2. Files: staged, unlisted until the manifest is written.
	results, err := c.sync(ctx, rel.Files, p)
	report.Objects = append(report.Objects, results...)
	if err != nil {
		return report, fmt.Errorf("publish %s stopped: %w; the manifest, the tag and the page were not written, so nothing lists %s; run the publish again to upload the rest", m.Version, err, m.Version)
	}

	// 3. Manifest, tag, page.
	mdata, err := final.Marshal()
	if err != nil {
		return report, fmt.Errorf("manifest %s: %w", m.Version, err)
	}
	vis := visibility{c: c, reg: opts.Registry, version: m.Version, manifest: dataObject(rel.Manifest.Key, mdata, "no-cache"), digest: digest, p: p}
	idx, results, err := vis.publish(ctx)
	report.Objects = append(report.Objects, results...)
	report.Index = idx
	if err != nil {
		return report, fmt.Errorf("publish %s: %w", m.Version, err)
	}

	// 4. latest.
	if opts.Registry != nil {
		if err := moveLatest(ctx, opts.Registry, digest, m.Version, opts.Progress); err != nil {
			return report, err
		}
	}
	return report, nil
}

// publishedManifest returns the manifest published for v, or nil.
func (c *client) publishedManifest(ctx context.Context, v string) (*manifest.Manifest, error) {
	key := c.cfg.key(index.ManifestKey(v))
	data, found, err := c.get(ctx, key)
	if err != nil || !found {
		return nil, err
	}
	m, err := manifest.Parse(data)
	if err != nil {
		// Not ours to judge: treat it as a different build.
		return &manifest.Manifest{Version: v}, nil
	}
	return m, nil
}

// sameBuild reports whether published and built are one build: the same
// commit and the same binaries, byte for byte (the date may differ).
func sameBuild(published, built *manifest.Manifest) bool {
	if published.Commit != built.Commit || len(published.Targets) != len(built.Targets) {
		return false
	}
	sums := map[string]string{}
	for _, a := range published.Targets {
		sums[a.Target+" "+a.Path] = a.SHA256
	}
	for _, a := range built.Targets {
		if s, ok := sums[a.Target+" "+a.Path]; !ok || s != a.SHA256 {
			return false
		}
	}
	return true
}

// describeBuild names a published build for a refusal.
func describeBuild(m *manifest.Manifest) string {
	if m.Commit == "" {
		return "an unknown commit"
	}
	return "commit " + m.Commit
}

// sync uploads each object whose remote sha256 differs from the local one,
// concurrently, and returns the results in the order of objs (only for the
// objects it got to before a failure).
//
// After a failure no new upload starts, but those in flight are waited for
// rather than cancelled: a cancelled request may still land on the server
// after we return, so the bucket would keep changing under the caller (and
// under the next run's comparison).
func (c *client) sync(ctx context.Context, objs []object, p *progress) ([]ObjectResult, error) {
	results := make([]ObjectResult, len(objs))
	err := forEach(len(objs), func(i int) error {
		o := objs[i]
		r, err := c.stat(ctx, o.Key)
		if err != nil {
			return err
		}
		status := Skipped
		if !r.Exists || r.SHA256 != o.SHA256 || r.Size != o.Size {
			if err := c.put(ctx, o); err != nil {
				return err
			}
			status = Uploaded
		}
		results[i] = ObjectResult{Key: o.Key, Status: status, Size: o.Size, SHA256: o.SHA256}
		p.printf("%-8s %s (%d bytes)", status, o.Key, o.Size)
		return nil
	})
	return done(results), err
}

// forEach runs fn(0..n-1) with at most parallelUploads at a time. After the
// first error it starts no more calls, waits for the running ones and
// returns that error.
func forEach(n int, fn func(i int) error) error {
	var g errgroup.Group
	g.SetLimit(parallelUploads)
	var failed atomic.Bool
	for i := 0; i < n && !failed.Load(); i++ {
		g.Go(func() error {
			if failed.Load() {
				return nil
			}
			err := fn(i)
			if err != nil {
				failed.Store(true)
			}
			return err
		})
	}
	return g.Wait()
}

// done keeps the results that were filled in.
func done(results []ObjectResult) []ObjectResult {
	out := results[:0]
	for _, r := range results {
		if r.Key != "" {
			out = append(out, r)
		}
	}
	return out
}

// FetchManifest returns the manifest published for version v; an error
// names the key when there is none. With cfg.Anonymous it reads a public
// bucket without credentials (no listing: public buckets often forbid it).
func FetchManifest(ctx context.Context, cfg Config, v string) (*manifest.Manifest, error) {
	c, err := newClient(cfg)
	if err != nil {
		return nil, err
	}
	if !cfg.Anonymous {
		if err := c.check(ctx); err != nil {
			return nil, err
		}
	}
	key := c.cfg.key(index.ManifestKey(v))
	data, found, err := c.get(ctx, key)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, fmt.Errorf("%s is not published in %s (no %s)", v, c.cfg.where(), key)
	}
	m, err := manifest.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("%s in %s: %w", key, c.cfg.where(), err)
	}
	return m, nil
}
