package publish

import (
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"

	"github.com/google/go-containerregistry/pkg/authn"

	"golang.org/x/sync/errgroup"

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
}

// Publish uploads the release in distDir (the exported dist/) described by
// m: binaries, their .sha256 files and SHA256SUMS under
// <prefix>_releases/<version>/, the docs under <prefix>_docs/<version>/, then
// m itself as manifest.json, then the rebuilt index. Every binary is checked
// against dist's SHA256SUMS and m before anything is uploaded. Objects whose
// remote sha256 already matches are skipped, so a run that failed half-way
// is completed by running it again. The image tarball, index.html and
// releases.json in dist/ are not uploaded: the bucket's index is rebuilt from
// the bucket instead.
//
// A stable version that is already published is refused unless opts.Force,
// except when its remote manifest is byte-identical to m (the same build,
// published before: nothing would be overwritten).
func Publish(ctx context.Context, cfg Config, distDir string, m *manifest.Manifest, opts Options) (Report, error) {
	c, err := newClient(cfg)
	if err != nil {
		return Report{}, err
	}
	rel, err := readDist(c.cfg, distDir, m)
	if err != nil {
		return Report{}, fmt.Errorf("publish: %w (nothing was uploaded)", err)
	}
	p := &progress{w: opts.Progress}
	report := Report{Version: m.Version, Class: m.Class}
	if err := c.check(ctx); err != nil {
		return report, err
	}
	existing, err := c.stat(ctx, rel.Manifest.Key)
	if err != nil {
		return report, err
	}
	if existing.Exists && m.Class == string(version.Stable) && !opts.Force && existing.SHA256 != rel.Manifest.SHA256 {
		return report, fmt.Errorf("stable release %s is already published (%s in %s): a stable release is never overwritten; pass --force to replace it", m.Version, rel.Manifest.Key, c.cfg.where())
	}
	p.printf("publishing %s (%s) to %s", m.Version, m.Class, c.cfg.where())

	// Files first, then the manifest: a release folder without a manifest
	// is not listed, so the page never shows a half-uploaded release.
	results, err := c.sync(ctx, rel.Files, p)
	report.Objects = append(report.Objects, results...)
	if err != nil {
		return report, fmt.Errorf("publish %s stopped: %w; the manifest and the index were not written, so the release page does not list it; run the publish again to upload the rest", m.Version, err)
	}
	results, err = c.sync(ctx, []object{rel.Manifest}, p)
	report.Objects = append(report.Objects, results...)
	if err != nil {
		return report, fmt.Errorf("publish %s: writing its manifest: %w; the index was not rebuilt; run the publish again", m.Version, err)
	}
	report.Index, err = c.rebuildIndex(ctx, p)
	if err != nil {
		return report, fmt.Errorf("publish %s: every file and the manifest are uploaded, but rebuilding the index failed: %w", m.Version, err)
	}
	return report, nil
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

// Release publishes a release whose image, if any, is already pushed (its
// record in m.Image): Publish, then latest moves to the image when m's
// version is a stable one above every other stable tag. latest moves only
// once the release is listed on the page.
func Release(ctx context.Context, cfg Config, distDir string, m *manifest.Manifest, opts Options, auth authn.Authenticator, insecure bool) (Report, error) {
	rep, err := Publish(ctx, cfg, distDir, m, opts)
	if err != nil || m.Image == nil {
		return rep, err
	}
	repo := strings.TrimSuffix(m.Image.Ref, ":"+m.Version)
	moved, highest, err := MoveLatest(ctx, repo, m.Image.Digest, m.Version, auth, insecure)
	if err != nil {
		return rep, err
	}
	progress := opts.Progress
	if progress == nil {
		progress = io.Discard
	}
	switch {
	case moved:
		fmt.Fprintf(progress, "%s:%s now points at %s\n", repo, LatestTag, m.Version)
	case version.IsStable(m.Version):
		fmt.Fprintf(progress, "%s stays where it is: %s is not above the highest stable %s\n", LatestTag, m.Version, highest)
	}
	return rep, nil
}
