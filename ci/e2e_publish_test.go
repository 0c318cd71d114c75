package main

import (
	"archive/tar"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/minio/minio-go/v7"

	"github.com/garage-release/garage-release/ci/testenv"
)

// TestE2EPublishKeepsSecrets publishes a release to a real S3 server and a
// real registry with known secret values, then searches everything the run
// produced for them. It also checks the registry side: one index with four
// platforms under the version tag, and latest moved only by a higher stable.
func TestE2EPublishKeepsSecrets(t *testing.T) {
	requireEngine(t)
	s3 := testenv.S3(t)
	reg := testenv.Registry(t)
	bucket := testenv.NewBucket(t, s3)
	password := "regpw-" + randomHex(t)
	vars := map[string]string{
		"AWS_ACCESS_KEY_ID": s3.AccessKey, "AWS_SECRET_ACCESS_KEY": s3.SecretKey,
		"REGISTRY_USERNAME": "releaser", "REGISTRY_PASSWORD": password,
	}
	secrets := []string{s3.SecretKey, password}
	repoPrefix := reg + "/e2e-" + randomHex(t)[:8]
	work := t.TempDir()
	publishArgs := func(tag string, extra ...string) []string {
		return append([]string{"release", "--publish", "--tag", tag, "--out", "dist",
			"--s3-endpoint", s3.URL(), "--s3-bucket", bucket,
			"--registry", repoPrefix, "--registry-insecure"}, extra...)
	}
	code, stdout, stderr := runCLIEnv(t, work, vars, publishArgs("v0.0.3")...)
	if code != 0 {
		t.Fatalf("release --publish exited %d", code)
	}
	for _, s := range secrets {
		if strings.Contains(stdout, s) || strings.Contains(stderr, s) {
			t.Errorf("a secret appears in the output")
		}
	}
	searchTree(t, filepath.Join(work, "dist"), secrets)

	// The bucket: the page lists the release, and no object holds a secret.
	c := s3.Client(t)
	ctx := context.Background()
	page := readObject(t, c, bucket, "_releases.html")
	if !strings.Contains(page, "v0.0.3") {
		t.Errorf("_releases.html does not list v0.0.3")
	}
	for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Recursive: true}) {
		body := readObject(t, c, bucket, obj.Key)
		for _, s := range secrets {
			if strings.Contains(body, s) {
				t.Errorf("object %s contains a secret", obj.Key)
			}
		}
	}

	// The registry: an index with the four platforms, and latest on it.
	repo := repoPrefix + "/kvstore"
	idx := remoteIndex(t, repo+":v0.0.3")
	latest := remoteIndex(t, repo+":latest")
	if idx.digest != latest.digest {
		t.Errorf("latest (%s) is not v0.0.3 (%s) after the first stable release", latest.digest, idx.digest)
	}
	sort.Strings(idx.platforms)
	if got := strings.Join(idx.platforms, " "); got != "linux/386 linux/amd64 linux/arm/v5 linux/arm64" {
		t.Errorf("v0.0.3 platforms: %s", got)
	}
	// A lower stable version is published but latest stays on v0.0.3.
	code, _, _ = runCLIEnv(t, work, vars, publishArgs("v0.0.2", "--targets", "amd64")...)
	if code != 0 {
		t.Fatalf("publishing v0.0.2 exited %d", code)
	}
	if got := remoteIndex(t, repo+":latest").digest; got != idx.digest {
		t.Errorf("latest moved to a lower version: %s", got)
	}
	// One target: the engine's tarball lists the image alone; the pushed
	// index still names its platform, so a client can pick it.
	if got := strings.Join(remoteIndex(t, repo+":v0.0.2").platforms, " "); got != "linux/amd64" {
		t.Errorf("v0.0.2 platforms: %q, want linux/amd64", got)
	}

	// A registry that cannot be reached: the release fails before the
	// build, and the bucket holds nothing of it.
	before := readObject(t, c, bucket, "_releases.json")
	args := publishArgs("v0.0.9", "--targets", "amd64")
	for i, a := range args {
		if a == repoPrefix {
			args[i] = "127.0.0.1:1/refused"
		}
	}
	code, _, stderr = runCLIEnv(t, work, vars, args...)
	if code != exitFailure || !strings.Contains(stderr, "registry:") || !strings.Contains(stderr, "Nothing was built or published") || strings.Contains(stderr, "start    ") {
		t.Errorf("an unreachable registry: exit %d, want %d with a message naming the registry, before any stage starts", code, exitFailure)
	}
	if after := readObject(t, c, bucket, "_releases.json"); after != before {
		t.Errorf("the release page changed after a refused push")
	}
	for obj := range c.ListObjects(ctx, bucket, minio.ListObjectsOptions{Prefix: "_releases/v0.0.9/", Recursive: true}) {
		t.Errorf("object %s uploaded for a release whose push was refused", obj.Key)
	}
}

// TestE2EInterrupt sends SIGINT to a running release: it stops, says so,
// prints what was done and exports nothing.
func TestE2EInterrupt(t *testing.T) {
	requireEngine(t)
	bin := filepath.Join(t.TempDir(), "garage-release")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	work := t.TempDir()
	// A fresh cache namespace keeps the builds busy long enough to interrupt.
	cmd := exec.Command(bin, "release", "--tag", "v0.0.4-interrupt", "--cache-namespace", "interrupt-"+randomHex(t))
	cmd.Dir = work
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var log bytes.Buffer
	sc := bufio.NewScanner(stderr)
	sent := false
	for sc.Scan() {
		line := sc.Text()
		log.WriteString(line + "\n")
		if !sent && strings.Contains(line, "start    build") {
			time.Sleep(2 * time.Second)
			cmd.Process.Signal(syscall.SIGINT)
			sent = true
		}
	}
	err = cmd.Wait()
	if !sent {
		t.Fatalf("the release never started a build:\n%s", log.String())
	}
	if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != exitFailure {
		t.Errorf("exit: %v, want code %d", err, exitFailure)
	}
	for _, want := range []string{"Summary:", "canceled build", "interrupted", "nothing was exported or published"} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("output lacks %q:\n%s", want, log.String())
		}
	}
	if _, err := os.Stat(filepath.Join(work, "dist")); !os.IsNotExist(err) {
		t.Errorf("an interrupted release left dist/")
	}
}

func randomHex(t *testing.T) string {
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// searchTree looks for secrets in every file under dir, and inside every
// layer of every OCI tarball there.
func searchTree(t *testing.T, dir string, secrets []string) {
	t.Helper()
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		searchBytes(t, p, data, secrets)
		if strings.HasSuffix(p, ".tar") {
			tr := tar.NewReader(bytes.NewReader(data))
			for {
				h, err := tr.Next()
				if err != nil {
					break
				}
				blob, _ := io.ReadAll(tr)
				searchBytes(t, p+":"+h.Name, blob, secrets)
				if zr, err := gzip.NewReader(bytes.NewReader(blob)); err == nil {
					if layer, err := io.ReadAll(zr); err == nil {
						searchBytes(t, p+":"+h.Name+" (unpacked)", layer, secrets)
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

func searchBytes(t *testing.T, where string, data []byte, secrets []string) {
	for _, s := range secrets {
		if bytes.Contains(data, []byte(s)) {
			t.Errorf("%s contains a secret", where)
		}
	}
}

func readObject(t *testing.T, c *minio.Client, bucket, key string) string {
	t.Helper()
	obj, err := c.GetObject(context.Background(), bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("read %s: %v", key, err)
	}
	return string(data)
}

type remoteImage struct {
	digest    string
	platforms []string
}

func remoteIndex(t *testing.T, ref string) remoteImage {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	idx, err := remote.Index(r)
	if err != nil {
		t.Fatalf("read %s: %v", ref, err)
	}
	d, _ := idx.Digest()
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	out := remoteImage{digest: d.String()}
	for _, m := range im.Manifests {
		if m.Platform != nil {
			out.platforms = append(out.platforms, m.Platform.String())
		}
	}
	return out
}

// TestE2EToolchainImage pushes the toolchain with `toolchain --publish`
// and builds with `--toolchain-image`, which pulls it instead of building.
func TestE2EToolchainImage(t *testing.T) {
	requireEngine(t)
	ref := testenv.Registry(t) + "/e2e-" + randomHex(t)[:8] + "/toolchain:1"
	work := t.TempDir()
	code, stdout, _ := runCLI(t, work, "toolchain", "--publish", ref)
	if code != 0 {
		t.Fatalf("toolchain --publish exited %d", code)
	}
	if !strings.Contains(stdout, ref+"@sha256:") {
		t.Errorf("toolchain --publish did not print the pushed reference with its digest: %q", stdout)
	}
	pushed := remoteImageDigest(t, ref)
	code, _, stderr := runCLI(t, work, "build", "--targets", "arm64", "--tag", "v0.0.11", "--toolchain-image", ref)
	if code != 0 {
		t.Fatalf("build --toolchain-image exited %d", code)
	}
	checkDistBinary(t, filepath.Join(work, "dist"), "arm64")
	if !strings.Contains(stderr, "ok       toolchain") {
		t.Errorf("no toolchain stage in the build's progress")
	}
	if got := remoteImageDigest(t, ref); got != pushed {
		t.Errorf("the toolchain image changed under its reference: %s, then %s", pushed, got)
	}
}

func remoteImageDigest(t *testing.T, ref string) string {
	t.Helper()
	r, err := name.ParseReference(ref, name.Insecure)
	if err != nil {
		t.Fatal(err)
	}
	d, err := remote.Head(r)
	if err != nil {
		t.Fatalf("read %s: %v", ref, err)
	}
	return d.Digest.String()
}
