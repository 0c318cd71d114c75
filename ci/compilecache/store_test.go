package compilecache

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"dagger.io/dagger"
	"github.com/minio/minio-go/v7"

	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/testenv"
)

// pack writes a tar holding the named entries and returns its path.
func pack(t *testing.T, dir string, entries map[string]string) string {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	names := make([]string, 0, len(entries))
	for n := range entries {
		names = append(names, n)
	}
	slices.Sort(names)
	for _, n := range names {
		tw.WriteHeader(&tar.Header{Name: n, Mode: 0o600, Size: int64(len(entries[n]))})
		tw.Write([]byte(entries[n]))
	}
	tw.Close()
	// Padded like GNU tar.
	for buf.Len()%10240 != 0 {
		buf.WriteByte(0)
	}
	p := filepath.Join(dir, "pack.tar")
	if err := os.WriteFile(p, buf.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func setup(t *testing.T) (publish.Config, *minio.Client) {
	env := testenv.S3(t)
	bucket := testenv.NewBucket(t, env)
	cfg := publish.Config{Endpoint: "http://" + env.Endpoint, Bucket: bucket, Prefix: "proj/", Region: env.Region, AccessKey: env.AccessKey, SecretKey: env.SecretKey}
	return cfg, env.Client(t)
}

func put(t *testing.T, c *minio.Client, bucket, key, body string) {
	t.Helper()
	if _, err := c.PutObject(context.Background(), bucket, key, strings.NewReader(body), int64(len(body)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
}

// TestSaveRestoreErase: a pack goes up once under its sha256, a fresh
// folder gets it back, a corrupted pack is refused with a warning, and
// erase removes the cache and nothing else.
func TestSaveRestoreErase(t *testing.T) {
	cfg, c := setup(t)
	ctx := context.Background()
	s, err := OpenStore(cfg, "recipe-abc")
	if err != nil {
		t.Fatal(err)
	}
	// Release files beside the cache: erase must leave them.
	release := []string{"proj/garage/v1.0.0/x86_64-unknown-linux-musl/garage", "proj/_releases/v1.0.0/manifest.json", "proj/index.html", "proj/_releases.json",
		// Not ours, though under _cache/: erase must leave it too.
		"proj/_cache/notes.txt", "proj/_cache/sccache/recipe-abc/test/not-a-pack.tar"}
	for _, k := range release {
		put(t, c, cfg.Bucket, k, "release "+k)
	}

	tmp := t.TempDir()
	p := pack(t, tmp, map[string]string{"./a/b/ab12": "entry one", "./c/d/cd34": "entry two"})
	n, _, err := s.Save(ctx, "x86_64-unknown-linux-gnu", p)
	if err != nil || n == 0 {
		t.Fatalf("first save: %d bytes, %v", n, err)
	}
	if n, _, err := s.Save(ctx, "x86_64-unknown-linux-gnu", p); err != nil || n != 0 {
		t.Fatalf("second save of the same pack: %d bytes written, %v; want 0 (it is there)", n, err)
	}
	empty := pack(t, t.TempDir(), nil)
	if n, _, err := s.Save(ctx, "test", empty); err != nil || n != 0 {
		t.Fatalf("an empty pack: %d bytes written, %v", n, err)
	}

	dir := t.TempDir()
	got, warns, err := s.Restore(ctx, dir, []string{"x86_64-unknown-linux-gnu", "test"})
	if err != nil || len(warns) != 0 || got["x86_64-unknown-linux-gnu"].Downloaded != 1 || got["test"].Packs != 0 {
		t.Fatalf("restore: %+v %v", got, warns)
	}
	data, _ := os.ReadFile(p)
	sum := sha256.Sum256(data)
	restored := filepath.Join(dir, "x86_64-unknown-linux-gnu", hex.EncodeToString(sum[:])+".tar")
	if back, err := os.ReadFile(restored); err != nil || !bytes.Equal(back, data) {
		t.Fatalf("restored pack differs: %v", err)
	}
	// Again: nothing to download.
	if got, _, _ := s.Restore(ctx, dir, []string{"x86_64-unknown-linux-gnu"}); got["x86_64-unknown-linux-gnu"].Downloaded != 0 {
		t.Fatalf("second restore downloaded again: %+v", got)
	}

	// A corrupted pack (its bytes no longer match its name) is left out.
	bad := strings.Repeat("0", 64) + ".tar"
	put(t, c, cfg.Bucket, "proj/_cache/sccache/recipe-abc/test/"+bad, "not the pack named")
	fresh := t.TempDir()
	got, warns, err = s.Restore(ctx, fresh, []string{"test"})
	if err != nil || len(warns) != 1 || !strings.Contains(warns[0], "corrupted") || got["test"].Downloaded != 0 || len(got["test"].Corrupted) != 1 {
		t.Fatalf("corrupted pack: %+v %v %v", got, warns, err)
	}
	if _, err := os.Stat(filepath.Join(fresh, "test", bad)); err == nil {
		t.Fatal("the corrupted pack was kept")
	}

	if err := s.Remove(ctx, "proj/index.html"); err == nil {
		t.Fatal("Remove took a key outside the cache")
	}
	groups, err := Stats(ctx, cfg)
	if err != nil || len(groups) != 3 || groups[0].Toolchain != "(other)" || groups[0].Objects != 2 || groups[1].Partition != "test" || groups[1].Objects != 1 || groups[2].Partition != "x86_64-unknown-linux-gnu" || groups[2].Objects != 1 {
		t.Fatalf("stats: %+v %v", groups, err)
	}

	// --older-than: nothing is that old.
	if done, err := Erase(ctx, cfg, time.Now().Add(-time.Hour)); err != nil || done.Objects != 0 {
		t.Fatalf("erase older than an hour: %+v %v", done, err)
	}
	done, err := Erase(ctx, cfg, time.Time{})
	if err != nil || done.Objects != 2 || done.Foreign != 2 {
		t.Fatalf("erase: %+v %v", done, err)
	}
	var left []string
	for o := range c.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Recursive: true}) {
		left = append(left, o.Key)
	}
	slices.Sort(left)
	want := slices.Clone(release)
	slices.Sort(want)
	if !slices.Equal(left, want) {
		t.Fatalf("after erase the bucket holds\n%v\nwant exactly the release files and what is not ours\n%v", left, want)
	}
	// A restore after the erase drops the local copy too.
	if got, _, _ := s.Restore(ctx, dir, []string{"x86_64-unknown-linux-gnu"}); got["x86_64-unknown-linux-gnu"].Packs != 0 {
		t.Fatalf("restore after erase: %+v", got)
	}
	if _, err := os.Stat(restored); err == nil {
		t.Fatal("the erased pack is still in the local folder")
	}
}

// TestRestoreUnreachable: a server that cannot be reached is one warning.
func TestRestoreUnreachable(t *testing.T) {
	s, err := OpenStore(publish.Config{Endpoint: "http://127.0.0.1:1", Bucket: "releases", AccessKey: "AKIDTEST", SecretKey: "not-a-real-secret", Region: "garage"}, "recipe-abc")
	if err != nil {
		t.Fatal(err)
	}
	got, warns, err := s.Restore(context.Background(), t.TempDir(), []string{"test", "check"})
	if err == nil || !strings.Contains(err.Error(), "cannot reach 127.0.0.1:1") || len(warns) != 0 || len(got) != 0 {
		t.Fatalf("%+v %v %v", got, warns, err)
	}
}

// TestRestoreRefused: a server that refuses the credentials is the error
// (the run builds without the cache), and it names what to check without
// showing the secret.
func TestRestoreRefused(t *testing.T) {
	cfg, _ := setup(t)
	cfg.SecretKey = "not-the-secret-key-of-this-server"
	s, err := OpenStore(cfg, "recipe-abc")
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = s.Restore(context.Background(), t.TempDir(), []string{"test"})
	if err == nil || !strings.Contains(err.Error(), "refused the credentials") || strings.Contains(err.Error(), cfg.SecretKey) {
		t.Fatalf("refused credentials: %v", err)
	}
}

// TestSnapshots: a target/ snapshot goes up once under its sha256, only
// the newest two of a partition stay, the newest is fetched once and
// checked, a corrupted one is refused and (in a trusted run) removed, and
// stats and erase know snapshots from what is not ours.
func TestSnapshots(t *testing.T) {
	cfg, c := setup(t)
	ctx := context.Background()
	s, err := OpenStore(cfg, "recipe-abc")
	if err != nil {
		t.Fatal(err)
	}
	const part = "aarch64-unknown-linux-gnu"
	foreign := []string{"proj/_cache/target/recipe-abc/" + part + "/notes.txt", "proj/garage/v1.0.0/x86_64-unknown-linux-musl/garage"}
	for _, k := range foreign {
		put(t, c, cfg.Bucket, k, "not a snapshot")
	}
	write := func(body string) (string, string) {
		p := filepath.Join(t.TempDir(), "snap")
		os.WriteFile(p, []byte(body), 0o644)
		sum := sha256.Sum256([]byte(body))
		return p, hex.EncodeToString(sum[:])
	}
	var sums []string
	for i, body := range []string{"first", "second", "third"} {
		if i > 0 {
			time.Sleep(1100 * time.Millisecond) // S3 times have a second's resolution
		}
		p, sum := write(body)
		sums = append(sums, sum)
		if n, got, err := s.SaveSnapshot(ctx, part, p); err != nil || n != int64(len(body)) || got != sum {
			t.Fatalf("save %s: %d bytes, %v", body, n, err)
		}
		if n, _, err := s.SaveSnapshot(ctx, part, p); err != nil || n != 0 {
			t.Fatalf("save %s again: %d bytes, %v; want 0 (it is there)", body, n, err)
		}
	}
	listed, err := s.ListSnapshots(ctx, []string{part, "test"})
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, o := range listed[part] {
		names = append(names, filepath.Base(o.Key))
	}
	if want := []string{sums[2] + ".tar.zst", sums[1] + ".tar.zst"}; !slices.Equal(names, want) || len(listed["test"]) != 0 {
		t.Fatalf("snapshots after three saves: %v (test: %v); want the newest two, newest first: %v", names, listed["test"], want)
	}

	handed := ""
	snaps := &snapshots{store: s, dir: t.TempDir(), trusted: true, toEngine: func(p string) *dagger.File { handed = p; return nil },
		newest: map[string]minio.ObjectInfo{part: listed[part][0]}, fetched: map[string]int64{}, restored: map[string]bool{}}
	if !snaps.Has(part) || snaps.Has("test") {
		t.Fatal("Has: wrong partitions")
	}
	if _, err := snaps.Fetch(ctx, part); err != nil {
		t.Fatal(err)
	}
	if data, err := os.ReadFile(handed); err != nil || string(data) != "third" || snaps.fetched[part] != 5 {
		t.Fatalf("fetched %q (%v), %d bytes counted; want the newest, \"third\"", data, err, snaps.fetched[part])
	}
	// On this machine already: not downloaded again.
	snaps.fetched = map[string]int64{}
	if _, err := snaps.Fetch(ctx, part); err != nil || snaps.fetched[part] != 0 {
		t.Fatalf("second fetch: %v, downloaded %d bytes", err, snaps.fetched[part])
	}

	// A corrupted snapshot is refused, forgotten and removed.
	bad := "proj/_cache/target/recipe-abc/test/" + strings.Repeat("0", 64) + ".tar.zst"
	put(t, c, cfg.Bucket, bad, "not the snapshot named")
	listed, _ = s.ListSnapshots(ctx, []string{"test"})
	snaps.newest["test"] = listed["test"][0]
	if _, err := snaps.Fetch(ctx, "test"); err == nil || !strings.Contains(err.Error(), "corrupted") {
		t.Fatalf("corrupted snapshot: %v", err)
	}
	if snaps.Has("test") {
		t.Fatal("a corrupted snapshot is still offered")
	}
	if _, err := c.StatObject(ctx, cfg.Bucket, bad, minio.StatObjectOptions{}); err == nil {
		t.Fatal("a trusted run left the corrupted snapshot in S3")
	}
	if err := s.removeSnapshot(ctx, foreign[0]); err == nil {
		t.Fatal("removeSnapshot took a key that is not a snapshot")
	}

	groups, err := Stats(ctx, cfg)
	if err != nil || len(groups) != 2 || groups[0].Kind != "(other)" || groups[1].Kind != "target" || groups[1].Partition != part || groups[1].Objects != 2 {
		t.Fatalf("stats: %+v %v", groups, err)
	}
	done, err := Erase(ctx, cfg, time.Time{})
	if err != nil || done.Objects != 2 || done.Foreign != 1 {
		t.Fatalf("erase: %+v %v", done, err)
	}
	for _, k := range foreign {
		if _, err := c.StatObject(ctx, cfg.Bucket, k, minio.StatObjectOptions{}); err != nil {
			t.Fatalf("erase removed %s: %v", k, err)
		}
	}
}
