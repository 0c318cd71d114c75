package main

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/pflag"

	"github.com/garage-release/garage-release/ci/compilecache"
	"github.com/garage-release/garage-release/ci/publish"
)

// cacheCommand shows or erases the compile cache in S3: Garage's
// `mc rm --recursive` of its Nix cache, limited to the cache folder.
func cacheCommand() command {
	return command{
		name:    "cache",
		arg:     "stats|erase",
		summary: "the compile cache in S3: stats (objects and bytes per toolchain and stage), erase --yes [--older-than 30d] (only objects under _cache/, never a release file)",
		flags: func(fs *pflag.FlagSet, o *options) {
			s3FlagSet(fs, o)
			cacheBucketFlag(fs, o)
			fs.StringVar(&o.olderThan, "older-than", "", "erase: only objects last written longer ago than this, e.g. 30d or 12h")
			fs.BoolVar(&o.yes, "yes", false, "erase: do it (without it, erase says what it would remove and removes nothing)")
		},
		run: runCache,
	}
}

// cacheBucketFlag chooses the compile cache's bucket.
func cacheBucketFlag(fs *pflag.FlagSet, o *options) {
	fs.StringVar(&o.cacheBucket, "cache-bucket", "", "S3 bucket of the compile cache (env CACHE_BUCKET; default: the release bucket, under _cache/)")
}

// cacheJob is what `cache` does, where.
type cacheJob struct {
	S3        publish.Config
	Action    string        // stats or erase
	OlderThan time.Duration // erase: 0 is everything
	Yes       bool
}

func (o *options) cacheJob(e *env) (cacheJob, error) {
	job := cacheJob{Action: o.arg, Yes: o.yes}
	switch o.arg {
	case "stats", "erase":
	case "":
		return job, usagef("cache: say what to do: cache stats, or cache erase --yes")
	default:
		return job, usagef("cache %q: give stats or erase", o.arg)
	}
	if o.olderThan != "" {
		if o.arg != "erase" {
			return job, usagef("--older-than is for cache erase")
		}
		d, err := parseAge(o.olderThan)
		if err != nil {
			return job, usagef("--older-than %q: %v", o.olderThan, err)
		}
		job.OlderThan = d
	}
	if o.yes && o.arg != "erase" {
		return job, usagef("--yes is for cache erase")
	}
	cfg, ok, err := compileCacheConfig(e, o)
	if !ok {
		return job, usagef("no S3 bucket: give --s3-endpoint and --s3-bucket (or --cache-bucket), or S3_ENDPOINT and S3_BUCKET")
	}
	if err != nil {
		return job, &usageError{msg: err.Error()}
	}
	job.S3 = cfg
	return job, nil
}

// parseAge reads a duration that may also be in days ("30d").
func parseAge(s string) (time.Duration, error) {
	if n, ok := strings.CutSuffix(s, "d"); ok {
		days, err := strconv.Atoi(n)
		if err != nil || days <= 0 {
			return 0, fmt.Errorf("give a positive number of days, e.g. 30d")
		}
		return time.Duration(days) * 24 * time.Hour, nil
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, fmt.Errorf("give a positive duration, e.g. 30d or 12h")
	}
	return d, nil
}

func runCache(ctx context.Context, e *env, o *options) error {
	job, err := o.cacheJob(e)
	if err != nil {
		return err
	}
	where := compileCacheWhere(job.S3)
	groups, err := compilecache.Stats(ctx, job.S3)
	if err != nil {
		return fmt.Errorf("cache %s: %w", job.Action, err)
	}
	if job.Action == "stats" {
		if len(groups) == 0 {
			fmt.Fprintf(e.stdout, "%s is empty.\n", where)
			return nil
		}
		tw := tabwriter.NewWriter(e.stdout, 2, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "KIND\tTOOLCHAIN\tSTAGE\tOBJECTS\tBYTES\tOLDEST\tNEWEST")
		var n int
		var bytes int64
		for _, g := range groups {
			fmt.Fprintf(tw, "%s\t%s\t%s\t%d\t%s\t%s\t%s\n", g.Kind, g.Toolchain, g.Partition, g.Objects, compilecache.HumanBytes(g.Bytes),
				g.Oldest.UTC().Format(time.DateTime), g.Newest.UTC().Format(time.DateTime))
			n += g.Objects
			bytes += g.Bytes
		}
		tw.Flush()
		fmt.Fprintf(e.stdout, "%s: %d objects, %s.\n", where, n, compilecache.HumanBytes(bytes))
		return nil
	}
	var cutoff time.Time
	what := "every object"
	if job.OlderThan > 0 {
		cutoff = time.Now().Add(-job.OlderThan)
		what = "the objects last written before " + cutoff.UTC().Format(time.DateTime) + " UTC"
	}
	if !job.Yes {
		var n int
		var bytes int64
		for _, g := range groups {
			if g.Kind != compilecache.Other && (cutoff.IsZero() || g.Oldest.Before(cutoff)) {
				n += g.Objects
				bytes += g.Bytes
			}
		}
		fmt.Fprintf(e.stdout, "cache erase would remove %s under %s (at most %d objects, %s). Nothing was removed: add --yes.\n", what, where, n, compilecache.HumanBytes(bytes))
		return nil
	}
	done, err := compilecache.Erase(ctx, job.S3, cutoff)
	if err != nil {
		return fmt.Errorf("cache erase: %w (removed %d objects before that)", err, done.Objects)
	}
	fmt.Fprintf(e.stdout, "Removed %d objects (%s) under %s. Release files are untouched; the next build is only slower.\n", done.Objects, compilecache.HumanBytes(done.Bytes), where)
	if done.Foreign > 0 {
		fmt.Fprintf(e.stdout, "Left %d objects under %s that are not compile cache packs or target/ snapshots.\n", done.Foreign, where)
	}
	return nil
}
