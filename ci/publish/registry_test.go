package publish

import (
	"encoding/hex"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-containerregistry/pkg/authn"
	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/remote"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/testenv"
)

// testRepo is a repository name no other test or run uses.
func testRepo(t *testing.T) string {
	reg := testenv.Registry(t)
	return reg + "/gr-test/" + strings.ToLower(t.Name()) + "-" + hex.EncodeToString(randomBytes(t, 4))
}

// pushIndex pushes a multi-platform image index of small random images, one
// per target platform, as repo:tag and returns its digest.
func pushIndex(t *testing.T, repo, tag string) v1.Hash {
	t.Helper()
	idx := randomIndex(t)
	ref, err := name.NewTag(repo + ":" + tag)
	if err != nil {
		t.Fatal(err)
	}
	if err := remote.WriteIndex(ref, idx, remote.WithContext(testCtx(t))); err != nil {
		t.Fatalf("pushing %s: %v", ref, err)
	}
	d, err := idx.Digest()
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRetagImageKeepsTheIndexDigest(t *testing.T) {
	repo := testRepo(t)
	ctx := testCtx(t)
	dev := strings.Repeat("ab12", 10)
	pushed := pushIndex(t, repo, dev)

	got, err := RetagImage(ctx, repo+":"+dev, "v1.4.0", authn.Anonymous, false)
	if err != nil {
		t.Fatal(err)
	}
	if got != pushed.String() {
		t.Errorf("RetagImage returned %s, want the pushed index %s", got, pushed)
	}
	for _, tag := range []string{dev, "v1.4.0"} {
		ref, err := name.NewTag(repo + ":" + tag)
		if err != nil {
			t.Fatal(err)
		}
		desc, err := remote.Get(ref, remote.WithContext(ctx))
		if err != nil {
			t.Fatal(err)
		}
		if desc.Digest != pushed || desc.MediaType != types.OCIImageIndex {
			t.Errorf("%s: %s %s, want the index %s", ref, desc.MediaType, desc.Digest, pushed)
		}
		idx, err := desc.ImageIndex()
		if err != nil {
			t.Fatal(err)
		}
		im, err := idx.IndexManifest()
		if err != nil {
			t.Fatal(err)
		}
		if len(im.Manifests) != len(target.All) {
			t.Errorf("%s lists %d platforms, want %d", ref, len(im.Manifests), len(target.All))
		}
	}

	tags, err := ListTags(ctx, repo, authn.Anonymous, false)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(tags)
	if !slices.Equal(tags, []string{dev, "v1.4.0"}) {
		t.Errorf("ListTags = %v", tags)
	}
	// A repository nobody pushed to has no tags yet: not an error.
	if tags, err := ListTags(ctx, repo+"-never-pushed", authn.Anonymous, false); err != nil || len(tags) != 0 {
		t.Errorf("ListTags(new repository) = %v, %v; want no tags and no error", tags, err)
	}
	if _, err := RetagImage(ctx, repo+":missing", "v9.9.9", authn.Anonymous, false); err == nil || !strings.Contains(err.Error(), "reading "+repo+":missing") {
		t.Errorf("retagging a missing tag: err = %v, want it to name the source", err)
	}
}

func TestLatestDecision(t *testing.T) {
	dev := strings.Repeat("ab12", 10)
	cases := []struct {
		version string
		tags    []string
		want    bool
	}{
		{"v1.0.0", nil, true},
		{"v1.0.0", []string{"latest", dev}, true},
		{"v1.10.0", []string{"v1.9.0", "latest"}, true},
		{"v1.9.0", []string{"v1.10.0", "latest"}, false},
		{"v1.9.0", []string{"v1.9.0", "v1.8.2", "latest"}, true}, // re-publish of the highest
		{"v2.0.0-rc1", []string{"v1.0.0"}, false},
		{dev, nil, false},
		{"v1.2.3", []string{"v1.2.4-rc1", "v1.2.2"}, true}, // extra tags do not count
		{"v0.9.9", []string{"v1.0.0"}, false},
	}
	for _, tc := range cases {
		if got := LatestDecision(tc.version, tc.tags); got != tc.want {
			t.Errorf("LatestDecision(%s, %v) = %v, want %v", tc.version, tc.tags, got, tc.want)
		}
	}
}

func TestRegistryAuth(t *testing.T) {
	vars := map[string]string{}
	getenv := func(k string) string { return vars[k] }
	if a := RegistryAuth(getenv); a != authn.Anonymous {
		t.Errorf("no username: got %T, want anonymous", a)
	}
	vars[EnvRegistryUsername], vars[EnvRegistryPassword] = "bot", "pw"
	cfg, err := RegistryAuth(getenv).Authorization()
	if err != nil || cfg.Username != "bot" || cfg.Password != "pw" {
		t.Errorf("Authorization() = %+v, %v", cfg, err)
	}
}
