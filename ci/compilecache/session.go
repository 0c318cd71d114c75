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
	"sync"
	"time"

	"dagger.io/dagger"
	"github.com/minio/minio-go/v7"

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
	snaps    *snapshots
}

// Options are what a session needs from the front end.
type Options struct {
	S3 publish.Config
	// Mode is the trust decision (trust.Decide); Why says what decided it.
	Mode trust.Mode
	Why  string
	// Pipeline and Stages are the run's: they name the toolchain (see
	// pipeline.ToolchainKey) and the partitions the stages compile in
	// (pipeline.CachePartitions).
	Pipeline pipeline.Config
	Stages   pipeline.Stages
	// Dir keeps the restored packs; between runs on one machine it saves
	// downloading them again.
	Dir string
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
	toolchain, err := pipeline.ToolchainKey(ctx, c, o.Pipeline)
	if err != nil {
		warnf("%v: building without it", err)
		return nil, nil
	}
	partitions := pipeline.CachePartitions(o.Stages, o.Pipeline.Project, o.Pipeline.Targets)
	store, err := OpenStore(o.S3, toolchain)
	if err != nil {
		warnf("%v: building without it", err)
		return nil, nil
	}
	dir := filepath.Join(o.Dir, storeID(o.S3), toolchain)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		warnf("%v: building without it", err)
		return nil, nil
	}
	start := time.Now()
	restored, warns, err := store.Restore(ctx, dir, partitions)
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
	snaps := &snapshots{store: store, toEngine: func(p string) *dagger.File { return c.Host().File(p) }, dir: filepath.Join(dir, "target"), trusted: o.Mode == trust.ReadWrite,
		newest: map[string]minio.ObjectInfo{}, fetched: map[string]int64{}, restored: map[string]bool{}}
	listed, err := store.ListSnapshots(ctx, partitions)
	if err != nil {
		warnf("%v: no target/ snapshots", err)
	}
	for part, l := range listed {
		if len(l) > 0 {
			snaps.newest[part] = l[0]
		}
	}
	access := "reads and writes"
	if o.Mode != trust.ReadWrite {
		access = "reads only"
	}
	fmt.Fprintf(o.Log, "Compile cache: %s, %s (%s); %d packs, %d downloaded (%s) in %s; target/ snapshots of %d of %d stages\n",
		store.Where(), access, o.Why, n, down, HumanBytes(bytes), time.Since(start).Round(10*time.Millisecond), len(snaps.newest), len(partitions))
	return &pipeline.CompileCache{Packs: packs, ReadOnly: o.Mode != trust.ReadWrite, Snapshots: snaps},
		&Session{store: store, dir: dir, mode: o.Mode, log: o.Log, restored: restored, snaps: snaps}
}

// storeID names a bucket and prefix as a folder.
func storeID(cfg publish.Config) string {
	sum := sha256.Sum256([]byte(cfg.Endpoint + "\x00" + cfg.Bucket + "\x00" + cfg.Prefix))
	return hex.EncodeToString(sum[:8])
}

// Save uploads, in a trusted run, the packs and target/ snapshots of the
// stages that succeeded, and prints per stage what was read and written.
// Each one's size and sha256 come from the engine first: what S3 has
// already is neither exported nor sent again. Failures are warnings: the
// release is complete without them.
func (s *Session) Save(ctx context.Context, res *pipeline.Result) {
	if s == nil {
		return
	}
	var mu sync.Mutex
	written, snapWritten := map[string]int64{}, map[string]int64{}
	start := time.Now()
	defer func() { s.report(written, snapWritten, time.Since(start)) }()
	if s.mode != trust.ReadWrite || res == nil || len(res.CompilePacks)+len(res.TargetSnapshots) == 0 {
		return
	}
	warnf := func(format string, args ...any) {
		mu.Lock()
		defer mu.Unlock()
		fmt.Fprintf(s.log, "Compile cache: warning: "+format+"\n", args...)
	}
	tmp, err := os.MkdirTemp("", "garage-release-packs-")
	if err != nil {
		warnf("%v: nothing uploaded", err)
		return
	}
	defer os.RemoveAll(tmp)
	var wg sync.WaitGroup
	// keep, when set, keeps the uploaded file on this machine.
	upload := func(kind, part string, up *pipeline.CacheUpload, has func(sum string) bool, save func(file string) (int64, string, error), keep func(file, sum string), done map[string]int64) {
		defer wg.Done()
		text, err := up.Info.Contents(ctx)
		if err != nil {
			warnf("the %s of %s: %s", kind, part, pipeline.Describe(err))
			return
		}
		sum, _, ok, err := pipeline.ParseCacheInfo(text)
		if err != nil {
			warnf("the %s of %s: %v", kind, part, err)
			return
		}
		if !ok || has(sum) {
			return // nothing new, or written by an earlier run
		}
		local := filepath.Join(tmp, kind+"-"+part)
		if _, err := up.File.Export(ctx, local); err != nil {
			warnf("the %s of %s: %s", kind, part, pipeline.Describe(err))
			return
		}
		n, sum, err := save(local)
		if err != nil {
			warnf("%v: the next run compiles it again", err)
			return
		}
		if n == 0 {
			return
		}
		mu.Lock()
		done[part] = n
		mu.Unlock()
		if keep != nil {
			keep(local, sum)
		}
	}
	for part, up := range res.CompilePacks {
		wg.Add(1)
		// This machine has the pack now: the next run need not download it.
		keep := func(file, sum string) { os.Rename(file, filepath.Join(s.dir, part, sum+".tar")) }
		go upload("pack", part, up, func(sum string) bool { return s.store.Has(ctx, part, sum) },
			func(f string) (int64, string, error) { return s.store.Save(ctx, part, f) }, keep, written)
	}
	for part, up := range res.TargetSnapshots {
		wg.Add(1)
		go upload("target/ snapshot", part, up, func(sum string) bool { return s.store.HasSnapshot(ctx, part, sum) },
			func(f string) (int64, string, error) { return s.store.SaveSnapshot(ctx, part, f) }, nil, snapWritten)
	}
	wg.Wait()
}

// report prints, per partition, the bytes read from S3 and written to it,
// then the packs written.
func (s *Session) report(written, snapWritten map[string]int64, took time.Duration) {
	parts := make([]string, 0, len(s.restored))
	for p := range s.restored {
		parts = append(parts, p)
	}
	sort.Strings(parts)
	var wr, swr int64
	for _, p := range parts {
		r := s.restored[p]
		line := fmt.Sprintf("Compile cache: %-26s read %s (%d of %d packs downloaded), wrote %s", p, HumanBytes(r.Bytes), r.Downloaded, r.Packs, HumanBytes(written[p]))
		s.snaps.mu.Lock()
		switch {
		case s.snaps.restored[p] && s.snaps.fetched[p] > 0:
			line += fmt.Sprintf("; target/ snapshot read (%s)", HumanBytes(s.snaps.fetched[p]))
		case s.snaps.restored[p]:
			line += "; target/ snapshot read (already on this machine)"
		}
		s.snaps.mu.Unlock()
		if n := snapWritten[p]; n > 0 {
			line += fmt.Sprintf("; target/ snapshot written (%s)", HumanBytes(n))
		}
		fmt.Fprintln(s.log, line)
		wr += written[p]
		swr += snapWritten[p]
	}
	fmt.Fprintf(s.log, "Compile cache: wrote %d packs (%s) and %d target/ snapshots (%s) in %s\n", len(written), HumanBytes(wr), len(snapWritten), HumanBytes(swr), took.Round(10*time.Millisecond))
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
