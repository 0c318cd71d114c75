package publish

import (
	"bytes"
	"slices"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
)

func TestPromoteCopiesADevelopmentBuild(t *testing.T) {
	s := newTestS3(t)
	ctx := testCtx(t)
	commit := strings.Repeat("0123456789", 4)
	dev := writeDist(t, commit)
	if _, err := Publish(ctx, s.cfg, dev.Dir, dev.Manifest, Options{}); err != nil {
		t.Fatal(err)
	}
	rep, err := Promote(ctx, s.cfg, commit, "v1.3.0", PromoteOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Version != "v1.3.0" || rep.Class != "stable" {
		t.Errorf("report names %s (%s), want v1.3.0 (stable)", rep.Version, rep.Class)
	}

	// Every object but the manifest is byte-identical under the new name,
	// with its content type and sha256 metadata.
	srcKeys := append(s.keys(t, index.ReleasePrefix(commit)), s.keys(t, index.DocsPrefix(commit))...)
	copied := 0
	for _, src := range srcKeys {
		if src == index.ManifestKey(commit) {
			continue
		}
		dst := strings.Replace(src, "/"+commit+"/", "/v1.3.0/", 1)
		srcInfo, dstInfo := s.stat(t, src), s.stat(t, dst)
		if !bytes.Equal(s.get(t, src), s.get(t, dst)) {
			t.Errorf("%s differs from %s", dst, src)
		}
		if dstInfo.ContentType != srcInfo.ContentType || dstInfo.UserMetadata[metaSHA256] != srcInfo.UserMetadata[metaSHA256] {
			t.Errorf("%s: type %q sha256 %q, want %q %q as on %s", dst, dstInfo.ContentType, dstInfo.UserMetadata[metaSHA256], srcInfo.ContentType, srcInfo.UserMetadata[metaSHA256], src)
		}
		copied++
	}
	if want := len(expectedKeys("", dev)) - 1; copied != want || len(rep.Keys(Copied)) != want {
		t.Errorf("copied %d objects (report: %d), want %d", copied, len(rep.Keys(Copied)), want)
	}

	m, err := manifest.Parse(s.get(t, index.ManifestKey("v1.3.0")))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != "v1.3.0" || m.Class != "stable" || m.Commit != commit || !m.Date.Equal(dev.Manifest.Date) {
		t.Errorf("promoted manifest: version %s class %s commit %s date %s", m.Version, m.Class, m.Commit, m.Date)
	}
	if !slices.Equal(m.Targets, dev.Manifest.Targets) {
		t.Errorf("promoted manifest targets %+v, want the development build's %+v", m.Targets, dev.Manifest.Targets)
	}
	if m.Image != nil {
		t.Errorf("promoted manifest image %+v: the build had none and no registry was given", m.Image)
	}
	idx := s.indexJSON(t, "").versions()
	if idx["v1.3.0"] != "stable" || idx[commit] != "development" {
		t.Errorf("index: %v, want v1.3.0 stable and the commit in development", idx)
	}

	// Promoting the same build again copies nothing.
	rep, err = Promote(ctx, s.cfg, commit, "v1.3.0", PromoteOptions{})
	if err != nil {
		t.Fatalf("promoting again: %v", err)
	}
	if c := rep.Keys(Copied); len(c) != 0 {
		t.Errorf("second promote copied %v, want nothing", c)
	}

	// Another build may not take an existing stable name, unless forced.
	other := strings.Repeat("9876543210", 4)
	otherDev := writeDist(t, other)
	if _, err := Publish(ctx, s.cfg, otherDev.Dir, otherDev.Manifest, Options{}); err != nil {
		t.Fatal(err)
	}
	if _, err := Promote(ctx, s.cfg, other, "v1.3.0", PromoteOptions{}); err == nil || !strings.Contains(err.Error(), "--force") {
		t.Fatalf("promoting another build to an existing stable version: err = %v, want a refusal", err)
	}
	if _, err := Promote(ctx, s.cfg, other, "v1.3.0", PromoteOptions{Force: true}); err != nil {
		t.Fatalf("forced promote: %v", err)
	}
	checkBinaries(t, s, "", fakeBuild{Dir: otherDev.Dir, Manifest: &manifest.Manifest{Version: "v1.3.0", Targets: otherDev.Manifest.Targets}})
}

func TestPromoteRefusals(t *testing.T) {
	s := newTestS3(t)
	ctx := testCtx(t)
	missing := strings.Repeat("ab", 20)
	cases := []struct{ from, to, want string }{
		{missing, "v1.0.0", "not published"},
		{"v0.9.0", "v1.0.0", "40-hex"},
		{missing, strings.Repeat("cd", 20), "not a tag"},
		{missing, "../v1", "cannot name a release"},
	}
	for _, tc := range cases {
		_, err := Promote(ctx, s.cfg, tc.from, tc.to, PromoteOptions{})
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("Promote(%s, %s) = %v, want an error saying %q", tc.from, tc.to, err, tc.want)
		}
	}
	if keys := s.keys(t, ""); len(keys) != 0 {
		t.Errorf("refused promotes wrote %v", keys)
	}
}
