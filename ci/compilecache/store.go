// Package compilecache keeps the compile cache (sccache's entries, and
// snapshots of the target/ volumes: see snapshot.go) in the project's S3
// bucket, so that a fresh CI runner starts warm the way Garage's runners
// do from its Nix cache in S3.
//
// Debian's sccache is built without any cloud storage, so sccache runs on
// a local disk cache inside the engine (a cache volume per stage), and this
// package moves that cache to and from S3 in packs: a pack is a tar of the
// entries one run added, named by its sha256, under
//
//	<prefix>_cache/sccache/<toolchain>/<partition>/<sha256>.tar
//
// A partition is what one cache volume serves ("check", "test", a target's
// triple). Restore downloads the packs a folder lacks and checks each one
// against its name; Save uploads a pack once. Neither ever fails a release:
// every problem comes back as a warning, and the build goes on without the
// cache. It runs on the host (or in the module's own container): the S3
// credentials never enter a build container.
package compilecache

import (
	"archive/tar"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/minio/minio-go/v7"
	"golang.org/x/sync/errgroup"

	"github.com/garage-release/garage-release/ci/publish"
)

// Dir is the folder, under the release prefix, of everything that is
// cache and not release: the page and _releases.json never list it, and
// `cache erase` removes only what is under it.
const Dir = "_cache/"

// sccacheDir holds sccache's packs under Dir.
const sccacheDir = Dir + "sccache/"

// packName is a pack's file name: its content's sha256.
var packName = regexp.MustCompile(`^[0-9a-f]{64}\.tar$`)

// Store is the compile cache of one toolchain in one bucket.
type Store struct {
	mc   *minio.Client
	cfg  publish.Config // normalised
	root string         // full key prefix of the toolchain's partitions
	// troot is the same for the toolchain's target/ snapshots.
	troot string
}

// OpenStore returns the store of toolchain (a digest naming the toolchain
// image's recipe) in the bucket cfg names. It contacts nothing.
func OpenStore(cfg publish.Config, toolchain string) (*Store, error) {
	if toolchain == "" || strings.ContainsAny(toolchain, "/ ") || strings.Contains(toolchain, "..") {
		return nil, fmt.Errorf("compile cache: toolchain key %q is not a folder name", toolchain)
	}
	mc, n, err := publish.Connect(cfg)
	if err != nil {
		return nil, err
	}
	return &Store{mc: mc, cfg: n, root: n.Prefix + sccacheDir + toolchain + "/", troot: n.Prefix + targetDir + toolchain + "/"}, nil
}

// Where names the store for messages: bucket and key prefix.
func (s *Store) Where() string { return fmt.Sprintf("s3://%s/%s", s.cfg.Bucket, s.root) }

// Restored is what Restore did for one partition.
type Restored struct {
	Packs      int   // packs in S3 for the partition
	Downloaded int   // of which downloaded now (the others were there)
	Bytes      int64 // bytes downloaded
	// Corrupted are the keys whose bytes are not the pack their name
	// says: left out (see Remove).
	Corrupted []string
}

// Restore makes dir/<partition>/ hold exactly the packs S3 holds for each
// partition: it downloads the missing ones, verified against their name,
// and removes local packs that S3 no longer has (erased). Only files named
// like a pack are ever removed. A pack that cannot be had is a warning;
// a listing that fails (the server is down or refuses) is the error.
func (s *Store) Restore(ctx context.Context, dir string, partitions []string) (map[string]Restored, []string, error) {
	out := map[string]Restored{}
	var warns []string
	var mu sync.Mutex
	warn := func(format string, args ...any) {
		mu.Lock()
		warns = append(warns, fmt.Sprintf(format, args...))
		mu.Unlock()
	}
	// All listings first: an unreachable or refusing server is one warning.
	listed := make([][]minio.ObjectInfo, len(partitions))
	for i, part := range partitions {
		objs, err := s.list(ctx, s.root+part+"/")
		if err != nil {
			return out, nil, err
		}
		listed[i] = objs
	}
	g, gctx := errgroup.WithContext(ctx)
	g.SetLimit(8)
	for i, part := range partitions {
		local := filepath.Join(dir, part)
		if err := os.MkdirAll(local, 0o755); err != nil {
			return out, nil, err
		}
		keep := map[string]bool{}
		out[part] = Restored{}
		for _, o := range listed[i] {
			name := strings.TrimPrefix(o.Key, s.root+part+"/")
			if !packName.MatchString(name) {
				continue // not ours: left alone, never read
			}
			keep[name] = true
			mu.Lock()
			r := out[part]
			r.Packs++
			out[part] = r
			mu.Unlock()
			dest := filepath.Join(local, name)
			if _, err := os.Stat(dest); err == nil {
				continue
			}
			key, size := o.Key, o.Size
			g.Go(func() error {
				if err := s.download(gctx, key, dest); err != nil {
					warn("%v: left out", err)
					if errors.Is(err, errCorrupted) {
						mu.Lock()
						r := out[part]
						r.Corrupted = append(r.Corrupted, key)
						out[part] = r
						mu.Unlock()
					}
					return nil
				}
				mu.Lock()
				r := out[part]
				r.Downloaded++
				r.Bytes += size
				out[part] = r
				mu.Unlock()
				return nil
			})
		}
		entries, _ := os.ReadDir(local)
		for _, e := range entries {
			if packName.MatchString(e.Name()) && !keep[e.Name()] {
				os.Remove(filepath.Join(local, e.Name()))
			}
		}
	}
	g.Wait()
	sort.Strings(warns)
	return out, warns, nil
}

// errCorrupted marks a pack whose bytes are not what its name says.
var errCorrupted = errors.New("corrupted")

func isCorrupted(err error) bool { return errors.Is(err, errCorrupted) }

// Remove deletes a pack key of this store (a corrupted one, so that a
// good copy can take its name); a key outside the store is refused.
func (s *Store) Remove(ctx context.Context, key string) error {
	return s.removeKey(ctx, key, s.root, packName, "a pack")
}

// removeKey deletes key when it is under root and named like name; any
// other key is refused (what says what it should have been).
func (s *Store) removeKey(ctx context.Context, key, root string, name *regexp.Regexp, what string) error {
	if !strings.HasPrefix(key, root) || !name.MatchString(key[strings.LastIndex(key, "/")+1:]) {
		return fmt.Errorf("refusing to remove %s: not %s under %s", key, what, root)
	}
	if err := s.mc.RemoveObject(ctx, s.cfg.Bucket, key, minio.RemoveObjectOptions{}); err != nil {
		return publish.Explain(s.cfg, "remove", key, err)
	}
	return nil
}

// exists says whether S3 holds key.
func (s *Store) exists(ctx context.Context, key string) bool {
	_, err := s.mc.StatObject(ctx, s.cfg.Bucket, key, minio.StatObjectOptions{})
	return err == nil
}

// download fetches key into dest through a temporary file, and keeps it
// only when its sha256 is its name: a corrupted or truncated pack is never
// handed to a build.
func (s *Store) download(ctx context.Context, key, dest string) error {
	obj, err := s.mc.GetObject(ctx, s.cfg.Bucket, key, minio.GetObjectOptions{})
	if err != nil {
		return publish.Explain(s.cfg, "download", key, err)
	}
	defer obj.Close()
	tmp, err := os.CreateTemp(filepath.Dir(dest), ".download-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	h := sha256.New()
	if _, err := io.Copy(io.MultiWriter(tmp, h), obj); err != nil {
		tmp.Close()
		return publish.Explain(s.cfg, "download", key, err)
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	// The name is <sha256>.tar (a pack) or <sha256>.tar.zst (a snapshot).
	sum := hex.EncodeToString(h.Sum(nil))
	if name, _, _ := strings.Cut(filepath.Base(dest), "."); sum != name {
		return fmt.Errorf("%s is %w (its sha256 is %s)", key, errCorrupted, sum)
	}
	return os.Rename(tmp.Name(), dest)
}

// Save uploads the pack file of partition under its sha256, unless S3 has
// it already; it returns the bytes written and the sha256. An empty pack
// (a tar with no entry) is not uploaded.
func (s *Store) Save(ctx context.Context, partition, file string) (int64, string, error) {
	sum, size, err := hashFile(file)
	if err != nil {
		return 0, "", err
	}
	if empty, err := emptyTar(file); err != nil || empty {
		return 0, sum, err
	}
	if s.Has(ctx, partition, sum) {
		return 0, sum, nil
	}
	key := s.root + partition + "/" + sum + ".tar"
	_, err = s.mc.FPutObject(ctx, s.cfg.Bucket, key, file, minio.PutObjectOptions{ContentType: "application/x-tar"})
	if err != nil {
		return 0, sum, publish.Explain(s.cfg, "upload", key, err)
	}
	return size, sum, nil
}

// Has says whether S3 holds the pack of partition whose sha256 is sum.
func (s *Store) Has(ctx context.Context, partition, sum string) bool {
	return s.exists(ctx, s.root+partition+"/"+sum+".tar")
}

// emptyTar says whether a tar file has no entry (a stage that added
// nothing to the cache).
func emptyTar(p string) (bool, error) {
	f, err := os.Open(p)
	if err != nil {
		return false, err
	}
	defer f.Close()
	_, err = tar.NewReader(f).Next()
	if err == io.EOF {
		return true, nil
	}
	if err != nil {
		return false, fmt.Errorf("pack %s: %w", p, err)
	}
	return false, nil
}

func hashFile(p string) (string, int64, error) { return publish.HashFile(p) }

func (s *Store) list(ctx context.Context, prefix string) ([]minio.ObjectInfo, error) {
	return listAll(ctx, s.mc, s.cfg, prefix)
}

func listAll(ctx context.Context, mc *minio.Client, cfg publish.Config, prefix string) ([]minio.ObjectInfo, error) {
	var out []minio.ObjectInfo
	for o := range mc.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			return nil, publish.Explain(cfg, "list", prefix, o.Err)
		}
		if !strings.HasSuffix(o.Key, "/") {
			out = append(out, o)
		}
	}
	return out, nil
}

// Other groups, in Stats, what is under the cache folder but not a pack
// or snapshot of ours: Erase leaves it.
const Other = "(other)"

// Group is what `cache stats` shows for one kind (sccache packs, target/
// snapshots), toolchain and partition.
type Group struct {
	Kind, Toolchain, Partition string
	Objects                    int
	Bytes                      int64
	Oldest, Newest             time.Time
}

// Stats lists everything under the cache folder of the bucket cfg names,
// grouped by toolchain and partition.
func Stats(ctx context.Context, cfg publish.Config) ([]Group, error) {
	mc, n, err := publish.Connect(cfg)
	if err != nil {
		return nil, err
	}
	objs, err := listAll(ctx, mc, n, n.Prefix+Dir)
	if err != nil {
		return nil, err
	}
	groups := map[string]*Group{}
	var order []string
	for _, o := range objs {
		kind, tc, part := Other, Other, Other
		if rel := strings.TrimPrefix(o.Key, n.Prefix+Dir); isPack(rel) {
			parts := strings.Split(rel, "/")
			kind, tc, part = parts[0], parts[1], parts[2]
		}
		k := kind + "/" + tc + "/" + part
		g, ok := groups[k]
		if !ok {
			g = &Group{Kind: kind, Toolchain: tc, Partition: part, Oldest: o.LastModified}
			groups[k] = g
			order = append(order, k)
		}
		g.Objects++
		g.Bytes += o.Size
		if o.LastModified.Before(g.Oldest) {
			g.Oldest = o.LastModified
		}
		if o.LastModified.After(g.Newest) {
			g.Newest = o.LastModified
		}
	}
	sort.Strings(order)
	out := make([]Group, 0, len(order))
	for _, k := range order {
		out = append(out, *groups[k])
	}
	return out, nil
}

// Erased is what Erase removed, and what it left because it is not a
// pack of ours.
type Erased struct {
	Objects int
	Bytes   int64
	Foreign int
}

// isPack says whether rel, a key under Dir, is a pack as Save writes it,
// sccache/<toolchain>/<partition>/<sha256>.tar, or a snapshot as
// SaveSnapshot does, target/<toolchain>/<partition>/<sha256>.tar.zst.
func isPack(rel string) bool {
	parts := strings.Split(rel, "/")
	if len(parts) != 4 || parts[1] == "" || parts[2] == "" || strings.Contains(rel, "..") {
		return false
	}
	switch parts[0] {
	case "sccache":
		return packName.MatchString(parts[3])
	case "target":
		return snapshotName.MatchString(parts[3])
	}
	return false
}

// Erase removes the packs under the cache folder of the bucket cfg names,
// those last written before cutoff when it is not zero. Every key is
// checked to be a pack of ours before it is removed: a release file, or
// anything else someone keeps under _cache/, is never touched, whatever
// the listing returns (Erased.Foreign counts what was left).
func Erase(ctx context.Context, cfg publish.Config, cutoff time.Time) (Erased, error) {
	mc, n, err := publish.Connect(cfg)
	if err != nil {
		return Erased{}, err
	}
	root := n.Prefix + Dir
	objs, err := listAll(ctx, mc, n, root)
	if err != nil {
		return Erased{}, err
	}
	var done Erased
	for _, o := range objs {
		if !strings.HasPrefix(o.Key, root) || !isPack(strings.TrimPrefix(o.Key, root)) {
			done.Foreign++
			continue
		}
		if !cutoff.IsZero() && !o.LastModified.Before(cutoff) {
			continue
		}
		if err := mc.RemoveObject(ctx, n.Bucket, o.Key, minio.RemoveObjectOptions{}); err != nil {
			return done, publish.Explain(n, "remove", o.Key, err)
		}
		done.Objects++
		done.Bytes += o.Size
	}
	return done, nil
}
