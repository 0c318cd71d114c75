package publish

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"

	"github.com/minio/minio-go/v7"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/version"
)

// Intent is what a release will publish, as known before it is built.
type Intent struct {
	Version, Class, Commit string
}

// Preflight checks, before anything is built, that both ends will take
// the release, with the credentials given: the bucket exists and these keys
// can list, write and delete in it (delete is what undoes a failed
// publish), the registry answers and lets this login push, and a stable
// version is not published already (in the bucket or as an image tag)
// unless force, or unless the bucket holds it from this very commit (a
// re-run completing a publish; Publish then compares the binaries). It
// returns cfg with the region the server reported when cfg gave none, so
// that later steps do not ask again.
func Preflight(ctx context.Context, cfg Config, reg *Registry, in Intent, force bool, w io.Writer) (Config, error) {
	if w == nil {
		w = io.Discard
	}
	c, err := newClient(cfg)
	if err != nil {
		return cfg, err
	}
	if c.cfg.Region == "" {
		region, err := c.discoverRegion(ctx)
		if err != nil {
			return cfg, err
		}
		cfg.Region = region
		if c, err = newClient(cfg); err != nil {
			return cfg, err
		}
		fmt.Fprintf(w, "S3: region %q (as the server reports it)\n", region)
	}
	if err := c.check(ctx); err != nil {
		return cfg, fmt.Errorf("S3: %w", err)
	}
	if err := c.probeWrite(ctx); err != nil {
		return cfg, fmt.Errorf("S3: %w", err)
	}
	prev, err := c.publishedManifest(ctx, in.Version)
	if err != nil {
		return cfg, fmt.Errorf("S3: %w", err)
	}
	stable := in.Class == string(version.Stable)
	sameCommit := prev != nil && in.Commit != "" && prev.Commit == in.Commit
	if prev != nil && stable && !force && !sameCommit {
		return cfg, fmt.Errorf("S3: stable release %s is already published in %s (from %s; this build is from commit %s): a stable release is never overwritten; pass --force to replace it",
			in.Version, c.cfg.where(), describeBuild(prev), in.Commit)
	}
	fmt.Fprintf(w, "S3: %s can be listed and written\n", c.cfg.where())

	if reg != nil {
		if err := reg.CheckPush(ctx); err != nil {
			return cfg, fmt.Errorf("registry: %w", err)
		}
		tagged, err := reg.TagDigest(ctx, in.Version)
		if err != nil {
			return cfg, fmt.Errorf("registry: %w", err)
		}
		ours := sameCommit && prev.Image != nil && prev.Image.Digest == tagged
		if tagged != "" && stable && !force && !ours {
			why := "the bucket has no release " + in.Version + " (a publish that failed half-way, or another tool, pushed it)"
			if prev != nil {
				why = "the bucket's release " + in.Version + " records another image"
			}
			return cfg, fmt.Errorf("registry: %s:%s already exists (%s) and %s: a stable tag is never moved; pass --force to replace it",
				reg.Repo, in.Version, tagged, why)
		}
		fmt.Fprintf(w, "registry: %s accepts pushes with this login\n", reg.Repo)
	}
	if prev != nil && sameCommit && stable && !force {
		fmt.Fprintf(w, "%s is already published from commit %s: the binaries will be compared after the build and the publish completed, not redone\n", in.Version, in.Commit)
	}
	return cfg, nil
}

// discoverRegion asks the server which region the bucket is in.
func (c *client) discoverRegion(ctx context.Context) (string, error) {
	region, err := c.mc.GetBucketLocation(ctx, c.cfg.Bucket)
	if err != nil {
		return "", fmt.Errorf("S3: asking %s for its region: %w (give it with --s3-region or S3_REGION)", c.cfg.where(), c.explain("get the location of", c.cfg.Bucket, err))
	}
	if region == "" {
		// An empty location constraint is S3's name for us-east-1.
		region = "us-east-1"
	}
	return region, nil
}

// probeWrite writes a small object and deletes it. A publish writes, and
// undoes a failure by deleting: a key that can do neither is found here,
// not half-way through a release.
func (c *client) probeWrite(ctx context.Context) error {
	b := make([]byte, 8)
	rand.Read(b)
	key := c.cfg.key(index.ReleasesDir + ".garage-release-preflight-" + hex.EncodeToString(b))
	o := dataObject(key, []byte("garage-release checks that it can write here; this object is deleted at once\n"), "")
	if err := c.put(ctx, o); err != nil {
		return fmt.Errorf("these credentials cannot write to %s: %w", c.cfg.where(), err)
	}
	if err := c.mc.RemoveObject(ctx, c.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return fmt.Errorf("these credentials can write to %s but not delete (%w): garage-release deletes to undo a publish that fails half-way; remove %s yourself and grant delete", c.cfg.where(), c.explain("remove", key, err), key)
	}
	return nil
}
