package publish

import (
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/garage-release/garage-release/ci/version"
)

// A release becomes visible in three writes, in this order: its manifest
// in the bucket (the bucket lists it), its image tag (a pull by tag gets
// it), the page. Everything before them (binaries, checksums, docs, the
// image pushed by digest) is staged: unlisted and untagged. When one of the
// three fails, those already done are undone newest first, so what is left
// is always a prefix of the sequence, never a tag without its release or a
// page entry without its tag; a re-run completes a prefix.
type undoStep struct {
	what string
	fn   func(context.Context) error
}

type undoLog []undoStep

// run undoes the steps newest first and stops at the first that fails:
// undoing an older step while a newer one stays would leave a state that
// is not a prefix of the sequence. It returns what it could not undo.
func (u undoLog) run(ctx context.Context, p *progress) error {
	// The publish failed, perhaps because ctx was cancelled: the undo gets
	// a context of its own.
	ctx = context.WithoutCancel(ctx)
	for i := len(u) - 1; i >= 0; i-- {
		p.printf("undo     %s", u[i].what)
		if err := u[i].fn(ctx); err != nil {
			var left []string
			for j := i; j >= 0; j-- {
				left = append(left, u[j].what)
			}
			return fmt.Errorf("could not undo (%v), so these stay: %s", err, strings.Join(left, "; "))
		}
	}
	return nil
}

// visibility is one release's three visible writes.
type visibility struct {
	c        *client
	reg      *Registry // nil: no image
	version  string
	manifest object
	digest   string // the image index to tag, with reg
	p        *progress
}

// publish writes the manifest, tags the image and rebuilds the page; on a
// failure it undoes what it did and returns an error that says what is
// left (nothing, when the undo worked).
func (v visibility) publish(ctx context.Context) (IndexReport, []ObjectResult, error) {
	var undo undoLog
	fail := func(step string, err error, pageTouched bool) error {
		uerr := undo.run(ctx, v.p)
		if uerr == nil && pageTouched {
			// The page may be half-written: rebuild it from the bucket,
			// whose manifests are back as they were.
			if _, ierr := v.c.rebuildIndex(context.WithoutCancel(ctx), nil); ierr != nil {
				uerr = fmt.Errorf("the page may still list %s: rebuilding it after the undo failed too (%w)", v.version, ierr)
			}
		}
		if uerr != nil {
			return fmt.Errorf("%s: %w; %v; run the publish again to complete it", step, err, uerr)
		}
		return fmt.Errorf("%s: %w; nothing of %s is visible (its manifest, tag and page entry are as they were); run the publish again", step, err, v.version)
	}

	// 1. The manifest. Its previous bytes are kept to put them back.
	prev, had, err := v.c.get(ctx, v.manifest.Key)
	if err != nil {
		return IndexReport{}, nil, fmt.Errorf("reading the current manifest: %w", err)
	}
	// Each undo is registered before its write: a write that fails may
	// still have landed (the connection broke after the server took it),
	// and undoing a write that did not land is harmless.
	key := v.manifest.Key
	if had {
		old := dataObject(key, prev, v.manifest.CacheControl)
		undo = append(undo, undoStep{"manifest " + key + " (put the previous one back)", func(ctx context.Context) error { return v.c.put(ctx, old) }})
	} else {
		undo = append(undo, undoStep{"manifest " + key + " (remove)", func(ctx context.Context) error { return v.c.remove(ctx, key) }})
	}
	results, err := v.c.sync(ctx, []object{v.manifest}, v.p)
	if err != nil {
		return IndexReport{}, results, fail("writing the manifest", err, false)
	}
	if len(results) == 1 && results[0].Status == Skipped {
		// Already there (a re-run): not this run's to undo.
		undo = undo[:len(undo)-1]
	}

	// 2. The tag.
	if v.reg != nil {
		prevDigest, err := v.reg.TagDigest(ctx, v.version)
		if err != nil {
			return IndexReport{}, results, fail("reading the tag "+v.version, err, false)
		}
		if prevDigest != v.digest {
			ref := v.reg.Repo + ":" + v.version
			if prevDigest != "" {
				undo = append(undo, undoStep{"tag " + ref + " (point it back at " + prevDigest + ")", func(ctx context.Context) error { return v.reg.Tag(ctx, v.version, prevDigest) }})
			} else {
				undo = append(undo, undoStep{"tag " + ref + " (remove)", func(ctx context.Context) error { return v.reg.Untag(ctx, v.version) }})
			}
			if err := v.reg.Tag(ctx, v.version, v.digest); err != nil {
				return IndexReport{}, results, fail("tagging "+ref, err, false)
			}
			v.p.printf("tagged   %s -> %s", ref, v.digest)
		}
	}

	// 3. The page.
	idx, err := v.c.rebuildIndex(ctx, v.p)
	if err != nil {
		return idx, results, fail("rebuilding the page", err, true)
	}
	return idx, results, nil
}

// moveLatest moves `latest` to digest when version is a stable one above
// every other stable tag, and says so on w.
func moveLatest(ctx context.Context, reg *Registry, digest, v string, w io.Writer) error {
	moved, highest, err := MoveLatest(ctx, reg.Repo, digest, v, reg.auth(), reg.Insecure)
	if err != nil {
		return fmt.Errorf("%s is published (bucket, page and tag :%s), but %s could not be moved to it: %w; run the publish again to move it", v, v, LatestTag, err)
	}
	if w == nil {
		w = io.Discard
	}
	switch {
	case moved:
		fmt.Fprintf(w, "%s:%s now points at %s\n", reg.Repo, LatestTag, v)
	case version.IsStable(v):
		fmt.Fprintf(w, "%s stays where it is: %s is not above the highest stable %s\n", LatestTag, v, highest)
	}
	return nil
}
