package compilecache

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/trust"
)

// Session is the compile cache of one run, the same for both front ends:
// the packs restored from S3 into a folder of the front end's (the CLI's
// machine, the module's container), handed to the engine as a directory,
// and the packs the stages made, uploaded afterwards. The S3 credentials
// stay in the front end's process: no build container ever sees them.
type Session struct {
	store    *Store
	dir      string
	mode     trust.Mode
	log      io.Writer
	restored map[string]Restored
}

// Options are what a session needs from the front end.
type Options struct {
	S3 publish.Config
	// Mode is the trust decision (trust.Decide); Why says what decided it.
	Mode trust.Mode
	Why  string
	// Toolchain names the toolchain (see pipeline.ToolchainKey).
	Toolchain string
	// Dir keeps the restored packs; between runs on one machine it saves
	// downloading them again.
	Dir string
	// Partitions are those the run compiles in (pipeline.CachePartitions).
	Partitions []string
	// Log gets the session's lines ("Compile cache: ...").
	Log io.Writer
}

// Open restores the packs and returns the pipeline's setting; nil (and a
// warning) when the cache cannot be used: the run builds without it.
func Open(ctx context.Context, c *dagger.Client, o Options) (*pipeline.CompileCache, *Session) {
	warnf := func(format string, args ...any) {
		fmt.Fprintf(o.Log, "Compile cache: warning: "+format+"\n", args...)
	}
	if o.Mode == trust.Off {
		return nil, nil
	}
	store, err := OpenStore(o.S3, o.Toolchain)
	if err != nil {
		warnf("%v: building without it", err)
		return nil, nil
	}
	dir := filepath.Join(o.Dir, storeID(o.S3), o.Toolchain)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		warnf("%v: building without it", err)
		return nil, nil
	}
	start := time.Now()
	restored, warns, err := store.Restore(ctx, dir, o.Partitions)
	if err != nil {
		warnf("%v: building without it", err)
		return nil, nil
	}
	for _, w := range warns {
		warnf("%s", w)
	}
	packs := map[string]*dagger.Directory{}
	var n, down int
	var bytes int64
	for part, r := range restored {
		n += r.Packs
		down += r.Downloaded
		bytes += r.Bytes
		if r.Packs > len(r.Corrupted) {
			packs[part] = c.Host().Directory(filepath.Join(dir, part), dagger.HostDirectoryOpts{Include: []string{"*.tar"}})
		}
		for _, key := range r.Corrupted {
			// Removed in a trusted run, so that a good pack can take its
			// place; a read-only run only reports it.
			if o.Mode == trust.ReadWrite {
				if err := store.Remove(ctx, key); err != nil {
					warnf("%v", err)
				}
			}
		}
	}
	access := "reads and writes"
	if o.Mode != trust.ReadWrite {
		access = "reads only"
	}
	fmt.Fprintf(o.Log, "Compile cache: %s, %s (%s); %d packs, %d downloaded (%s) in %s\n",
		store.Where(), access, o.Why, n, down, HumanBytes(bytes), time.Since(start).Round(10*time.Millisecond))
	return &pipeline.CompileCache{Packs: packs, ReadOnly: o.Mode != trust.ReadWrite},
		&Session{store: store, dir: dir, mode: o.Mode, log: o.Log, restored: restored}
}

// storeID names a bucket and prefix as a folder.
func storeID(cfg publish.Config) string {
	sum := sha256.Sum256([]byte(cfg.Endpoint + "\x00" + cfg.Bucket + "\x00" + cfg.Prefix))
	return hex.EncodeToString(sum[:8])
}

// Save uploads the packs of the stages that succeeded, in a trusted run,
// and prints per stage what was read and written. Failures are warnings:
// the release is complete without them.
func (s *Session) Save(ctx context.Context, res *pipeline.Result) {
	if s == nil {
		return
	}
	written := map[string]int64{}
	start := time.Now()
	defer func() { s.report(written, time.Since(start)) }()
	if s.mode != trust.ReadWrite || res == nil || len(res.CompilePacks) == 0 {
		return
	}
	warnf := func(format string, args ...any) {
		fmt.Fprintf(s.log, "Compile cache: warning: "+format+"\n", args...)
	}
	tmp, err := os.MkdirTemp("", "garage-release-packs-")
	if err != nil {
		warnf("%v: nothing uploaded", err)
		return
	}
	defer os.RemoveAll(tmp)
	for part, f := range res.CompilePacks {
		// A stage the engine did not run again hands back the pack of the
		// run that did, already uploaded: its digest says so without
		// exporting it.
		if d, err := f.Digest(ctx, dagger.FileDigestOpts{ExcludeMetadata: true}); err == nil {
			if sum, ok := strings.CutPrefix(d, "sha256:"); ok && s.store.Has(ctx, part, sum) {
				continue
			}
		}
		local := filepath.Join(tmp, part+".tar")
		if _, err := f.Export(ctx, local); err != nil {
			warnf("the pack of %s: %s", part, pipeline.Describe(err))
			continue
		}
		n, err := s.store.Save(ctx, part, local)
		if err != nil {
			warnf("%v: the next run compiles it again", err)
			continue
		}
		if n > 0 {
			written[part] = n
			// This machine has it now: the next run need not download it.
			if sum, err := FileSum(local); err == nil {
				os.Rename(local, filepath.Join(s.dir, part, sum+".tar"))
			}
		}
	}
}

// report prints, per partition, the bytes read from S3 and written to it,
// then the packs written.
func (s *Session) report(written map[string]int64, took time.Duration) {
	parts := make([]string, 0, len(s.restored))
	for p := range s.restored {
		parts = append(parts, p)
	}
	sort.Strings(parts)
	var wr int64
	for _, p := range parts {
		r := s.restored[p]
		fmt.Fprintf(s.log, "Compile cache: %-26s read %s (%d of %d packs downloaded), wrote %s\n", p, HumanBytes(r.Bytes), r.Downloaded, r.Packs, HumanBytes(written[p]))
		wr += written[p]
	}
	fmt.Fprintf(s.log, "Compile cache: wrote %d packs (%s) in %s\n", len(written), HumanBytes(wr), took.Round(10*time.Millisecond))
}

// HumanBytes is n in B, kB, MB or GB.
func HumanBytes(n int64) string {
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
