package publish

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
)

// statuses maps each planned key to its status.
func statuses(r PlanReport) map[string]KeyStatus {
	out := map[string]KeyStatus{}
	for _, o := range r.Objects {
		out[o.Key] = o.Status
	}
	return out
}

func TestPlan(t *testing.T) {
	s := newTestS3(t)
	ctx := testCtx(t)
	repo := testRepo(t)
	pushIndex(t, repo, "v1.4.0")
	published := writeDist(t, "v1.5.0")
	if _, err := Publish(ctx, s.cfg, published.Dir, published.Manifest, Options{}); err != nil {
		t.Fatal(err)
	}
	indexKeys := []string{index.JSONKey, index.HTMLKey}

	t.Run("same dist again", func(t *testing.T) {
		r, err := Plan(ctx, s.cfg, published.Manifest, published.Dir, repo)
		if err != nil {
			t.Fatal(err)
		}
		st := statuses(r)
		for _, k := range expectedKeys("", published) {
			if st[k] != KeySame {
				t.Errorf("%s: %s, want same", k, st[k])
			}
		}
		for _, k := range indexKeys {
			if st[k] != KeyDifferent {
				t.Errorf("%s: %s, want different (the index is always rewritten)", k, st[k])
			}
		}
		if len(st) != len(expectedKeys("", published))+2 || r.Refused != "" || r.Class != "stable" || len(r.Targets) != 4 {
			t.Errorf("plan: %d keys, refused %q, class %s, %d targets", len(st), r.Refused, r.Class, len(r.Targets))
		}
		// v1.5.0 is above the registry's v1.4.0: latest moves to it.
		want := []PlanImage{{Ref: repo + ":v1.5.0"}, {Ref: repo + ":latest"}}
		if !slices.Equal(r.Images, want) || len(r.Warnings) != 0 {
			t.Errorf("images %+v warnings %v, want %+v", r.Images, r.Warnings, want)
		}
	})

	t.Run("another build of a published stable version", func(t *testing.T) {
		other := writeDist(t, "v1.5.0")
		r, err := Plan(ctx, s.cfg, other.Manifest, other.Dir, "")
		if err != nil {
			t.Fatal(err)
		}
		st := statuses(r)
		for _, a := range other.Manifest.Targets {
			if k := index.BinaryKey("v1.5.0", a); st[k] != KeyDifferent {
				t.Errorf("%s: %s, want different", k, st[k])
			}
		}
		if !strings.Contains(r.Refused, "--force") || len(r.Images) != 0 {
			t.Errorf("refused %q, images %v; want a refusal and no registry lookup", r.Refused, r.Images)
		}
		var text bytes.Buffer
		if err := r.Text(&text); err != nil {
			t.Fatal(err)
		}
		for _, want := range []string{"publish v1.5.0 (stable)", "REFUSED", "different  _releases/v1.5.0/x86_64-unknown-linux-gnu/garage", "amd64"} {
			if !strings.Contains(text.String(), want) {
				t.Errorf("text plan lacks %q:\n%s", want, text.String())
			}
		}
	})

	t.Run("new version without dist", func(t *testing.T) {
		m := &manifest.Manifest{Version: "v1.3.0", Binary: testBinary}
		r, err := Plan(ctx, s.cfg, m, "", repo)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, a := range published.Manifest.Targets {
			want = append(want, index.BinaryKey("v1.3.0", a), index.ChecksumKey("v1.3.0", a))
		}
		want = append(want, index.SumsKey("v1.3.0"), index.ManifestKey("v1.3.0"))
		st := statuses(r)
		for _, k := range want {
			if st[k] != KeyAbsent {
				t.Errorf("%s: %q, want absent", k, st[k])
			}
		}
		if len(r.Objects) != len(want)+2 {
			t.Errorf("planned %d keys, want %d", len(r.Objects), len(want)+2)
		}
		// v1.3.0 is below v1.4.0: latest stays where it is.
		if len(r.Images) != 1 || r.Images[0].Ref != repo+":v1.3.0" {
			t.Errorf("images %+v, want only the version tag", r.Images)
		}
		js, err := json.Marshal(r)
		if err != nil || !bytes.Contains(js, []byte(`"status":"absent"`)) || !bytes.Contains(js, []byte(`"class":"stable"`)) {
			t.Errorf("JSON plan: %s, %v", js, err)
		}
	})

	t.Run("published version without dist", func(t *testing.T) {
		m := &manifest.Manifest{Version: "v1.5.0", Binary: testBinary, Targets: []manifest.Artifact{{Target: "arm64"}}}
		r, err := Plan(ctx, s.cfg, m, "", "")
		if err != nil {
			t.Fatal(err)
		}
		st := statuses(r)
		if k := "_releases/v1.5.0/aarch64-unknown-linux-gnu/garage"; st[k] != KeyExists || len(r.Targets) != 1 {
			t.Errorf("%s: %q with %d targets, want exists for arm64 alone", k, st[k], len(r.Targets))
		}
		if r.Refused == "" {
			t.Error("planning over a published stable version without --force is not flagged")
		}
	})
}
