package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/compilecache"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/trust"
)

// compileCache is the compile cache of one run: the packs restored from
// S3 into a folder on this machine (handed to the engine), and the store
// the stages' new packs go to. The S3 credentials stay in this process:
// no build container ever sees them.
type compileCache struct {
	store    *compilecache.Store
	dir      string // the restored packs, by partition
	mode     trust.Mode
	why      string
	restored map[string]compilecache.Restored
}

// compileCacheConfig returns the S3 side of the compile cache: the release
// bucket (or --cache-bucket), from the same flags and variables as
// publishing. ok is false when no bucket is configured: no cache, no
// message. A bucket configured wrong is a note, never a failure.
func compileCacheConfig(e *env, o *options) (cfg publish.Config, ok bool, err error) {
	req := o.request(e)
	s3 := req.Publish.S3
	if req.Cache.Bucket != "" {
		s3.Bucket = req.Cache.Bucket
	}
	if s3.Endpoint == "" || s3.Bucket == "" {
		return cfg, false, nil
	}
	cfg = s3.Config(e.getenv(publish.EnvAccessKey), e.getenv(publish.EnvSecretKey), false)
	return cfg, true, cfg.Validate()
}

// openCompileCache restores the packs of the partitions p compiles in for
// st and returns the pipeline's compile cache setting; nil when the cache
// is off, not configured or not usable (then it says why).
func openCompileCache(ctx context.Context, c *dagger.Client, e *env, o *options, p pipeline.Config, st pipeline.Stages) (*pipeline.CompileCache, *compileCache) {
	mode, why, err := trust.Decide(o.request(e).Cache.Mode, e.getenv)
	if err != nil || mode == trust.Off {
		return nil, nil
	}
	cfg, ok, err := compileCacheConfig(e, o)
	if !ok {
		return nil, nil
	}
	if err != nil {
		fmt.Fprintf(e.stderr, "Compile cache: warning: %v: building without it\n", err)
		return nil, nil
	}
	key, err := toolchainKey(ctx, c, o)
	if err != nil {
		fmt.Fprintf(e.stderr, "Compile cache: warning: %v: building without it\n", err)
		return nil, nil
	}
	store, err := compilecache.Open(cfg, key)
	if err != nil {
		fmt.Fprintf(e.stderr, "Compile cache: warning: %v: building without it\n", err)
		return nil, nil
	}
	dir, err := packsDir(cfg, key)
	if err != nil {
		fmt.Fprintf(e.stderr, "Compile cache: warning: %v: building without it\n", err)
		return nil, nil
	}
	parts := pipeline.CachePartitions(st, p.Project, p.Targets)
	start := time.Now()
	restored, warns, err := store.Restore(ctx, dir, parts)
	if err != nil {
		fmt.Fprintf(e.stderr, "Compile cache: warning: %v: building without it\n", err)
		return nil, nil
	}
	for _, w := range warns {
		fmt.Fprintf(e.stderr, "Compile cache: warning: %s\n", w)
	}
	for _, r := range restored {
		for _, key := range r.Corrupted {
			// Removed in a trusted run, so that the pack this run makes
			// can take its name; a read-only run only reports it.
			if mode == trust.ReadWrite {
				if err := store.Remove(ctx, key); err != nil {
					fmt.Fprintf(e.stderr, "Compile cache: warning: %v\n", err)
				}
			}
		}
	}
	packs := map[string]*dagger.Directory{}
	var n, down int
	var bytes int64
	for part, r := range restored {
		n += r.Packs
		down += r.Downloaded
		bytes += r.Bytes
		if r.Packs > 0 {
			packs[part] = c.Host().Directory(filepath.Join(dir, part), dagger.HostDirectoryOpts{Include: []string{"*.tar"}})
		}
	}
	mw := "reads and writes"
	if mode != trust.ReadWrite {
		mw = "reads only"
	}
	fmt.Fprintf(e.stderr, "Compile cache: %s, %s (%s); %d packs, %d downloaded (%s) in %s\n",
		store.Where(), mw, why, n, down, humanBytes(bytes), time.Since(start).Round(10*time.Millisecond))
	return &pipeline.CompileCache{Packs: packs, ReadOnly: mode != trust.ReadWrite},
		&compileCache{store: store, dir: dir, mode: mode, why: why, restored: restored}
}

// save uploads the packs of the stages that succeeded, in a trusted run.
// Failures are warnings: the release is complete without them.
func (cc *compileCache) save(ctx context.Context, e *env, res *pipeline.Result) {
	if cc == nil || cc.mode != trust.ReadWrite || res == nil || len(res.CompilePacks) == 0 {
		return
	}
	start := time.Now()
	tmp, err := os.MkdirTemp("", "garage-release-packs-")
	if err != nil {
		fmt.Fprintf(e.stderr, "Compile cache: warning: %v: nothing uploaded\n", err)
		return
	}
	defer os.RemoveAll(tmp)
	var written int64
	var packs int
	for part, f := range res.CompilePacks {
		// A stage the engine did not run again hands back the pack of the
		// run that did, already uploaded: its digest says so without
		// exporting it.
		if d, err := f.Digest(ctx, dagger.FileDigestOpts{ExcludeMetadata: true}); err == nil {
			if sum, ok := strings.CutPrefix(d, "sha256:"); ok && cc.store.Has(ctx, part, sum) {
				continue
			}
		}
		local := filepath.Join(tmp, part+".tar")
		if _, err := f.Export(ctx, local); err != nil {
			fmt.Fprintf(e.stderr, "Compile cache: warning: the pack of %s: %s\n", part, pipeline.Describe(err))
			continue
		}
		n, err := cc.store.Save(ctx, part, local)
		if err != nil {
			fmt.Fprintf(e.stderr, "Compile cache: warning: %v: the next run compiles it again\n", err)
			continue
		}
		if n > 0 {
			packs++
			written += n
			// This machine has it now: the next run need not download it.
			if sum, err := compilecache.FileSum(local); err == nil {
				os.Rename(local, filepath.Join(cc.dir, part, sum+".tar"))
			}
		}
	}
	fmt.Fprintf(e.stderr, "Compile cache: wrote %d packs (%s) in %s\n", packs, humanBytes(written), time.Since(start).Round(10*time.Millisecond))
}

// toolchainKey names the toolchain in the cache's keys: the recipe tag the
// registry knows it by, or, for an image given by hand, its reference.
// sccache keys its entries by the compiler's own bytes too; this only keeps
// each toolchain's entries apart, for erasing.
func toolchainKey(ctx context.Context, c *dagger.Client, o *options) (string, error) {
	if o.toolchainImage != "" && !o.toolchainComplete {
		sum := sha256.Sum256([]byte(o.toolchainImage))
		return "image-" + hex.EncodeToString(sum[:16]), nil
	}
	base := o.baseImage
	if base == "" {
		base = pipeline.DefaultBaseImage
	}
	ref, err := c.Container().From(base).ImageRef(ctx)
	if err != nil {
		return "", fmt.Errorf("the base image's digest: %s", pipeline.Describe(err))
	}
	return pipeline.ToolchainTag(pipeline.RecipeDigest(ref, o.project.BuildPackages, o.targetList)), nil
}

// packsDir is this machine's folder of restored packs for one bucket and
// toolchain, kept between runs so a laptop does not download them again.
func packsDir(cfg publish.Config, key string) (string, error) {
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	sum := sha256.Sum256([]byte(cfg.Endpoint + "\x00" + cfg.Bucket + "\x00" + cfg.Prefix))
	dir := filepath.Join(base, "garage-release", "compile-cache", hex.EncodeToString(sum[:8]), key)
	return dir, os.MkdirAll(dir, 0o755)
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// compileCacheWhere is the bucket and prefix `cache` works on.
func compileCacheWhere(cfg publish.Config) string {
	return "s3://" + cfg.Bucket + "/" + strings.TrimPrefix(cfg.Prefix, "/") + compilecache.Dir
}
