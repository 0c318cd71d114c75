package index

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/garage-release/garage-release/ci/manifest"
)

var day0 = time.Date(2026, 11, 1, 12, 0, 0, 0, time.UTC)

// mk builds a valid manifest for one target of every row of the table's
// shape; sha is repeated to 64 hex digits.
func mk(version, class string, daysAfter int, sha string) *manifest.Manifest {
	return &manifest.Manifest{
		Version: version, Class: class, Date: day0.AddDate(0, 0, daysAfter),
		Commit: strings.Repeat("c", 40), Binary: "garage",
		Targets: []manifest.Artifact{{
			Target: "amd64", Triple: "x86_64-unknown-linux-gnu", Platform: "linux/amd64",
			Path: "x86_64-unknown-linux-gnu/garage", Size: 1 << 20, SHA256: strings.Repeat(sha, 64/len(sha)),
		}},
	}
}

func versions(ms []*manifest.Manifest) []string {
	out := make([]string, len(ms))
	for i, m := range ms {
		out[i] = m.Version
	}
	return out
}

func TestBuildSorts(t *testing.T) {
	devOld, devNew := strings.Repeat("1", 40), strings.Repeat("2", 40)
	idx := Build([]*manifest.Manifest{
		mk("v1.9.0", "stable", 5, "a"),
		mk(devOld, "development", 1, "b"),
		mk("v1.10.0", "stable", 1, "c"), // built before v1.9.0, still ranks above
		mk("v0.99.0", "stable", 9, "d"),
		mk("v2.0.0-rc.1", "extra", 3, "e"),
		nil,
		mk(devNew, "development", 8, "f"),
		mk("nightly-b", "extra", 7, "0"),
		mk("nightly-a", "extra", 7, "1"), // same date: by name
		mk("v3.0.0", "", 2, "2"),         // no class: classified from the version
	})
	check := func(name string, got []*manifest.Manifest, want ...string) {
		t.Helper()
		if g := strings.Join(versions(got), " "); g != strings.Join(want, " ") {
			t.Errorf("%s = %s, want %s", name, g, strings.Join(want, " "))
		}
	}
	check("Stable", idx.Stable, "v3.0.0", "v1.10.0", "v1.9.0", "v0.99.0")
	check("Extra", idx.Extra, "nightly-a", "nightly-b", "v2.0.0-rc.1")
	check("Development", idx.Development, devNew, devOld)
	if idx.Latest() != "v3.0.0" {
		t.Errorf("Latest = %q, want v3.0.0", idx.Latest())
	}
	if time.Since(idx.Generated) > time.Minute || idx.Generated.Location() != time.UTC {
		t.Errorf("Generated = %v, want now in UTC", idx.Generated)
	}
}

func TestJSON(t *testing.T) {
	stable := mk("v1.0.0", "stable", 0, "a")
	stable.Docs = "docs/"
	idx := Build([]*manifest.Manifest{stable, mk(strings.Repeat("d", 40), "development", 1, "b")})
	idx.Generated = day0
	b, err := idx.JSON()
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		Format      int              `json:"format"`
		Generated   time.Time        `json:"generated"`
		Latest      string           `json:"latest"`
		Stable      []map[string]any `json:"stable"`
		Extra       []map[string]any `json:"extra"`
		Development []map[string]any `json:"development"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s is not JSON: %v\n%s", JSONKey, err, b)
	}
	if doc.Format != 1 || !doc.Generated.Equal(day0) || doc.Latest != "v1.0.0" {
		t.Errorf("header = format %d, generated %v, latest %q", doc.Format, doc.Generated, doc.Latest)
	}
	if doc.Extra == nil || len(doc.Extra) != 0 {
		t.Errorf("extra = %v, want an empty array, not null", doc.Extra)
	}
	if !strings.Contains(string(b), `"extra": []`) {
		t.Errorf("extra is not written as []:\n%s", b)
	}
	if len(doc.Stable) != 1 || len(doc.Development) != 1 {
		t.Fatalf("stable %d, development %d entries, want 1 and 1", len(doc.Stable), len(doc.Development))
	}
	s := doc.Stable[0]
	if s["version"] != "v1.0.0" || s["class"] != "stable" || s["prefix"] != "_releases/v1.0.0/" || s["docs_url"] != "_docs/v1.0.0/index.html" {
		t.Errorf("stable entry = %v", s)
	}
	if _, ok := doc.Development[0]["docs_url"]; ok {
		t.Errorf("development entry without docs has docs_url: %v", doc.Development[0])
	}
	// The manifest fields are kept as they are, so a script can read a
	// release from _releases.json exactly as from its manifest.json.
	var m manifest.Manifest
	raw, _ := json.Marshal(s)
	if err := json.Unmarshal(raw, &m); err != nil || m.Validate() != nil || m.Targets[0].SHA256 != stable.Targets[0].SHA256 {
		t.Errorf("stable entry is not a valid manifest: %v %v", err, m.Validate())
	}
}

func TestEmptyJSON(t *testing.T) {
	b, err := Build(nil).JSON()
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"stable": []`, `"extra": []`, `"development": []`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("empty index lacks %s:\n%s", want, b)
		}
	}
	if strings.Contains(string(b), `"latest"`) {
		t.Errorf("empty index names a latest version:\n%s", b)
	}
}

func TestLayout(t *testing.T) {
	a := manifest.Artifact{Path: "aarch64-unknown-linux-gnu/garage"}
	tests := [][2]string{
		{ReleasePrefix("v1.2.3"), "_releases/v1.2.3/"},
		{DocsPrefix("v1.2.3"), "_docs/v1.2.3/"},
		{DocsIndexKey("v1.2.3"), "_docs/v1.2.3/index.html"},
		{ManifestKey("v1.2.3"), "_releases/v1.2.3/manifest.json"},
		{SumsKey("v1.2.3"), "_releases/v1.2.3/SHA256SUMS"},
		{BinaryKey("v1.2.3", a), "_releases/v1.2.3/aarch64-unknown-linux-gnu/garage"},
		{ChecksumKey("v1.2.3", a), "_releases/v1.2.3/aarch64-unknown-linux-gnu/garage.sha256"},
		{JSONKey, "_releases.json"},
		{HTMLKey, "_releases.html"},
	}
	for _, tt := range tests {
		if got, want := tt[0], tt[1]; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	}
}

func TestHumanSize(t *testing.T) {
	tests := map[int64]string{0: "0 B", 1023: "1023 B", 1024: "1.0 KiB", 1258291: "1.2 MiB", 5 << 30: "5.0 GiB"}
	for n, want := range tests {
		if got := humanSize(n); got != want {
			t.Errorf("humanSize(%d) = %q, want %q", n, got, want)
		}
	}
}

func TestJSONSupplyChain(t *testing.T) {
	signed := sign(mk("v1.0.0", "stable", 0, "a"))
	unsigned := mk("v0.9.0", "stable", 0, "b")
	idx := Build([]*manifest.Manifest{signed, unsigned})
	for name, render := range map[string]func() ([]byte, error){"bucket": idx.JSON, "local": idx.LocalJSON} {
		b, err := render()
		if err != nil {
			t.Fatal(err)
		}
		var doc struct {
			Stable []struct {
				Version       string            `json:"version"`
				Prefix        string            `json:"prefix"`
				Signed        *bool             `json:"signed"`
				SBOMURL       string            `json:"sbom_url"`
				ProvenanceURL string            `json:"provenance_url"`
				PublicKeyURL  string            `json:"public_key_url"`
				SignatureURLs map[string]string `json:"signature_urls"`
				EnvelopeURL   string            `json:"provenance_signature_url"`
				Signatures    *manifest.Signatures
			} `json:"stable"`
		}
		if err := json.Unmarshal(b, &doc); err != nil || len(doc.Stable) != 2 {
			t.Fatalf("%s: %v\n%s", name, err, b)
		}
		s, u := doc.Stable[0], doc.Stable[1]
		pre := s.Prefix
		if name == "bucket" && pre != ReleasePrefix("v1.0.0") || name == "local" && pre != "" {
			t.Errorf("%s: prefix %q", name, pre)
		}
		if s.Signed == nil || !*s.Signed || s.SBOMURL != pre+manifest.SBOMName || s.ProvenanceURL != pre+manifest.ProvenanceName ||
			s.PublicKeyURL != pre+manifest.PublicKeyName || s.EnvelopeURL != pre+manifest.EnvelopeName ||
			s.SignatureURLs[manifest.SumsName] != pre+"SHA256SUMS.sig" ||
			s.SignatureURLs["x86_64-unknown-linux-gnu/garage"] != pre+"x86_64-unknown-linux-gnu/garage.sig" {
			t.Errorf("%s: signed release = %+v", name, s)
		}
		// The manifest's own fields are still there, unchanged.
		if s.Signatures == nil || s.Signatures.PublicKey != manifest.PublicKeyName {
			t.Errorf("%s: the manifest's signatures field is gone: %+v", name, s.Signatures)
		}
		if u.Signed == nil || *u.Signed || u.SBOMURL != "" || u.PublicKeyURL != "" || u.SignatureURLs != nil {
			t.Errorf("%s: unsigned release = %+v, want \"signed\": false and no links", name, u)
		}
	}
}
