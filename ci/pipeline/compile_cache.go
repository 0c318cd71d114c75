package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"sync"
	"time"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/target"
)

// CompileCache puts sccache in front of rustc in every compiling cargo
// command (the C compilers build scripts run are not wrapped).
// sccache keeps its entries on a cache volume per partition (a stage's
// target/ volume's name: "check", "test", a triple). Debian's sccache has
// no cloud storage, so the volumes are seeded from packs the front end
// downloaded from S3 (see ci/compilecache), and each stage's new entries
// come back as a pack to upload. The cache can only make a build faster:
// sccache's key covers the compiler, the arguments, the sources and the
// environment the crate reads, and a release is byte-identical with or
// without it (the e2e tests compare).
type CompileCache struct {
	// Packs are the packs restored for each partition, a folder of
	// <sha256>.tar each; a partition may have none.
	Packs map[string]*dagger.Directory
	// ReadOnly makes sccache read only, and no pack is made: a run that
	// is not trusted (a pull request) must not write what a release may
	// use later. Its volumes are its own too (Config.Untrusted).
	ReadOnly bool
	// Snapshots are the target/ snapshots in S3 (see TargetSnapshots);
	// nil: none.
	Snapshots TargetSnapshots
}

// TargetSnapshots are whole target/ volumes kept in S3, one per partition,
// so that a fresh runner starts where a trusted run left off: what sccache
// cannot cache (build scripts compiled and run, proc-macros, C code that
// build scripts compile) is then not done again either. A snapshot holds
// the volume's source record (see freshSourcesScript), so the freshness
// repair treats it as it treats a warm engine's volume: cargo rebuilds
// exactly what changed since, and the bytes are those of a cold build.
type TargetSnapshots interface {
	// Has says whether S3 holds a snapshot of the partition.
	Has(partition string) bool
	// Fetch gives the partition's newest snapshot (a zstd-compressed
	// tar), downloaded and checked only when asked: only an empty volume
	// asks.
	Fetch(ctx context.Context, partition string) (*dagger.File, error)
}

const (
	sccacheDir = "/sccache"
	// packsDir is where a seeding container sees the restored packs.
	packsDir = "/packs"
	// PackPath is the pack of a stage's new entries, in the container
	// Result.CompilePacks files come from.
	packPath = "/out/sccache-pack.tar"
)

// packInfoPath and snapshotInfoPath are, beside a pack or snapshot made
// after a stage, its sha256 and size ("<sha256> <bytes>"; an empty file
// when none was made): the front end reads them to decide whether to
// upload, without exporting or hashing the file.
const (
	packInfoPath     = "/out/pack-info"
	snapshotInfoPath = "/out/snapshot-info"
)

// snapshotPath is the target/ snapshot made after a stage.
const snapshotPath = "/out/target.tar.zst"

// sccacheStatsFile gets one JSON line of sccache's statistics per cargo
// command of a stage.
func sccacheStatsFile(log string) string { return logDir + "/sccache-" + log + ".jsonl" }

// cacheNotesFile gets a line for each time sccache could not be used.
func cacheNotesFile(log string) string { return logDir + "/cache-notes-" + log }

// CachePartitions are the partitions the stages of st compile in.
func (p *Pipeline) CachePartitions(st Stages) []string {
	return CachePartitions(st, p.cfg.Project, p.cfg.Targets)
}

// CachePartitions are the partitions the stages of st compile in, for a
// project and its targets (before a pipeline exists: the front end
// restores the packs the pipeline is then given).
func CachePartitions(st Stages, s project.Settings, targets []target.Target) []string {
	var parts []string
	if st.Check && s.Checks.Clippy {
		parts = append(parts, "check")
	}
	if st.Test {
		parts = append(parts, "test")
	}
	if st.Build || st.Smoke || st.Image || st.Page {
		for _, t := range targets {
			parts = append(parts, t.Triple)
		}
	}
	return parts
}

// sccacheVolume is the partition's sccache volume.
func (p *Pipeline) sccacheVolume(partition string) *dagger.CacheVolume {
	return p.cache("sccache", partition)
}

// withCompileCache mounts the partition's sccache volume and sets cargo to
// compile through sccache. Incremental compilation is off: sccache cannot
// cache it, and the debug builds it would speed up are not released.
func (p *Pipeline) withCompileCache(ctr *dagger.Container, partition string) *dagger.Container {
	cc := p.cfg.CompileCache
	if cc == nil {
		return ctr
	}
	mode := "READ_WRITE"
	if cc.ReadOnly {
		mode = "READ_ONLY"
	}
	return ctr.
		WithMountedCache(sccacheDir, p.sccacheVolume(partition), dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}).
		WithNewFile(rustcWrapper, rustcWrapperScript, dagger.ContainerWithNewFileOpts{Permissions: 0o755}).
		WithEnvVariable("RUSTC_WRAPPER", rustcWrapper).
		WithEnvVariable("SCCACHE_DIR", sccacheDir).
		WithEnvVariable("SCCACHE_LOCAL_RW_MODE", mode).
		// Never evict: the volume is the cache of one partition, and the
		// engine's own pruning bounds it.
		WithEnvVariable("SCCACHE_CACHE_SIZE", "1000G").
		WithEnvVariable("SCCACHE_IDLE_TIMEOUT", "0").
		WithEnvVariable("CARGO_INCREMENTAL", "0")
}

// rustcWrapper is cargo's RUSTC_WRAPPER under the compile cache.
const rustcWrapper = "/usr/local/bin/garage-release-rustc"

// rustcWrapperScript sends library crates through sccache and compiles
// the others directly. sccache 0.10 cannot cache binaries anyway; and a
// library that links a native library without a kind (a -sys crate whose
// build script prints cargo:rustc-link-lib=zstd, as the pkg-config crate
// does for a library in /usr/lib) comes out of sccache so that a static
// release links that library dynamically, and the link fails
// (reproduced with Debian's rustc 1.85 and sccache 0.10): those crates
// compile directly, with the same bytes as without the cache.
const rustcWrapperScript = `#!/bin/sh
prev=
for a in "$@"; do
  case "$prev" in
    --crate-type) [ "$a" = bin ] && exec "$@" ;;
    -l) case "$a" in static=*|static:*) ;; *) exec "$@" ;; esac ;;
  esac
  prev=$a
done
exec sccache "$@"
`

// sccacheScript starts sccache's server before a cargo command and stops it
// after, recording the command's statistics; when the server cannot start,
// the command compiles without it and says why.
const sccacheScript = `sccache_start() {
  [ -n "${RUSTC_WRAPPER:-}" ] || return 0
  mkdir -p "${SCCACHE_STATS%/*}" "${CACHE_NOTES%/*}"
  : >> "$SCCACHE_STATS"
  : >> "$CACHE_NOTES"
  if ! out=$(sccache --start-server 2>&1); then
    echo "sccache did not start ($(echo "$out" | tail -n 1)): compiled without the compile cache" >> "$CACHE_NOTES"
    unset RUSTC_WRAPPER
    return 0
  fi
  trap sccache_stop EXIT
}
sccache_stop() {
  [ -n "${RUSTC_WRAPPER:-}" ] || return 0
  sccache --show-stats --stats-format=json 2>/dev/null | tr -d '\n' >> "$SCCACHE_STATS" || true
  echo >> "$SCCACHE_STATS"
  sccache --stop-server >/dev/null 2>&1 || true
  trap - EXIT
}
`

// seedScript unpacks the restored packs the volume has not unpacked yet,
// then records every entry present, so that the pack made after the stage
// holds only what the stage added.
const seedScript = `set -eu
cd ` + sccacheDir + `
touch .garage-release-packs
for p in ` + packsDir + `/*.tar; do
  [ -e "$p" ] || continue
  n=${p##*/}
  grep -qxF "$n" .garage-release-packs && continue
  if tar -xf "$p" --skip-old-files; then echo "$n" >> .garage-release-packs; else echo "pack $n did not unpack" >&2; fi
done
find . -type f ! -name '.garage-release-*' | LC_ALL=C sort > .garage-release-known
`

// packScript makes the pack of the entries added since the last seed or
// pack, with fixed metadata, and records them as known.
const packScript = `set -eu
cd ` + sccacheDir + `
find . -type f ! -name '.garage-release-*' | LC_ALL=C sort > /tmp/sccache-now
touch .garage-release-known
LC_ALL=C comm -13 .garage-release-known /tmp/sccache-now > /tmp/sccache-new
mkdir -p /out
tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf ` + packPath + ` -T /tmp/sccache-new
cp /tmp/sccache-now .garage-release-known.new
mv -f .garage-release-known.new .garage-release-known
if [ -s /tmp/sccache-new ]; then
  echo "$(sha256sum < ` + packPath + ` | cut -c1-64) $(stat -c %s ` + packPath + `)" > ` + packInfoPath + `
else
  : > ` + packInfoPath + `
fi
`

// seedCompileCache unpacks the restored packs into their volumes, and a
// target/ snapshot into each target/ volume that is empty, all at once,
// before any stage compiles. A failure is a note: the stages then compile
// with what the volume has.
func (p *Pipeline) seedCompileCache(ctx context.Context, rep *Report, partitions []string) {
	cc := p.cfg.CompileCache
	if cc == nil {
		return
	}
	var wg sync.WaitGroup
	for _, part := range partitions {
		if packs := cc.Packs[part]; packs != nil {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := p.c.Container().From(p.cfg.BaseImage).
					WithMountedCache(sccacheDir, p.sccacheVolume(part), dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}).
					WithMountedDirectory(packsDir, packs).
					// An exec is cached by its inputs, not its volumes': a
					// new namespace must unpack into its own volume.
					WithEnvVariable("GARAGE_RELEASE_CACHE_NAMESPACE", p.cfg.CacheNamespace).
					WithExec([]string{"sh", "-c", seedScript}).
					Sync(ctx)
				if err != nil {
					rep.note(fmt.Sprintf("compile cache: the packs of %s did not unpack (%s): it compiles without them", part, firstLine(Describe(err))))
				}
			}()
		}
		if cc.Snapshots != nil && cc.Snapshots.Has(part) {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if note := p.restoreSnapshot(ctx, cc.Snapshots, part); note != "" {
					rep.note("compile cache: " + note)
				}
			}()
		}
	}
	wg.Wait()
}

// targetRecordProbe says whether a target/ volume holds anything: every
// build writes the source record before cargo writes a file.
const targetRecordProbe = `if [ -e ` + sourcesStamp + ` ]; then echo warm; else echo empty; fi`

// toolchainIdentityScript defines toolchain_identity: a digest of the
// compilers and libraries a container builds with (rustc's version and
// every Debian package's). Two toolchains built from one recipe on
// different days can differ (the archive moves), and a snapshot keeps
// what build scripts compiled with the C compiler of the toolchain that
// made it: it is restored only into the same toolchain.
const toolchainIdentityScript = `toolchain_identity() {
  { rustc -vV; dpkg-query -W -f '${Package} ${Version} ${Architecture}\n' | LC_ALL=C sort; } | sha256sum | cut -c1-64
}`

// toolchainIdentityFile is where a snapshot carries its toolchain's
// identity, in the target/ volume.
const toolchainIdentityFile = "/target/.garage-release-toolchain"

// restoreSnapshotScript unpacks a snapshot into an empty target/ volume,
// and says what it did: "kept" (the volume was filled meanwhile by another
// run: the probe's answer is old), "other-toolchain" (made by another
// build of the toolchain: emptied again), or "restored".
const restoreSnapshotScript = `set -eu
` + toolchainIdentityScript + `
if [ -e ` + sourcesStamp + ` ]; then echo kept; exit 0; fi
zstd -q -d -c /snapshot.tar.zst | tar -x -C /target
if [ "$(cat ` + toolchainIdentityFile + ` 2>/dev/null)" != "$(toolchain_identity)" ]; then
  find /target -mindepth 1 -delete
  echo other-toolchain
  exit 0
fi
echo restored
`

// restoreSnapshot fills the partition's target/ volume from its snapshot
// when the volume is empty; it returns a note for the summary.
func (p *Pipeline) restoreSnapshot(ctx context.Context, snaps TargetSnapshots, part string) string {
	vol := p.cache("target", part)
	locked := dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}
	// The probe must run every time: the volume, not an input, decides.
	state, err := p.c.Container().From(p.cfg.BaseImage).
		WithMountedCache("/target", vol, locked).
		WithEnvVariable("GARAGE_RELEASE_PROBE", fmt.Sprintf("%s %d", p.cfg.CacheNamespace, time.Now().UnixNano())).
		WithExec([]string{"sh", "-c", targetRecordProbe}).
		Stdout(ctx)
	if err != nil {
		return fmt.Sprintf("the target/ volume of %s could not be probed (%s): no snapshot restored", part, firstLine(Describe(err)))
	}
	if strings.TrimSpace(state) != "empty" {
		return ""
	}
	snap, err := snaps.Fetch(ctx, part)
	if err != nil {
		return fmt.Sprintf("the target/ snapshot of %s: %v: it compiles without it", part, err)
	}
	// The stage's own image: the identity check compares like with like.
	base := p.Toolchain()
	if part == "test" {
		base = p.Runner()
	}
	out, err := base.
		WithMountedCache("/target", vol, locked).
		WithMountedFile("/snapshot.tar.zst", snap).
		WithEnvVariable("GARAGE_RELEASE_CACHE_NAMESPACE", p.cfg.CacheNamespace).
		WithExec([]string{"sh", "-c", restoreSnapshotScript}).
		Stdout(ctx)
	if err != nil {
		return fmt.Sprintf("the target/ snapshot of %s did not unpack (%s): it compiles without it", part, firstLine(Describe(err)))
	}
	switch strings.TrimSpace(out) {
	case "restored":
		return fmt.Sprintf("%s started from the target/ snapshot in S3", part)
	case "other-toolchain":
		return fmt.Sprintf("the target/ snapshot of %s was made with another build of the toolchain (its compilers or packages differ): it compiles without it", part)
	}
	return ""
}

// CacheUpload is something a stage made for the compile cache in S3: the
// file, and its sha256 and size to decide on an upload without reading it.
type CacheUpload struct {
	File *dagger.File
	// Info is "<sha256> <bytes>", or empty when nothing was made.
	Info *dagger.File
}

// snapshotScript snapshots the target/ volume after a stage, when the
// stage compiled a dependency (a crate not under /src: the snapshot in S3
// lacks it) or S3 has no snapshot of the partition (FORCE). A stage that
// compiled only the project's own crates makes none: the snapshot in S3
// serves as well, the repair rebuilding those.
const snapshotScript = `set -eu
mkdir -p /out
: > ` + snapshotInfoPath + `
` + compiledDependencyScript + `
` + toolchainIdentityScript + `
if [ "${FORCE:-}" = 1 ] || compiled_dependency "$LOG_FILE"; then
  toolchain_identity > ` + toolchainIdentityFile + `
  tar -C /target --exclude=./` + BuildLog + ` -cf - . | zstd -q -T0 -3 -o ` + snapshotPath + `
  echo "$(sha256sum < ` + snapshotPath + ` | cut -c1-64) $(stat -c %s ` + snapshotPath + `)" > ` + snapshotInfoPath + `
fi
`

// compiledDependencyScript defines compiled_dependency: whether a stage's
// log shows cargo compiling (or checking) a crate that is not under /src,
// a dependency: the project's own crates print their path.
const compiledDependencyScript = `compiled_dependency() {
  grep -E '^ +(Compiling|Checking) [^ ]+ v' "$1" 2>/dev/null | grep -qv ' (/src[/)]'
}`

// cacheUploads makes, after the stage that ended in ctr, in one exec, the
// pack of what the stage added to the partition's sccache volume and the
// snapshot of its target/ volume (see snapshotScript); nil for what is not
// made (no cache, or read-only: neither).
func (p *Pipeline) cacheUploads(ctr *dagger.Container, part string) (pack, snap *CacheUpload) {
	cc := p.cfg.CompileCache
	if cc == nil || cc.ReadOnly {
		return nil, nil
	}
	script := packScript
	if cc.Snapshots != nil {
		force := "0"
		if !cc.Snapshots.Has(part) {
			force = "1"
		}
		ctr = ctr.WithEnvVariable("FORCE", force)
		script += snapshotScript
	}
	done := ctr.WithExec([]string{"sh", "-c", script})
	pack = &CacheUpload{File: done.File(packPath), Info: done.File(packInfoPath)}
	if cc.Snapshots != nil {
		snap = &CacheUpload{File: done.File(snapshotPath), Info: done.File(snapshotInfoPath)}
	}
	return pack, snap
}

// ParseCacheInfo reads a CacheUpload's Info: ok is false when nothing was
// made.
func ParseCacheInfo(text string) (sum string, size int64, ok bool, err error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return "", 0, false, nil
	}
	var n int
	if n, err = fmt.Sscanf(text, "%64s %d", &sum, &size); err != nil || n != 2 || len(sum) != 64 || strings.Trim(sum, "0123456789abcdef") != "" {
		return "", 0, false, fmt.Errorf("compile cache: unreadable size and sha256 %q", text)
	}
	return sum, size, true, nil
}

// SccacheStats are one stage's compile cache figures, summed over its
// cargo commands.
type SccacheStats struct {
	Requests, Hits, Misses, NotCacheable, ReadErrors, WriteErrors int
}

// String is the summary's line.
func (s SccacheStats) String() string {
	line := fmt.Sprintf("%d hits, %d misses, %d not cacheable", s.Hits, s.Misses, s.NotCacheable)
	if s.ReadErrors+s.WriteErrors > 0 {
		line += fmt.Sprintf(", %d read and %d write errors", s.ReadErrors, s.WriteErrors)
	}
	return line
}

// parseSccacheStats sums the JSON lines of sccache --show-stats.
func parseSccacheStats(text string) (SccacheStats, error) {
	var sum SccacheStats
	for _, line := range strings.Split(text, "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		var v struct {
			Stats struct {
				CompileRequests  int `json:"compile_requests"`
				NotCacheable     int `json:"requests_not_cacheable"`
				CacheReadErrors  int `json:"cache_read_errors"`
				CacheWriteErrors int `json:"cache_write_errors"`
				CacheHits        struct {
					Counts map[string]int `json:"counts"`
				} `json:"cache_hits"`
				CacheMisses struct {
					Counts map[string]int `json:"counts"`
				} `json:"cache_misses"`
			} `json:"stats"`
		}
		if err := json.Unmarshal([]byte(line), &v); err != nil {
			return sum, fmt.Errorf("sccache statistics: %w", err)
		}
		sum.Requests += v.Stats.CompileRequests
		sum.NotCacheable += v.Stats.NotCacheable
		sum.ReadErrors += v.Stats.CacheReadErrors
		sum.WriteErrors += v.Stats.CacheWriteErrors
		for _, n := range v.Stats.CacheHits.Counts {
			sum.Hits += n
		}
		for _, n := range v.Stats.CacheMisses.Counts {
			sum.Misses += n
		}
	}
	return sum, nil
}

// readCacheStats reads a finished stage's compile cache figures into the
// report; a stage that compiled nothing (all cached by the engine) has the
// figures of the run that did. sccacheScript creates both files.
func (p *Pipeline) readCacheStats(ctx context.Context, rep *Report, ctr *dagger.Container, log, name string) {
	if p.cfg.CompileCache == nil {
		return
	}
	text, err := ctr.File(sccacheStatsFile(log)).Contents(ctx)
	if err != nil {
		rep.note(fmt.Sprintf("compile cache: %s: no statistics (%s)", name, firstLine(Describe(err))))
		return
	}
	stats, err := parseSccacheStats(text)
	if err != nil {
		rep.note(fmt.Sprintf("compile cache: %s: %v", name, err))
	}
	if notes, err := ctr.File(cacheNotesFile(log)).Contents(ctx); err == nil {
		for _, n := range strings.Split(strings.TrimSpace(notes), "\n") {
			if n != "" {
				rep.note("compile cache: " + name + ": " + n)
			}
		}
	}
	rep.setCacheStats(name, stats)
}

// ToolchainKey names the toolchain in the compile cache's keys: the recipe
// tag the registry knows it by (see ToolchainTag), or, for an image given
// by hand, a digest of its reference. sccache keys its entries by the
// compiler's own bytes too; this keeps each toolchain's packs apart, for
// erasing and so a run downloads only its own.
func ToolchainKey(ctx context.Context, c *dagger.Client, cfg Config) (string, error) {
	if cfg.ToolchainImage != "" && !cfg.ToolchainComplete {
		sum := sha256.Sum256([]byte(cfg.ToolchainImage))
		return "image-" + hex.EncodeToString(sum[:16]), nil
	}
	base := cfg.BaseImage
	if base == "" {
		base = DefaultBaseImage
	}
	ref, err := c.Container().From(base).ImageRef(ctx)
	if err != nil {
		return "", fmt.Errorf("the base image's digest: %s", Describe(err))
	}
	return ToolchainTag(RecipeDigest(ref, cfg.Project.BuildPackages, cfg.Targets)), nil
}
