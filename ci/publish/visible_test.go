package publish

import (
	"context"
	"fmt"
	"maps"
	"net/http"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/authn"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/testenv"
)

// randomIndex is a multi-platform image index of small random images, one
// per target platform.
func randomIndex(t testing.TB) v1.ImageIndex {
	t.Helper()
	idx := mutate.IndexMediaType(empty.Index, types.OCIImageIndex)
	for _, tg := range target.All {
		img, err := random.Image(1024, 2)
		if err != nil {
			t.Fatal(err)
		}
		p, err := v1.ParsePlatform(tg.Platform)
		if err != nil {
			t.Fatal(err)
		}
		cf, err := img.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf.OS, cf.Architecture, cf.Variant = p.OS, p.Architecture, p.Variant
		if img, err = mutate.ConfigFile(img, cf); err != nil {
			t.Fatal(err)
		}
		idx = mutate.AppendManifests(idx, mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: p}})
	}
	return idx
}

// writeImageTarball writes idx into dir/image.tar as the engine does and
// returns the index digest.
func writeImageTarball(t testing.TB, dir string, idx v1.ImageIndex) string {
	return testenv.ImageTarball(t, filepath.Join(dir, ImageTarball), idx)
}

// imageBuild is a fake dist/ with a real image.tar.
type imageBuild struct {
	fakeBuild
	Digest string
}

func writeImageDist(t testing.TB, v string) imageBuild {
	t.Helper()
	b := writeDist(t, v)
	return imageBuild{fakeBuild: b, Digest: writeImageTarball(t, b.Dir, randomIndex(t))}
}

// world is a bucket and an image repository, both real.
type world struct {
	s    testS3
	host string // the registry's host:port
	reg  *Registry
}

func newWorld(t *testing.T) world {
	t.Helper()
	s := newTestS3(t)
	host := testenv.Registry(t)
	repo := host + "/gr-test/" + strings.ToLower(strings.ReplaceAll(t.Name(), "/", "-")) + "-" + sha256hex(randomBytes(t, 8))[:8]
	return world{s: s, host: host, reg: &Registry{Repo: repo}}
}

// tag returns the digest repo:tag points at, "" when there is no such tag.
func (w world) tag(t testing.TB, tag string) string {
	t.Helper()
	d, err := w.reg.TagDigest(context.Background(), tag)
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func (w world) tags(t testing.TB) []string {
	t.Helper()
	tags, err := ListTags(context.Background(), w.reg.Repo, authn.Anonymous, false)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tags)
	return tags
}

// state is what a user can see: the releases the page lists (not its
// bytes: it carries the time it was generated), the manifests, the tags
// and where they point.
func (w world) state(t testing.TB) string {
	t.Helper()
	var b strings.Builder
	if w.s.exists(t, index.JSONKey) {
		page := w.s.indexJSON(t, "")
		versions := page.versions()
		keys := slices.Sorted(maps.Keys(versions))
		html := string(w.s.get(t, index.HTMLKey))
		for _, v := range keys {
			fmt.Fprintf(&b, "page %s %s in-html=%t\n", v, versions[v], strings.Contains(html, v))
		}
		fmt.Fprintf(&b, "page latest %s\n", page.Latest)
	}
	for _, k := range w.s.keys(t, index.ReleasesDir) {
		if strings.HasSuffix(k, "/"+manifest.FileName) {
			b.WriteString(k + " " + sha256hex(w.s.get(t, k)) + "\n")
		}
	}
	for _, tag := range w.tags(t) {
		b.WriteString("tag " + tag + " " + w.tag(t, tag) + "\n")
	}
	return b.String()
}

func TestPublishPushesByDigestThenTagsThenMovesLatest(t *testing.T) {
	w := newWorld(t)
	ctx := testCtx(t)
	b := writeImageDist(t, "v9.9.1")
	var progress strings.Builder
	if _, err := Publish(ctx, w.s.cfg, b.Dir, b.Manifest, Options{Registry: w.reg, Progress: &progress}); err != nil {
		t.Fatal(err)
	}
	t.Logf("progress:\n%s", progress.String())
	if got := w.tag(t, "v9.9.1"); got != b.Digest {
		t.Errorf("%s:v9.9.1 = %q, want the pushed index %s", w.reg.Repo, got, b.Digest)
	}
	if got := w.tag(t, LatestTag); got != b.Digest {
		t.Errorf("latest = %q, want %s", got, b.Digest)
	}
	m, err := manifest.Parse(w.s.get(t, index.ManifestKey("v9.9.1")))
	if err != nil {
		t.Fatal(err)
	}
	if m.Image == nil || m.Image.Digest != b.Digest || m.Image.Ref != w.reg.Repo+":v9.9.1" || len(m.Image.Platforms) != len(target.All) {
		t.Errorf("manifest image %+v, want %s:v9.9.1 at %s with %d platforms", m.Image, w.reg.Repo, b.Digest, len(target.All))
	}
	// The order a user could observe: pushed untagged, files, manifest,
	// tag, page, latest.
	order := []string{"pushed   " + w.reg.Repo + "@", "uploaded " + index.SumsKey("v9.9.1"), "uploaded " + index.ManifestKey("v9.9.1"), "tagged   " + w.reg.Repo + ":v9.9.1", "indexed ", ":latest now points at v9.9.1"}
	last := -1
	for _, s := range order {
		i := strings.Index(progress.String(), s)
		if i < 0 || i < last {
			t.Errorf("progress does not show %q after the previous step", s)
		}
		last = i
	}

	// Once more: nothing is written again, the manifest stays as it was.
	before := w.state(t)
	rep, err := Publish(ctx, w.s.cfg, b.Dir, b.Manifest, Options{Registry: w.reg})
	if err != nil {
		t.Fatalf("publishing the same build again: %v", err)
	}
	if up := rep.Keys(Uploaded); len(up) > 2 { // the page may be rewritten
		t.Errorf("second publish uploaded %v", up)
	}
	if after := w.state(t); after != before {
		t.Errorf("second publish changed what users see:\nbefore %s\nafter %s", before, after)
	}
}

func TestPreflight(t *testing.T) {
	w := newWorld(t)
	ctx := testCtx(t)
	published := writeImageDist(t, "v9.9.1")
	if _, err := Publish(ctx, w.s.cfg, published.Dir, published.Manifest, Options{Registry: w.reg}); err != nil {
		t.Fatal(err)
	}
	commit := published.Manifest.Commit
	other := strings.Repeat("cd", 20)
	login := testenv.LoginRegistry(t)

	type tc struct {
		name   string
		cfg    func(Config) Config
		reg    func() *Registry
		intent Intent
		force  bool
		want   []string // in the error; nil: success
	}
	newV := Intent{Version: "v9.9.2", Class: "stable", Commit: other}
	cases := []tc{
		{name: "all good", intent: newV},
		{name: "region asked from the server", cfg: func(c Config) Config { c.Region = ""; return c }, intent: newV},
		{name: "wrong region", cfg: func(c Config) Config { c.Region = "mars-north-1"; return c }, intent: newV,
			want: []string{"S3:", "region", "--s3-region"}},
		{name: "wrong secret", cfg: func(c Config) Config { c.SecretKey = "not-the-secret"; return c }, intent: newV,
			want: []string{"S3:", "refused the credentials", EnvAccessKey, EnvSecretKey}},
		{name: "missing bucket", cfg: func(c Config) Config { c.Bucket = "no-such-bucket-gr"; return c }, intent: newV,
			want: []string{"S3:", "does not exist", "--s3-bucket"}},
		{name: "registry refuses the login", intent: newV,
			reg: func() *Registry {
				return &Registry{Repo: login.Host + "/gr-test/x", Auth: &authn.Basic{Username: login.User, Password: "wrong"}}
			},
			want: []string{"registry:", "refused the credentials", EnvRegistryUsername, EnvRegistryPassword}},
		{name: "registry wants a login", intent: newV,
			reg:  func() *Registry { return &Registry{Repo: login.Host + "/gr-test/x"} },
			want: []string{"registry:", login.Host, EnvRegistryUsername}},
		{name: "registry accepts the login", intent: newV,
			reg: func() *Registry {
				return &Registry{Repo: login.Host + "/gr-test/x", Auth: &authn.Basic{Username: login.User, Password: login.Password}}
			}},
		{name: "registry unreachable", intent: newV,
			reg:  func() *Registry { return &Registry{Repo: "127.0.0.1:1/gr-test/x"} },
			want: []string{"registry:", "cannot reach"}},
		{name: "stable already published from another commit", intent: Intent{Version: "v9.9.1", Class: "stable", Commit: other},
			want: []string{"S3:", "already published", "--force"}},
		{name: "stable already published, forced", intent: Intent{Version: "v9.9.1", Class: "stable", Commit: other}, force: true},
		{name: "stable already published from this commit: a re-run", intent: Intent{Version: "v9.9.1", Class: "stable", Commit: commit}},
		{name: "development build again", intent: Intent{Version: other, Class: "development", Commit: other}},
	}
	// A stable tag with no release in the bucket: what an image pushed
	// before a failed upload leaves.
	orphan := writeImageDist(t, "v9.9.3")
	if _, _, err := w.reg.PushTarball(ctx, filepath.Join(orphan.Dir, ImageTarball)); err != nil {
		t.Fatal(err)
	}
	if err := w.reg.Tag(ctx, "v9.9.3", orphan.Digest); err != nil {
		t.Fatal(err)
	}
	cases = append(cases, tc{name: "stable tag without a release", intent: Intent{Version: "v9.9.3", Class: "stable", Commit: other},
		want: []string{"registry:", w.reg.Repo + ":v9.9.3 already exists", "--force"}})

	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			cfg := w.s.cfg
			cfg.Region = w.s.env.Region
			if c.cfg != nil {
				cfg = c.cfg(cfg)
			}
			reg := w.reg
			if c.reg != nil {
				reg = c.reg()
			}
			before := w.state(t)
			keys := w.s.keys(t, "")
			var out strings.Builder
			got, err := Preflight(ctx, cfg, reg, c.intent, c.force, &out)
			if c.want == nil {
				if err != nil {
					t.Fatalf("Preflight: %v", err)
				}
				if cfg.Region == "" && got.Region != w.s.env.Region {
					t.Errorf("region %q, want the server's %q", got.Region, w.s.env.Region)
				}
			} else {
				if err == nil {
					t.Fatalf("Preflight succeeded, want an error saying %q", c.want)
				}
				t.Logf("error: %v", err)
				for _, s := range c.want {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error does not say %q", s)
					}
				}
				if strings.Contains(err.Error(), w.s.env.SecretKey) || strings.Contains(err.Error(), login.Password) {
					t.Error("the error shows a secret")
				}
			}
			if after := w.state(t); after != before {
				t.Errorf("preflight changed what users see:\nbefore %s\nafter %s", before, after)
			}
			if after := w.s.keys(t, ""); !slices.Equal(after, keys) {
				t.Errorf("preflight left objects: before %v\nafter %v", keys, after)
			}
		})
	}
}

// isBlobUpload matches the requests of a blob upload to a registry.
func isBlobUpload(r *http.Request) bool {
	return strings.Contains(r.URL.Path, "/blobs/uploads/") && r.Method != http.MethodGet
}

func isPut(suffix string) func(*http.Request) bool {
	return func(r *http.Request) bool { return r.Method == http.MethodPut && strings.HasSuffix(r.URL.Path, suffix) }
}

func TestFailedPublishLeavesNothingVisibleAndTheNextRunConverges(t *testing.T) {
	const v = "v9.9.2"
	cases := []struct {
		name string
		// fault sets up the proxies; s3 and reg are nil when that side
		// is not proxied.
		fault func(s3, reg *testenv.FaultProxy)
		s3    bool
		reg   bool
		// signed publishes a signed release (its image signature is
		// attached between the push and the tag).
		signed bool
	}{
		{name: "S3 stopped half-way through the upload", s3: true, fault: func(s3, _ *testenv.FaultProxy) {
			s3.StopAt(func(r *http.Request) bool {
				return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/"+index.ReleasePrefix(v))
			}, 4)
		}},
		{name: "registry stopped half-way through the push", reg: true, fault: func(_, reg *testenv.FaultProxy) {
			reg.StopAt(isBlobUpload, 3)
		}},
		{name: "S3 refuses the manifest", s3: true, fault: func(s3, _ *testenv.FaultProxy) {
			s3.RefuseFrom(isPut("/"+index.ManifestKey(v)), 1, http.StatusInternalServerError)
		}},
		{name: "S3 stops at the manifest", s3: true, fault: func(s3, _ *testenv.FaultProxy) {
			s3.StopAt(isPut("/"+index.ManifestKey(v)), 1)
		}},
		{name: "registry refuses the tag", reg: true, fault: func(_, reg *testenv.FaultProxy) {
			reg.RefuseFrom(isPut("/manifests/"+v), 1, http.StatusInternalServerError)
		}},
		{name: "S3 refuses the page", s3: true, fault: func(s3, _ *testenv.FaultProxy) {
			s3.RefuseFrom(isPut("/"+index.HTMLKey), 1, http.StatusInternalServerError)
		}},
		{name: "registry refuses the image signature", reg: true, signed: true, fault: func(_, reg *testenv.FaultProxy) {
			reg.RefuseFrom(func(r *http.Request) bool {
				return r.Method == http.MethodPut && strings.Contains(r.URL.Path, "/manifests/sha256-")
			}, 1, http.StatusInternalServerError)
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			w := newWorld(t)
			ctx := testCtx(t)
			first := writeImageDist(t, "v9.9.1")
			if _, err := Publish(ctx, w.s.cfg, first.Dir, first.Manifest, Options{Registry: w.reg}); err != nil {
				t.Fatal(err)
			}
			before := w.state(t)

			cfg, reg := w.s.cfg, *w.reg
			var s3p, regp *testenv.FaultProxy
			if c.s3 {
				s3p = testenv.NewFaultProxy(t, w.s.env.URL())
				cfg.Endpoint = s3p.URL()
			}
			if c.reg {
				regp = testenv.NewFaultProxy(t, "http://"+w.host)
				reg.Repo = strings.Replace(reg.Repo, w.host, regp.Addr, 1)
			}
			c.fault(s3p, regp)
			b := writeImageDist(t, v)
			if c.signed {
				signImageDist(t, &b)
			}
			var progress strings.Builder
			_, err := Publish(ctx, cfg, b.Dir, b.Manifest, Options{Registry: &reg, Progress: &progress})
			t.Logf("progress:\n%s", progress.String())
			if err == nil {
				t.Fatal("the publish succeeded through the fault")
			}
			t.Logf("error: %v", err)
			if (s3p != nil && s3p.Fired() == 0) || (regp != nil && regp.Fired() == 0) {
				t.Fatal("the fault never fired: the test proves nothing")
			}
			if after := w.state(t); after != before {
				t.Errorf("a failed publish changed what users see:\nbefore %s\nafter %s", before, after)
			}
			if html := string(w.s.get(t, index.HTMLKey)); strings.Contains(html, v) {
				t.Errorf("the page mentions %s after the failed publish", v)
			}
			if !strings.Contains(err.Error(), "run the publish again") {
				t.Errorf("the error does not say what to do next")
			}

			// The next run, with the servers back, completes the release.
			rep, err := Publish(ctx, w.s.cfg, b.Dir, b.Manifest, Options{Registry: w.reg})
			if err != nil {
				t.Fatalf("the re-run failed: %v", err)
			}
			if w.tag(t, v) != b.Digest || w.tag(t, LatestTag) != b.Digest {
				t.Errorf("after the re-run %s is %q and latest %q, want both at %s", v, w.tag(t, v), w.tag(t, LatestTag), b.Digest)
			}
			if got := w.s.indexJSON(t, "").Latest; got != v {
				t.Errorf("the page's latest is %q, want %s", got, v)
			}
			checkBinaries(t, w.s, "", b.fakeBuild)
			if sig := "sha256-" + strings.TrimPrefix(b.Digest, "sha256:") + ".sig"; c.signed && !slices.Contains(w.tags(t), sig) {
				t.Errorf("after the re-run the image has no signature (%s): %v", sig, w.tags(t))
			}
			if c.name == "S3 stopped half-way through the upload" && len(rep.Keys(Skipped)) == 0 {
				t.Error("the re-run uploaded everything again: the objects the first run wrote were not reused")
			}
		})
	}
}

func TestPromoteTagsTheBuildsImageAndMovesLatest(t *testing.T) {
	w := newWorld(t)
	ctx := testCtx(t)
	stable := writeImageDist(t, "v9.9.1")
	if _, err := Publish(ctx, w.s.cfg, stable.Dir, stable.Manifest, Options{Registry: w.reg}); err != nil {
		t.Fatal(err)
	}
	commit := strings.Repeat("0123456789", 4)
	dev := writeImageDist(t, commit)
	if _, err := Publish(ctx, w.s.cfg, dev.Dir, dev.Manifest, Options{Registry: w.reg}); err != nil {
		t.Fatal(err)
	}
	if w.tag(t, LatestTag) != stable.Digest {
		t.Fatal("a development build moved latest")
	}
	// The registry prefix only: the image name comes from the build.
	prefix := &Registry{Repo: w.reg.Repo[:strings.LastIndex(w.reg.Repo, "/")+1]}
	if _, err := Promote(ctx, w.s.cfg, commit, "v9.9.2", PromoteOptions{Registry: prefix}); err != nil {
		t.Fatal(err)
	}
	if got := w.tag(t, "v9.9.2"); got != dev.Digest {
		t.Errorf("v9.9.2 = %q, want the build's %s", got, dev.Digest)
	}
	if got := w.tag(t, LatestTag); got != dev.Digest {
		t.Errorf("latest = %q, want the promoted build's %s", got, dev.Digest)
	}
	page := w.s.indexJSON(t, "")
	if page.Latest != "v9.9.2" {
		t.Errorf("the page's latest is %q, want v9.9.2", page.Latest)
	}
	m, err := manifest.Parse(w.s.get(t, index.ManifestKey("v9.9.2")))
	if err != nil {
		t.Fatal(err)
	}
	if m.Image == nil || m.Image.Ref != w.reg.Repo+":v9.9.2" || m.Image.Digest != dev.Digest {
		t.Errorf("promoted manifest image %+v", m.Image)
	}

	// Another build may not take v9.9.2: refused before any write.
	other := strings.Repeat("9876543210", 4)
	otherDev := writeImageDist(t, other)
	if _, err := Publish(ctx, w.s.cfg, otherDev.Dir, otherDev.Manifest, Options{Registry: w.reg}); err != nil {
		t.Fatal(err)
	}
	before := w.state(t)
	if _, err := Promote(ctx, w.s.cfg, other, "v9.9.2", PromoteOptions{Registry: w.reg}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("promoting another build over v9.9.2: %v, want a refusal naming --force", err)
	}
	if after := w.state(t); after != before {
		t.Errorf("a refused promote changed what users see:\nbefore %s\nafter %s", before, after)
	}

	// An older version promoted later leaves latest alone.
	if _, err := Promote(ctx, w.s.cfg, other, "v9.8.0", PromoteOptions{Registry: w.reg}); err != nil {
		t.Fatal(err)
	}
	if got := w.tag(t, LatestTag); got != dev.Digest {
		t.Errorf("promoting v9.8.0 moved latest to %q", got)
	}
}

// The tarball the engine writes may list image manifests directly (one
// platform): that index is pushed as it is.
func TestPushTarballOfImageManifests(t *testing.T) {
	w := newWorld(t)
	dir := t.TempDir()
	lay := t.TempDir()
	p, err := layout.Write(lay, empty.Index)
	if err != nil {
		t.Fatal(err)
	}
	img, err := random.Image(512, 1)
	if err != nil {
		t.Fatal(err)
	}
	// As the engine writes one platform: no platform in index.json, only
	// in the image's config.
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	cf.OS, cf.Architecture = "linux", "arm64"
	if img, err = mutate.ConfigFile(img, cf); err != nil {
		t.Fatal(err)
	}
	if err := p.AppendImage(img); err != nil {
		t.Fatal(err)
	}
	testenv.TarFolder(t, lay, filepath.Join(dir, ImageTarball))
	digest, platforms, err := w.reg.PushTarball(testCtx(t), filepath.Join(dir, ImageTarball))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(platforms, []string{"linux/arm64"}) || !w.reg.hasDigest(testCtx(t), digest) {
		t.Errorf("pushed %s with platforms %v", digest, platforms)
	}
	if tags := w.tags(t); len(tags) != 0 {
		t.Errorf("a push by digest made tags %v", tags)
	}
}

// Two builds of one commit differ only in the time the engine stamps into
// each image's config at export: the index pushed (and TarballDigest) is
// the same, with the creation time of the pipeline's label.
func TestTarballDigestIgnoresExportTime(t *testing.T) {
	base, err := random.Image(256, 1)
	if err != nil {
		t.Fatal(err)
	}
	digests := map[string]bool{}
	for i, export := range []time.Time{time.Now(), time.Now().Add(time.Hour)} {
		cf, err := base.ConfigFile()
		if err != nil {
			t.Fatal(err)
		}
		cf = cf.DeepCopy()
		cf.Created = v1.Time{Time: export}
		cf.History = []v1.History{{Created: v1.Time{Time: export}, CreatedBy: "withfile /app"}}
		cf.Config.Labels = map[string]string{CreatedLabel: "2026-01-02T03:04:05Z"}
		img, err := mutate.ConfigFile(base, cf)
		if err != nil {
			t.Fatal(err)
		}
		idx := mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
			mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}})
		dir := t.TempDir()
		engineDigest := writeImageTarball(t, dir, idx)
		d, platforms, err := TarballDigest(filepath.Join(dir, ImageTarball))
		if err != nil {
			t.Fatal(err)
		}
		if d == engineDigest || len(platforms) != 1 {
			t.Errorf("build %d: the export time was not normalized (digest %s, platforms %v)", i, d, platforms)
		}
		digests[d] = true
	}
	if len(digests) != 1 {
		t.Errorf("two exports of one image give different digests: %v", digests)
	}
}
