package publish

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"golang.org/x/sync/errgroup"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
)

// maxIndexRounds bounds how often a rebuild starts over because the bucket
// changed under it. Each round is a few requests; a bucket that changes
// this often is being written by something else than releases.
const maxIndexRounds = 10

// testHookBeforeIndexWrite, set by a test, runs between listing the
// manifests and writing the index: the window in which another publish can
// slip in. Tests widen it to make that race likely instead of rare.
var testHookBeforeIndexWrite func()

// IndexReport is what a rebuild of the release page found.
type IndexReport struct {
	// Versions lists the releases in the index, in no particular order.
	Versions []string `json:"versions"`
	// Warnings name manifests that were skipped (unparsable, or in a
	// folder that is not their version's). They do not fail the rebuild.
	Warnings []string `json:"warnings,omitempty"`
	// Rounds is how many times the index was written: more than one when
	// another publish changed the bucket meanwhile.
	Rounds int `json:"rounds"`
}

// RebuildIndex lists every release in the bucket and uploads _releases.json,
// then _releases.html, built from their manifests. A release folder without a
// manifest.json is half-uploaded and left out; an unparsable manifest is left
// out with a warning in the report.
func RebuildIndex(ctx context.Context, cfg Config) (IndexReport, error) {
	c, err := newClient(cfg)
	if err != nil {
		return IndexReport{}, err
	}
	if err := c.check(ctx); err != nil {
		return IndexReport{}, err
	}
	return c.rebuildIndex(ctx, nil)
}

// rebuildIndex writes the index until the listing it was built from is still
// the bucket's listing after the write.
//
// Why the loop: two publishes A and B each write their manifest, then list,
// then write the index. If A lists before B's manifest lands and writes its
// index after B's, the page would miss B although both "listed after their
// own manifest". So each publisher lists again after its write: if the
// manifests changed, it rebuilds. The last index written is then complete:
// its writer saw, after writing, the same manifests it built from, and any
// manifest written later belongs to a publisher whose own index write (and
// check) comes later still.
func (c *client) rebuildIndex(ctx context.Context, p *progress) (IndexReport, error) {
	before, err := c.manifestListing(ctx)
	if err != nil {
		return IndexReport{}, err
	}
	for round := 1; round <= maxIndexRounds; round++ {
		rep, err := c.writeIndex(ctx, before)
		if err != nil {
			return rep, err
		}
		rep.Rounds = round
		after, err := c.manifestListing(ctx)
		if err != nil {
			return rep, err
		}
		if after.equal(before) {
			p.printf("indexed  %d releases in %s and %s", len(rep.Versions), c.cfg.key(index.JSONKey), c.cfg.key(index.HTMLKey))
			return rep, nil
		}
		p.printf("the bucket's releases changed during the index rebuild (another publish?): rebuilding it again")
		before = after
	}
	return IndexReport{}, fmt.Errorf("the releases in %s kept changing during %d index rebuilds: run the index rebuild again when other publishes are done", c.cfg.where(), maxIndexRounds)
}

// writeIndex reads the manifests of a listing and uploads the index.
func (c *client) writeIndex(ctx context.Context, l listing) (IndexReport, error) {
	ms, warnings, err := c.readManifests(ctx, l)
	rep := IndexReport{Warnings: warnings, Versions: []string{}}
	if err != nil {
		return rep, err
	}
	if testHookBeforeIndexWrite != nil {
		testHookBeforeIndexWrite()
	}
	for _, m := range ms {
		rep.Versions = append(rep.Versions, m.Version)
	}
	idx := index.Build(ms)
	jsonData, err := idx.JSON()
	if err != nil {
		return rep, err
	}
	htmlData, err := idx.HTML()
	if err != nil {
		return rep, err
	}
	// JSON first: scripts poll it, and the page is rebuilt from the same
	// manifests right after.
	for _, o := range []object{
		dataObject(c.cfg.key(index.JSONKey), jsonData, "no-cache"),
		dataObject(c.cfg.key(index.HTMLKey), htmlData, "no-cache"),
	} {
		if err := c.put(ctx, o); err != nil {
			return rep, err
		}
	}
	return rep, nil
}

// listing maps each manifest key under _releases/ to its ETag and size, to
// tell whether the set of releases changed.
type listing map[string]string

func (l listing) equal(o listing) bool {
	if len(l) != len(o) {
		return false
	}
	for k, v := range l {
		if o[k] != v {
			return false
		}
	}
	return true
}

// manifestListing lists <prefix>_releases/<version>/manifest.json keys.
func (c *client) manifestListing(ctx context.Context) (listing, error) {
	root := c.cfg.key(index.ReleasesDir)
	objs, err := c.list(ctx, root)
	if err != nil {
		return nil, err
	}
	l := listing{}
	for _, o := range objs {
		v, ok := strings.CutSuffix(strings.TrimPrefix(o.Key, root), "/"+manifest.FileName)
		if !ok || v == "" || strings.Contains(v, "/") {
			continue
		}
		l[o.Key] = fmt.Sprintf("%s/%d/%s", o.ETag, o.Size, o.LastModified.UTC().Format("20060102T150405.000000000"))
	}
	return l, nil
}

// readManifests downloads and parses the manifests of a listing. A manifest
// that vanished since the listing is left out (the next listing shows it);
// one that does not parse, or names another version than its folder, is left
// out with a warning.
func (c *client) readManifests(ctx context.Context, l listing) ([]*manifest.Manifest, []string, error) {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	ms := make([]*manifest.Manifest, len(keys))
	warns := make([]string, len(keys))
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(parallelUploads)
	root := c.cfg.key(index.ReleasesDir)
	for i, key := range keys {
		g.Go(func() error {
			data, found, err := c.get(gctx, key)
			if err != nil || !found {
				return err
			}
			m, err := manifest.Parse(data)
			if err != nil {
				warns[i] = fmt.Sprintf("skipped %s: %v", key, err)
				return nil
			}
			if folder := strings.TrimSuffix(strings.TrimPrefix(key, root), "/"+manifest.FileName); m.Version != folder {
				warns[i] = fmt.Sprintf("skipped %s: it describes version %q, not %q", key, m.Version, folder)
				return nil
			}
			ms[i] = m
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	var out []*manifest.Manifest
	var warnings []string
	for i := range keys {
		if ms[i] != nil {
			out = append(out, ms[i])
		}
		if warns[i] != "" {
			warnings = append(warnings, warns[i])
		}
	}
	return out, warnings, nil
}
