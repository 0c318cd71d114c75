package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"
	"github.com/minio/minio-go/v7"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/testenv"
	"github.com/garage-release/garage-release/ci/version"
)

// fakeDist writes, under dir/dist, what 'release' exports for version v
// from commit: two binaries, SHA256SUMS, manifest.json and a real
// multi-platform image.tar. It returns the image index digest.
func fakeDist(t *testing.T, dir, v, commit string) string {
	t.Helper()
	dist := filepath.Join(dir, "dist")
	m := &manifest.Manifest{Version: v, Class: string(version.Classify(v)), Commit: commit, Date: time.Now().UTC().Truncate(time.Second), Binary: "kvstore"}
	sums := manifest.Sums{}
	for _, tg := range target.All[:2] {
		data := []byte(tg.Name + " binary of " + v + " " + randomHex(t))
		path := tg.BinaryPath(m.Binary)
		writeTestFile(t, filepath.Join(dist, path), data)
		sum := sha256.Sum256(data)
		sums[path] = hex.EncodeToString(sum[:])
		m.Targets = append(m.Targets, manifest.Artifact{Target: tg.Name, Triple: tg.Triple, Platform: tg.Platform, Path: path, Size: int64(len(data)), SHA256: sums[path]})
	}
	writeTestFile(t, filepath.Join(dist, manifest.SumsName), sums.Format())
	// What the pipeline records of the build, and an SBOM to upload.
	m.Build = &manifest.Build{Toolchain: "recipe:sha256:" + strings.Repeat("ab", 32), BaseImage: "debian:trixie@sha256:" + strings.Repeat("cd", 32)}
	m.SBOM = manifest.SBOMName
	writeTestFile(t, filepath.Join(dist, manifest.SBOMName), []byte(`{"bomFormat":"CycloneDX","specVersion":"1.6"}`+"\n"))
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dist, manifest.FileName), data)
	img, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	// As the engine writes it: index.json names one multi-platform index.
	idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
	return testenv.ImageTarball(t, filepath.Join(dist, publish.ImageTarball), idx)
}

func writeTestFile(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// publishWorld is a real bucket and a repository prefix on a real registry.
type publishWorld struct {
	s3     testenv.S3Env
	bucket string
	prefix string // registry prefix, host:port/namespace
}

func newPublishWorld(t *testing.T) publishWorld {
	s3 := testenv.S3(t)
	return publishWorld{s3: s3, bucket: testenv.NewBucket(t, s3), prefix: testenv.Registry(t) + "/cli-" + randomHex(t)[:8]}
}

func (w publishWorld) cli(t *testing.T) *cli {
	c := newCLI(t)
	c.vars["AWS_ACCESS_KEY_ID"] = w.s3.AccessKey
	c.vars["AWS_SECRET_ACCESS_KEY"] = w.s3.SecretKey
	return c
}

func (w publishWorld) flags(extra ...string) []string {
	return append([]string{"--s3-endpoint", w.s3.URL(), "--s3-bucket", w.bucket, "--registry", w.prefix, "--registry-insecure"}, extra...)
}

func (w publishWorld) tag(t *testing.T, repo, tag string) string {
	t.Helper()
	d, err := (&publish.Registry{Repo: repo}).TagDigest(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (w publishWorld) tags(t *testing.T, repo string) []string {
	t.Helper()
	tags, err := publish.ListTags(context.Background(), repo, authn.Anonymous, false)
	if err != nil {
		t.Fatal(err)
	}
	return tags
}

func (w publishWorld) keys(t *testing.T) []string {
	t.Helper()
	var keys []string
	for o := range w.s3.Client(t).ListObjects(context.Background(), w.bucket, minioListAll) {
		if o.Err != nil {
			t.Fatal(o.Err)
		}
		keys = append(keys, o.Key)
	}
	return keys
}

// A misconfigured 'release --publish' fails in the preflight, before the
// engine is contacted, naming the end that failed; nothing is published.
func TestReleasePublishChecksBothEndsBeforeBuilding(t *testing.T) {
	w := newPublishWorld(t)
	login := testenv.LoginRegistry(t)
	// v9.9.1 is out, from another commit.
	seed := w.cli(t)
	fakeDist(t, seed.dir, "v9.9.1", strings.Repeat("ab", 20))
	if code, _, stderr := seed.run(append([]string{"publish"}, w.flags()...)...); code != exitOK {
		t.Fatalf("publish --dist exited %d:\n%s", code, stderr)
	}
	repo := w.prefix + "/kvstore"
	before, keysBefore := w.tags(t, repo), w.keys(t)

	commit := strings.Repeat("cd", 20)
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want []string
	}{
		{"wrong region", []string{"--tag", "v9.9.2", "--s3-region", "mars-north-1"}, nil, []string{"S3:", "--s3-region", "Nothing was built or published"}},
		{"wrong keys", []string{"--tag", "v9.9.2"}, map[string]string{"AWS_SECRET_ACCESS_KEY": "wrong"}, []string{"S3:", "AWS_SECRET_ACCESS_KEY"}},
		{"missing bucket", []string{"--tag", "v9.9.2", "--s3-bucket", "gr-no-such-bucket"}, nil, []string{"S3:", "does not exist"}},
		{"registry refuses the login", []string{"--tag", "v9.9.2", "--registry", login.Host + "/ns"}, map[string]string{"REGISTRY_USERNAME": login.User, "REGISTRY_PASSWORD": "wrong"}, []string{"registry:", "REGISTRY_PASSWORD"}},
		{"stable already published", []string{"--tag", "v9.9.1"}, nil, []string{"already published", "--force"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := w.cli(t)
			for k, v := range tc.vars {
				c.vars[k] = v
			}
			args := append([]string{"release", "--publish", "--commit", commit}, w.flags(tc.args...)...)
			code, _, stderr := c.run(args...)
			t.Logf("stderr:\n%s", stderr)
			if code != exitFailure {
				t.Errorf("exit %d, want %d", code, exitFailure)
			}
			if c.dialed {
				t.Error("the engine was contacted: the check must come before the build")
			}
			for _, s := range tc.want {
				if !strings.Contains(stderr, s) {
					t.Errorf("stderr does not say %q", s)
				}
			}
			if got := w.tags(t, repo); strings.Join(got, " ") != strings.Join(before, " ") {
				t.Errorf("tags changed: %v, then %v", before, got)
			}
			if got := w.keys(t); strings.Join(got, " ") != strings.Join(keysBefore, " ") {
				t.Errorf("the bucket changed: %v, then %v", keysBefore, got)
			}
		})
	}
	// With everything right, the preflight passes and the engine is next.
	c := w.cli(t)
	code, _, stderr := c.run(append([]string{"release", "--publish", "--commit", commit}, w.flags("--tag", "v9.9.2")...)...)
	if !c.dialed || code != exitFailure || !strings.Contains(stderr, "can be listed and written") {
		t.Errorf("a good configuration: exit %d, dialed %t:\n%s", code, c.dialed, stderr)
	}
}

// 'publish --dist' and 'promote' from the command line: the image goes out
// by digest and is tagged after the manifest, and promote moves latest as
// a release does, so the page and the registry agree.
func TestPublishAndPromoteMoveLatest(t *testing.T) {
	w := newPublishWorld(t)
	repo := w.prefix + "/kvstore"
	stable := w.cli(t)
	stableDigest := fakeDist(t, stable.dir, "v9.9.1", strings.Repeat("ab", 20))
	if code, _, stderr := stable.run(append([]string{"publish"}, w.flags()...)...); code != exitOK {
		t.Fatalf("publish v9.9.1 exited %d:\n%s", code, stderr)
	}
	commit := strings.Repeat("0123456789", 4)
	dev := w.cli(t)
	devDigest := fakeDist(t, dev.dir, commit, commit)
	if code, _, stderr := dev.run(append([]string{"publish"}, w.flags()...)...); code != exitOK {
		t.Fatalf("publish of the development build exited %d:\n%s", code, stderr)
	}
	if got := w.tag(t, repo, "latest"); got != stableDigest {
		t.Fatalf("latest = %s, want v9.9.1's %s", got, stableDigest)
	}
	c := w.cli(t)
	code, _, stderr := c.run(append([]string{"promote", "--from", commit, "--to", "v9.9.2"}, w.flags()...)...)
	if code != exitOK {
		t.Fatalf("promote exited %d:\n%s", code, stderr)
	}
	if got := w.tag(t, repo, "v9.9.2"); got != devDigest {
		t.Errorf("v9.9.2 = %s, want the build's %s", got, devDigest)
	}
	if got := w.tag(t, repo, "latest"); got != devDigest {
		t.Errorf("after promote latest = %s, want v9.9.2's %s", got, devDigest)
	}
	page := readObject(t, w.s3.Client(t), w.bucket, "_releases.json")
	if !strings.Contains(page, `"latest": "v9.9.2"`) {
		t.Errorf("the page's latest is not v9.9.2:\n%s", page)
	}
}

var minioListAll = minio.ListObjectsOptions{Recursive: true}
