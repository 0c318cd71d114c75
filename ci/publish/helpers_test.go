package publish

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/minio/minio-go/v7"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/testenv"
	"github.com/garage-release/garage-release/ci/version"
)

const testBinary = "garage"

// fakeBuild is a dist/ written by a test: what the pipeline would export.
type fakeBuild struct {
	Dir      string
	Manifest *manifest.Manifest
	// Docs maps a path under docs/ to its bytes.
	Docs map[string][]byte
}

// docsFiles is a small mdBook-like site, one file per content type the
// publisher must get right.
var docsFiles = []string{"index.html", "guide/install.html", "css/book.css", "book.js", "favicon.svg", "img/logo.png", "fonts/open-sans.woff2", "fonts/open-sans.woff", "searchindex.json"}

// writeDist writes a fake build of v for every target: random binaries,
// real SHA256SUMS and manifest.json, a docs site and the files that must not
// be uploaded (image.tar, index.html, releases.json).
func writeDist(t testing.TB, v string) fakeBuild {
	t.Helper()
	dir := t.TempDir()
	m := &manifest.Manifest{
		Version: v, Class: string(version.Classify(v)), Commit: strings.Repeat("ab", 20),
		Date: time.Now().UTC().Truncate(time.Second), Binary: testBinary, Docs: "docs/",
	}
	if m.Class == string(version.Development) {
		m.Commit = v
	}
	sums := manifest.Sums{}
	for _, tg := range target.All {
		data := randomBytes(t, 4096+int(randomBytes(t, 1)[0])*16)
		p := tg.BinaryPath(testBinary)
		writeFile(t, filepath.Join(dir, p), data)
		sum := sha256hex(data)
		sums[p] = sum
		m.Targets = append(m.Targets, manifest.Artifact{
			Target: tg.Name, Triple: tg.Triple, Platform: tg.Platform,
			Path: p, Size: int64(len(data)), SHA256: sum,
		})
	}
	writeFile(t, filepath.Join(dir, manifest.SumsName), sums.Format())
	for _, name := range []string{"check", "build-amd64"} {
		writeFile(t, filepath.Join(dir, "logs", name+".log"), []byte("$ cargo "+name+"\n   Compiling "+testBinary+"\n"))
		m.Logs = append(m.Logs, "logs/"+name+".log")
	}
	m.Warnings = []string{"clippy: 2 lint findings (logs/check.log)"}
	mdata, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, manifest.FileName), mdata)
	docs := map[string][]byte{}
	for _, f := range docsFiles {
		docs[f] = randomBytes(t, 100)
		writeFile(t, filepath.Join(dir, "docs", f), docs[f])
	}
	for _, f := range []string{"image.tar", "index.html", "releases.json"} {
		writeFile(t, filepath.Join(dir, f), randomBytes(t, 64))
	}
	return fakeBuild{Dir: dir, Manifest: m, Docs: docs}
}

// expectedKeys is every key a publish of b writes under prefix, index
// included.
func expectedKeys(prefix string, b fakeBuild) []string {
	v := b.Manifest.Version
	var keys []string
	for _, a := range b.Manifest.Targets {
		keys = append(keys, prefix+index.BinaryKey(v, a), prefix+index.ChecksumKey(v, a))
	}
	keys = append(keys, prefix+index.SumsKey(v), prefix+index.ManifestKey(v))
	for _, l := range b.Manifest.Logs {
		keys = append(keys, prefix+index.ReleasePrefix(v)+l)
	}
	for f := range b.Docs {
		keys = append(keys, prefix+index.DocsPrefix(v)+f)
	}
	sort.Strings(keys)
	return keys
}

func randomBytes(t testing.TB, n int) []byte {
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return b
}

func sha256hex(b []byte) string {
	s := sha256.Sum256(b)
	return hex.EncodeToString(s[:])
}

func writeFile(t testing.TB, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// testS3 is a fresh bucket on the test server and a Config for it.
type testS3 struct {
	env    testenv.S3Env
	bucket string
	cfg    Config
	mc     *minio.Client
}

func newTestS3(t testing.TB) testS3 {
	t.Helper()
	env := testenv.S3(t)
	bucket := testenv.NewBucket(t, env)
	return testS3{
		env: env, bucket: bucket, mc: env.Client(t),
		cfg: Config{Endpoint: env.URL(), Bucket: bucket, AccessKey: env.AccessKey, SecretKey: env.SecretKey},
	}
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	t.Cleanup(cancel)
	return ctx
}

// keys lists the bucket (under prefix), sorted.
func (s testS3) keys(t testing.TB, prefix string) []string {
	t.Helper()
	var keys []string
	for o := range s.mc.ListObjects(context.Background(), s.bucket, minio.ListObjectsOptions{Prefix: prefix, Recursive: true}) {
		if o.Err != nil {
			t.Fatalf("listing %s: %v", s.bucket, o.Err)
		}
		keys = append(keys, o.Key)
	}
	sort.Strings(keys)
	return keys
}

// get downloads an object, failing the test if it is absent.
func (s testS3) get(t testing.TB, key string) []byte {
	t.Helper()
	obj, err := s.mc.GetObject(context.Background(), s.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("get %s: %v", key, err)
	}
	return data
}

// stat returns an object's info, failing the test if it is absent.
func (s testS3) stat(t testing.TB, key string) minio.ObjectInfo {
	t.Helper()
	info, err := s.mc.StatObject(context.Background(), s.bucket, key, minio.StatObjectOptions{})
	if err != nil {
		t.Fatalf("stat %s: %v", key, err)
	}
	return info
}

// exists reports whether key is in the bucket.
func (s testS3) exists(t testing.TB, key string) bool {
	t.Helper()
	_, err := s.mc.StatObject(context.Background(), s.bucket, key, minio.StatObjectOptions{})
	if err != nil && !isNotFound(err) {
		t.Fatalf("stat %s: %v", key, err)
	}
	return err == nil
}

// releasesJSON is the part of _releases.json the tests read.
type releasesJSON struct {
	Format      int           `json:"format"`
	Latest      string        `json:"latest"`
	Stable      []jsonRelease `json:"stable"`
	Extra       []jsonRelease `json:"extra"`
	Development []jsonRelease `json:"development"`
}

type jsonRelease struct {
	manifest.Manifest
	Prefix string `json:"prefix"`
}

// indexJSON downloads and parses <prefix>_releases.json.
func (s testS3) indexJSON(t testing.TB, prefix string) releasesJSON {
	t.Helper()
	var r releasesJSON
	if err := json.Unmarshal(s.get(t, prefix+index.JSONKey), &r); err != nil {
		t.Fatalf("%s: %v", index.JSONKey, err)
	}
	return r
}

// versions returns every version in the index, by section.
func (r releasesJSON) versions() map[string]string {
	out := map[string]string{}
	for class, rs := range map[string][]jsonRelease{"stable": r.Stable, "extra": r.Extra, "development": r.Development} {
		for _, rel := range rs {
			out[rel.Version] = class
		}
	}
	return out
}

// snapshot is the index's bytes, to prove a failure left it alone.
func (s testS3) snapshot(t testing.TB, prefix string) string {
	t.Helper()
	var b strings.Builder
	for _, k := range []string{index.JSONKey, index.HTMLKey} {
		if s.exists(t, prefix+k) {
			b.WriteString(sha256hex(s.get(t, prefix+k)))
		} else {
			b.WriteString("absent")
		}
		b.WriteString(" ")
	}
	return b.String()
}
