package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/compilecache"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/trust"
)

// compileCacheConfig returns the S3 side of the compile cache: the release
// bucket (or --cache-bucket), from the same flags and variables as
// publishing. ok is false when no bucket is configured: no cache, no
// message.
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

// openCompileCache restores the packs of the partitions the stages of st
// compile in and returns the pipeline's compile cache setting; nil when
// the cache is off, not configured or not usable (then it says why).
func openCompileCache(ctx context.Context, c *dagger.Client, e *env, o *options, p pipeline.Config, st pipeline.Stages) (*pipeline.CompileCache, *compilecache.Session) {
	mode, why, err := trust.Decide(o.request(e).Cache.Mode, e.getenv)
	if err != nil || mode == trust.Off {
		return nil, nil
	}
	cfg, ok, err := compileCacheConfig(e, o)
	if !ok {
		return nil, nil
	}
	warn := func(err error) (*pipeline.CompileCache, *compilecache.Session) {
		fmt.Fprintf(e.stderr, "Compile cache: warning: %v: building without it\n", err)
		return nil, nil
	}
	if err != nil {
		return warn(err)
	}
	base, err := os.UserCacheDir()
	if err != nil {
		base = os.TempDir()
	}
	return compilecache.Open(ctx, c, compilecache.Options{
		S3: cfg, Mode: mode, Why: why, Pipeline: p, Stages: st,
		Dir: filepath.Join(base, "garage-release", "compile-cache"),
		Log: e.stderr,
	})
}

// compileCacheWhere is the bucket and prefix `cache` works on.
func compileCacheWhere(cfg publish.Config) string {
	return "s3://" + cfg.Bucket + "/" + strings.TrimPrefix(cfg.Prefix, "/") + compilecache.Dir
}
