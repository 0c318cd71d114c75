package main

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/klauspost/compress/zstd"
	"github.com/minio/minio-go/v7"

	"github.com/garage-release/garage-release/ci/testenv"
)

// cacheLine is a summary line of the compile cache for one stage.
var cacheLine = regexp.MustCompile(`  cache    (\S+(?: \S+)?)\s+(\d+) hits, (\d+) misses, (\d+) not cacheable`)

// cacheFigures reads the summary's compile cache lines: stage -> hits,
// misses.
func cacheFigures(stderr string) map[string][2]int {
	out := map[string][2]int{}
	for _, m := range cacheLine.FindAllStringSubmatch(stderr, -1) {
		h, _ := strconv.Atoi(m[2])
		mi, _ := strconv.Atoi(m[3])
		out[m[1]] = [2]int{h, mi}
	}
	return out
}

// bucketState maps every key of the bucket to its ETag.
func bucketState(t *testing.T, c *minio.Client, bucket string) map[string]string {
	t.Helper()
	out := map[string]string{}
	for o := range c.ListObjects(context.Background(), bucket, minio.ListObjectsOptions{Recursive: true}) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		out[o.Key] = o.ETag
	}
	return out
}

// TestE2ECompileCache: a release of a multi-crate fixture with C code
// writes the compile cache (packs and target/ snapshots) to the project's
// bucket; a release in a new cache namespace with the toolchain pulled by
// digest, an empty host and a new checkout (a fresh runner) starts from
// the snapshots, compiles nothing and gives the same binaries; without
// the snapshots it hits for every library crate; an edit and its revert
// give the cold bytes; an unreachable server and a corrupted pack and
// snapshot each give a warning and the same binaries; a read-only run
// writes nothing; no secret reaches the output; `cache erase` removes the
// cache and leaves the release and its page as they were.
func TestE2ECompileCache(t *testing.T) {
	requireEngine(t)
	s3env := testenv.S3(t)
	registry := testenv.Registry(t)
	bucket := testenv.NewBucket(t, s3env)
	client := s3env.Client(t)
	prefix := registry + "/cc-" + randomHex(t)
	vars := map[string]string{"AWS_ACCESS_KEY_ID": s3env.AccessKey, "AWS_SECRET_ACCESS_KEY": s3env.SecretKey, "CI": ""}
	s3 := []string{"--s3-endpoint", "http://" + s3env.Endpoint, "--s3-bucket", bucket, "--s3-region", s3env.Region}
	base := append([]string{"release", "--tag", "v0.9.0", "--targets", "amd64,arm64", "--registry", prefix, "--registry-insecure"}, s3...)
	releaseIn := func(dir, ns string, extra ...string) (string, []byte) {
		t.Helper()
		args := append(append(append([]string{}, base...), "--cache-namespace", ns), extra...)
		code, _, stderr := runCLIEnv(t, dir, vars, args...)
		if code != 0 {
			t.Fatalf("%s: release exited %d", ns, code)
		}
		return stderr, readFile(t, filepath.Join(dir, "dist", "SHA256SUMS"))
	}
	var lastNS string
	release := func(name string, extra ...string) (dir, stderr string, sums []byte) {
		t.Helper()
		lastNS = "e2e-cc-" + name + "-" + randomHex(t)
		// Each run has a host of its own: no pack kept from another run.
		t.Setenv("XDG_CACHE_HOME", t.TempDir())
		dir = checkoutFixture(t, "cworkspace", nil)
		args := append(append(append([]string{}, base...), "--cache-namespace", lastNS), extra...)
		code, _, stderr := runCLIEnv(t, dir, vars, args...)
		if code != 0 {
			t.Fatalf("%s: release exited %d", name, code)
		}
		return dir, stderr, readFile(t, filepath.Join(dir, "dist", "SHA256SUMS"))
	}
	cacheKeys := func() []string {
		var keys []string
		for k := range bucketState(t, client, bucket) {
			if strings.HasPrefix(k, "_cache/") {
				keys = append(keys, k)
			}
		}
		return keys
	}

	// A: writes the cache, and publishes (for the erase at the end).
	dirA, a, sums := release("write", "--publish")
	if !strings.Contains(a, "Compile cache: s3://"+bucket+"/_cache/sccache/recipe-") || !strings.Contains(a, "reads and writes") {
		t.Fatalf("the first release did not use the compile cache")
	}
	if len(cacheKeys()) == 0 {
		t.Fatal("the first release wrote no pack")
	}
	figA := cacheFigures(a)
	if figA["build amd64"][1] == 0 {
		t.Errorf("the first release compiled nothing through sccache: %v", figA)
	}
	searchTree(t, filepath.Join(dirA, "dist"), []string{s3env.SecretKey})
	if strings.Contains(a, s3env.SecretKey) {
		t.Error("the output shows the S3 secret key")
	}

	// The first run had no target/ snapshot in S3: it wrote one per stage.
	snapshotKeys := func() []string {
		var keys []string
		for _, k := range cacheKeys() {
			if strings.HasPrefix(k, "_cache/target/") && strings.HasSuffix(k, ".tar.zst") {
				keys = append(keys, k)
			}
		}
		return keys
	}
	if n := len(snapshotKeys()); n != 4 {
		t.Errorf("the first release wrote %d target/ snapshots, want 4 (check, test, two targets): %v", n, cacheKeys())
	}
	dropSnapshots := func() {
		for _, k := range snapshotKeys() {
			if err := client.RemoveObject(context.Background(), bucket, k, minio.RemoveObjectOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}

	// B: a fresh runner (new namespace, toolchain pulled, a new checkout
	// whose every file is newer than the snapshots) starts from the
	// target/ snapshots: nothing compiles, and the bytes are the same.
	dirB, b, sumsB := release("fresh")
	if !strings.Contains(b, "Toolchain: pulling "+prefix+"/cw-toolchain:recipe-") {
		t.Errorf("the fresh runner did not pull the toolchain")
	}
	for _, part := range []string{"check", "test", "x86_64-unknown-linux-gnu", "aarch64-unknown-linux-gnu"} {
		if !strings.Contains(b, part+" started from the target/ snapshot in S3") {
			t.Errorf("fresh runner: %s did not start from its snapshot", part)
		}
	}
	figB := cacheFigures(b)
	for _, stage := range []string{"build amd64", "build arm64", "test"} {
		if f, ok := figB[stage]; !ok || f[0]+f[1] != 0 {
			t.Errorf("fresh runner over the snapshots, %s compiled %d crates through sccache (%d hits, %d misses), want none: %v", stage, f[0]+f[1], f[0], f[1], figB)
		}
	}
	if !bytes.Equal(sums, sumsB) {
		t.Errorf("binaries built over the snapshots differ:\n%s\n%s", sums, sumsB)
	}
	if n := len(snapshotKeys()); n != 4 {
		t.Errorf("a run that compiled no dependency changed the snapshots: %d, want 4", n)
	}

	// B2: a fresh runner with the packs only (the snapshots erased): every
	// library crate is a hit, the same bytes; it writes the snapshots again.
	dropSnapshots()
	_, b2, sumsB2 := release("fresh-packs")
	figB2 := cacheFigures(b2)
	for _, stage := range []string{"build amd64", "build arm64", "test"} {
		f, ok := figB2[stage]
		if !ok || f[0] == 0 || f[1] != 0 {
			t.Errorf("fresh runner over the packs, %s: %d hits, %d misses (want every library crate a hit): %v", stage, f[0], f[1], figB2)
		}
	}
	if !bytes.Equal(sums, sumsB2) {
		t.Errorf("binaries built from the packs differ:\n%s\n%s", sums, sumsB2)
	}
	if n := len(snapshotKeys()); n != 4 {
		t.Errorf("with no snapshot in S3, a trusted run wrote %d, want 4", n)
	}
	// An edit, then its revert, on that runner: the revert is served from
	// the cache (S3's entries and the edit's own) and must give the
	// original bytes.
	nsB := lastNS
	lib := filepath.Join(dirB, "crates", "core", "src", "lib.rs")
	orig := readFile(t, lib)
	writeTestFile(t, lib, append(append([]byte{}, orig...), []byte("\n/// Added by the test.\npub fn added() -> u32 { 7 }\n")...))
	edited, _ := releaseIn(dirB, nsB)
	if f := cacheFigures(edited)["build amd64"]; f[1] == 0 {
		t.Errorf("the edit compiled nothing anew: %v", f)
	}
	writeTestFile(t, lib, orig)
	reverted, sumsR := releaseIn(dirB, nsB)
	if !bytes.Equal(sums, sumsR) {
		t.Errorf("after an edit and its revert the binaries differ from the cold build:\n%s\n%s\n%s", sums, sumsR, reverted)
	}

	// C: the cache server cannot be reached: a warning, the same binaries.
	var cArgs []string
	for i, a := range base {
		if i > 0 && base[i-1] == "--s3-endpoint" {
			a = "http://127.0.0.1:1"
		}
		cArgs = append(cArgs, a)
	}
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	dirC := checkoutFixture(t, "cworkspace", nil)
	code, _, c := runCLIEnv(t, dirC, vars, append(append([]string{}, cArgs...), "--cache-namespace", "e2e-cc-down-"+randomHex(t))...)
	if code != 0 || !strings.Contains(c, "Compile cache: warning: ") || !strings.Contains(c, "cannot reach 127.0.0.1:1") || !strings.Contains(c, "building without it") {
		t.Errorf("unreachable cache: exit %d, no warning", code)
	}
	if sumsC := readFile(t, filepath.Join(dirC, "dist", "SHA256SUMS")); !bytes.Equal(sums, sumsC) {
		t.Errorf("binaries built without a reachable cache differ:\n%s\n%s", sums, sumsC)
	}

	// D: the packs and the snapshot of one stage corrupted (every pack:
	// the edit above wrote one too, and one good pack would serve): a
	// warning each, that stage compiles, same binaries.
	var corrupted []string
	var corruptedSnap string
	for _, k := range cacheKeys() {
		if strings.Contains(k, "/x86_64-unknown-linux-gnu/") {
			if strings.HasPrefix(k, "_cache/sccache/") {
				corrupted = append(corrupted, k)
			}
			if strings.HasPrefix(k, "_cache/target/") {
				corruptedSnap = k
			}
		}
	}
	if len(corrupted) == 0 || corruptedSnap == "" {
		t.Fatalf("no pack or no snapshot for x86_64: %v", cacheKeys())
	}
	garbage := "not a pack"
	for _, k := range append([]string{corruptedSnap}, corrupted...) {
		if _, err := client.PutObject(context.Background(), bucket, k, strings.NewReader(garbage), int64(len(garbage)), minio.PutObjectOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	_, d, sumsD := release("corrupt")
	if !strings.Contains(d, "is corrupted") || !strings.Contains(d, "the target/ snapshot of x86_64-unknown-linux-gnu: ") {
		t.Errorf("a corrupted pack and snapshot gave no warning")
	}
	if f := cacheFigures(d)["build amd64"]; f[1] == 0 {
		t.Errorf("with its pack and snapshot corrupted, build amd64 had no miss: %v", f)
	}
	if !strings.Contains(d, "aarch64-unknown-linux-gnu started from the target/ snapshot in S3") {
		t.Errorf("a corrupted snapshot of one stage kept another from its own")
	}
	if !bytes.Equal(sums, sumsD) {
		t.Errorf("binaries built beside a corrupted pack differ:\n%s\n%s", sums, sumsD)
	}
	// The trusted run removed the corrupted packs and uploaded its own
	// (sccache's entries are not byte-stable, so under another name).
	state := bucketState(t, client, bucket)
	for _, k := range corrupted {
		if _, ok := state[k]; ok {
			t.Errorf("the corrupted pack %s is still there", k)
		}
	}
	var x86 int
	for k := range state {
		if strings.Contains(k, "_cache/sccache/") && strings.Contains(k, "/x86_64-unknown-linux-gnu/") {
			body := readObject(t, client, bucket, k)
			if sum := sha256.Sum256([]byte(body)); !strings.HasSuffix(k, hex.EncodeToString(sum[:])+".tar") {
				t.Errorf("%s does not hold the pack its name says", k)
			}
			x86++
		}
	}
	if x86 == 0 {
		t.Error("no pack for x86_64 after the corrupted one was replaced")
	}
	if _, ok := state[corruptedSnap]; ok {
		t.Errorf("the corrupted snapshot is still there")
	}
	var x86Snap int
	for _, k := range snapshotKeys() {
		if strings.Contains(k, "/x86_64-unknown-linux-gnu/") {
			body := readObject(t, client, bucket, k)
			if sum := sha256.Sum256([]byte(body)); !strings.HasSuffix(k, hex.EncodeToString(sum[:])+".tar.zst") {
				t.Errorf("%s does not hold the snapshot its name says", k)
			}
			x86Snap++
		}
	}
	if x86Snap != 1 {
		t.Errorf("%d snapshots for x86_64 after the corrupted one was replaced, want 1", x86Snap)
	}

	// E: read-only (a pull request): reads, writes nothing.
	before := bucketState(t, client, bucket)
	_, e, sumsE := release("readonly", "--cache", "read-only")
	if !strings.Contains(e, "reads only (--cache read-only)") {
		t.Errorf("the read-only run did not say so")
	}
	if !strings.Contains(e, "aarch64-unknown-linux-gnu started from the target/ snapshot in S3") {
		t.Errorf("read-only run, build arm64: not started from its snapshot")
	}
	if after := bucketState(t, client, bucket); len(after) != len(before) {
		t.Errorf("a read-only run wrote to the bucket: %d objects before, %d after", len(before), len(after))
	}
	if !bytes.Equal(sums, sumsE) {
		t.Errorf("read-only binaries differ")
	}

	// F: a snapshot made by another build of the toolchain (the same
	// recipe on another day: other compiler packages) is not restored: a
	// note, that stage compiles, the same binaries.
	var armSnap string
	for _, k := range snapshotKeys() {
		if strings.Contains(k, "/aarch64-unknown-linux-gnu/") {
			armSnap = k
		}
	}
	if armSnap == "" {
		t.Fatal("no snapshot for aarch64")
	}
	other := withToolchainIdentity(t, []byte(readObject(t, client, bucket, armSnap)), "another build of the toolchain\n")
	otherSum := sha256.Sum256(other)
	otherKey := armSnap[:strings.LastIndex(armSnap, "/")+1] + hex.EncodeToString(otherSum[:]) + ".tar.zst"
	if _, err := client.PutObject(context.Background(), bucket, otherKey, bytes.NewReader(other), int64(len(other)), minio.PutObjectOptions{}); err != nil {
		t.Fatal(err)
	}
	_, f, sumsF := release("other-toolchain", "--cache", "read-only")
	if !strings.Contains(f, "the target/ snapshot of aarch64-unknown-linux-gnu was made with another build of the toolchain") {
		t.Errorf("a snapshot of another toolchain gave no note")
	}
	if fig := cacheFigures(f)["build arm64"]; fig[0]+fig[1] == 0 {
		t.Errorf("build arm64 compiled nothing beside a snapshot of another toolchain: %v", fig)
	}
	if !strings.Contains(f, "x86_64-unknown-linux-gnu started from the target/ snapshot in S3") {
		t.Errorf("the other stages did not start from their snapshots")
	}
	if !bytes.Equal(sums, sumsF) {
		t.Errorf("binaries built beside a snapshot of another toolchain differ:\n%s\n%s", sums, sumsF)
	}

	// cache erase: the cache goes, every release file and the page stay.
	releaseFiles := map[string]string{}
	for k, v := range bucketState(t, client, bucket) {
		if !strings.HasPrefix(k, "_cache/") {
			releaseFiles[k] = v
		}
	}
	if _, ok := releaseFiles["_releases.html"]; !ok {
		t.Fatalf("the published release has no page: %v", releaseFiles)
	}
	code, out, _ := runCLIEnv(t, t.TempDir(), vars, append([]string{"cache", "erase"}, s3...)...)
	if code != 0 || !strings.Contains(out, "Nothing was removed: add --yes") || len(cacheKeys()) == 0 {
		t.Fatalf("erase without --yes: exit %d, %s", code, out)
	}
	code, out, _ = runCLIEnv(t, t.TempDir(), vars, append([]string{"cache", "erase", "--yes"}, s3...)...)
	if code != 0 || !strings.Contains(out, "Release files are untouched") {
		t.Fatalf("erase: exit %d, %s", code, out)
	}
	after := bucketState(t, client, bucket)
	if len(cacheKeys()) != 0 || len(after) != len(releaseFiles) {
		t.Errorf("after erase: %d cache objects, %d objects, want %d release files", len(cacheKeys()), len(after), len(releaseFiles))
	}
	for k, v := range releaseFiles {
		if after[k] != v {
			t.Errorf("erase changed %s", k)
		}
	}
}

// withToolchainIdentity returns the snapshot (a zstd-compressed tar) with
// the toolchain identity it carries replaced by identity.
func withToolchainIdentity(t *testing.T, snapshot []byte, identity string) []byte {
	t.Helper()
	dec, err := zstd.NewReader(bytes.NewReader(snapshot))
	if err != nil {
		t.Fatal(err)
	}
	defer dec.Close()
	var out bytes.Buffer
	enc, err := zstd.NewWriter(&out)
	if err != nil {
		t.Fatal(err)
	}
	tr, tw := tar.NewReader(dec), tar.NewWriter(enc)
	found := false
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("reading the snapshot: %v", err)
		}
		body, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if h.Name == "./.garage-release-toolchain" {
			body, found = []byte(identity), true
			h.Size = int64(len(body))
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		tw.Write(body)
	}
	if !found {
		t.Fatal("the snapshot carries no toolchain identity")
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	if err := enc.Close(); err != nil {
		t.Fatal(err)
	}
	return out.Bytes()
}
