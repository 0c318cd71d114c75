package compilecache

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"

	"dagger.io/dagger"
	"github.com/minio/minio-go/v7"

	"github.com/garage-release/garage-release/ci/publish"
)

// targetDir holds the target/ snapshots under Dir (see
// pipeline.TargetSnapshots):
//
//	<prefix>_cache/target/<toolchain>/<partition>/<sha256>.tar.zst
const targetDir = Dir + "target/"

// snapshotName is a snapshot's file name: its content's sha256.
var snapshotName = regexp.MustCompile(`^[0-9a-f]{64}\.tar\.zst$`)

// keepSnapshots is how many snapshots of a partition a trusted run leaves
// in S3 after writing one: the newest is restored; the one before serves
// a branch whose dependencies still differ, and bounds the bucket.
const keepSnapshots = 2

// snapshotKey is the key of a partition's snapshot whose sha256 is sum.
func (s *Store) snapshotKey(partition, sum string) string {
	return s.troot + partition + "/" + sum + ".tar.zst"
}

// ListSnapshots returns, per partition, its snapshots in S3, newest first.
// Keys not named like a snapshot are left out, never read.
func (s *Store) ListSnapshots(ctx context.Context, partitions []string) (map[string][]minio.ObjectInfo, error) {
	out := map[string][]minio.ObjectInfo{}
	for _, part := range partitions {
		objs, err := s.list(ctx, s.troot+part+"/")
		if err != nil {
			return nil, err
		}
		var snaps []minio.ObjectInfo
		for _, o := range objs {
			if snapshotName.MatchString(strings.TrimPrefix(o.Key, s.troot+part+"/")) {
				snaps = append(snaps, o)
			}
		}
		sort.SliceStable(snaps, func(i, j int) bool { return snaps[i].LastModified.After(snaps[j].LastModified) })
		out[part] = snaps
	}
	return out, nil
}

// SaveSnapshot uploads the snapshot file of partition under its sha256,
// unless S3 has it, then removes the partition's snapshots older than the
// keepSnapshots newest. It returns the bytes written and the sha256.
func (s *Store) SaveSnapshot(ctx context.Context, partition, file string) (int64, string, error) {
	sum, size, err := hashFile(file)
	if err != nil {
		return 0, "", err
	}
	key := s.snapshotKey(partition, sum)
	if s.HasSnapshot(ctx, partition, sum) {
		return 0, sum, nil
	}
	if _, err := s.mc.FPutObject(ctx, s.cfg.Bucket, key, file, minio.PutObjectOptions{ContentType: "application/zstd"}); err != nil {
		return 0, sum, publish.Explain(s.cfg, "upload", key, err)
	}
	listed, err := s.ListSnapshots(ctx, []string{partition})
	if err != nil {
		return size, sum, err
	}
	for i, o := range listed[partition] {
		if i < keepSnapshots || o.Key == key {
			continue
		}
		if err := s.removeSnapshot(ctx, o.Key); err != nil {
			return size, sum, err
		}
	}
	return size, sum, nil
}

// HasSnapshot says whether S3 holds the snapshot of partition whose
// sha256 is sum.
func (s *Store) HasSnapshot(ctx context.Context, partition, sum string) bool {
	return s.exists(ctx, s.snapshotKey(partition, sum))
}

// removeSnapshot deletes a snapshot key of this store; any other key is
// refused.
func (s *Store) removeSnapshot(ctx context.Context, key string) error {
	return s.removeKey(ctx, key, s.troot, snapshotName, "a target/ snapshot")
}

// snapshots serves the pipeline the newest snapshot of each partition
// (pipeline.TargetSnapshots), downloading it only when an empty volume
// asks, into a folder kept between runs: a laptop downloads each once.
type snapshots struct {
	store *Store
	// toEngine hands a local file to the engine.
	toEngine func(path string) *dagger.File
	dir      string
	trusted  bool // may remove a corrupted snapshot
	mu       sync.Mutex
	newest   map[string]minio.ObjectInfo
	fetched  map[string]int64 // bytes downloaded, by partition
	restored map[string]bool
}

// Has says whether S3 holds a usable snapshot of the partition.
func (n *snapshots) Has(partition string) bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	_, ok := n.newest[partition]
	return ok
}

// Fetch downloads the partition's newest snapshot unless the folder has
// it, checked against its name, and hands it to the engine. A corrupted
// one is forgotten (and, in a trusted run, removed), so that the run
// writes a good one in its place.
func (n *snapshots) Fetch(ctx context.Context, partition string) (*dagger.File, error) {
	n.mu.Lock()
	o, ok := n.newest[partition]
	n.mu.Unlock()
	if !ok {
		return nil, fmt.Errorf("no snapshot in S3")
	}
	local := filepath.Join(n.dir, partition)
	if err := os.MkdirAll(local, 0o755); err != nil {
		return nil, err
	}
	name := o.Key[strings.LastIndex(o.Key, "/")+1:]
	dest := filepath.Join(local, name)
	if _, err := os.Stat(dest); err != nil {
		// Only the snapshot in use is kept on this machine.
		entries, _ := os.ReadDir(local)
		for _, e := range entries {
			if snapshotName.MatchString(e.Name()) {
				os.Remove(filepath.Join(local, e.Name()))
			}
		}
		if err := n.store.download(ctx, o.Key, dest); err != nil {
			n.mu.Lock()
			delete(n.newest, partition)
			n.mu.Unlock()
			if n.trusted && isCorrupted(err) {
				if rerr := n.store.removeSnapshot(ctx, o.Key); rerr != nil {
					return nil, fmt.Errorf("%v; %v", err, rerr)
				}
			}
			return nil, err
		}
		n.mu.Lock()
		n.fetched[partition] = o.Size
		n.mu.Unlock()
	}
	n.mu.Lock()
	n.restored[partition] = true
	n.mu.Unlock()
	return n.toEngine(dest), nil
}
