package attest

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/types"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/provenance"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/signing"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/testenv"
)

// writeDist writes what the engine exports for a release: two binaries,
// SHA256SUMS, the manifest, an image tarball and the page.
func writeDist(t *testing.T) (string, *manifest.Manifest) {
	t.Helper()
	dist := t.TempDir()
	m := &manifest.Manifest{Version: "v1.0.0", Class: "stable", Commit: strings.Repeat("a", 40), Date: time.Unix(1700000000, 0).UTC(), Binary: "app",
		Build: &manifest.Build{Toolchain: "recipe:sha256:" + strings.Repeat("ab", 32), BaseImage: "debian:trixie@sha256:" + strings.Repeat("cd", 32)}}
	sums := manifest.Sums{}
	for _, tg := range target.All[:2] {
		data := []byte("binary for " + tg.Name)
		p := tg.BinaryPath(m.Binary)
		write(t, filepath.Join(dist, p), data)
		s := sha256.Sum256(data)
		sums[p] = hex.EncodeToString(s[:])
		m.Targets = append(m.Targets, manifest.Artifact{Target: tg.Name, Triple: tg.Triple, Platform: tg.Platform, Path: p, Size: int64(len(data)), SHA256: sums[p]})
	}
	write(t, filepath.Join(dist, manifest.SumsName), sums.Format())
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(dist, manifest.FileName), data)
	write(t, filepath.Join(dist, index.LocalHTMLName), []byte("<html>old page</html>"))
	writeImage(t, filepath.Join(dist, publish.ImageTarball))
	return dist, m
}

func writeImage(t *testing.T, p string) {
	t.Helper()
	img, err := random.Image(128, 1)
	if err != nil {
		t.Fatal(err)
	}
	testenv.ImageTarball(t, p, mutate.AppendManifests(mutate.IndexMediaType(empty.Index, types.OCIImageIndex),
		mutate.IndexAddendum{Add: img, Descriptor: v1.Descriptor{Platform: &v1.Platform{OS: "linux", Architecture: "amd64"}}}))
}

func write(t *testing.T, p string, data []byte) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestCompleteUnsigned(t *testing.T) {
	dist, m := writeDist(t)
	files, err := Complete(dist, Options{ImageRepo: "registry.test/ns/app", Command: []string{"garage-release", "release"}})
	if err != nil {
		t.Fatal(err)
	}
	got, err := manifest.Parse(files[manifest.FileName])
	if err != nil {
		t.Fatal(err)
	}
	digest, _, err := publish.TarballDigest(filepath.Join(dist, publish.ImageTarball))
	if err != nil {
		t.Fatal(err)
	}
	if got.Signatures != nil || got.Provenance != manifest.ProvenanceName || got.Build.ImageDigest != digest {
		t.Errorf("manifest: signatures %v, provenance %q, image digest %q (want %s)", got.Signatures, got.Provenance, got.Build.ImageDigest, digest)
	}
	subjects, err := provenance.Subjects(files[manifest.ProvenanceName])
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range m.Targets {
		if subjects[a.Path] != a.SHA256 {
			t.Errorf("no provenance subject for %s: %v", a.Path, subjects)
		}
	}
	if subjects["registry.test/ns/app"] != strings.TrimPrefix(digest, "sha256:") {
		t.Errorf("no provenance subject for the image %s: %v", digest, subjects)
	}
	for _, n := range []string{manifest.PublicKeyName, manifest.EnvelopeName, manifest.SumsName + ".sig"} {
		if _, ok := files[n]; ok {
			t.Errorf("an unsigned release got %s", n)
		}
	}
	if page := string(files[index.LocalHTMLName]); !strings.Contains(page, `class="badge unsigned"`) {
		t.Errorf("the page of an unsigned release does not say so")
	}
}

func TestCompleteSigned(t *testing.T) {
	dist, m := writeDist(t)
	s := testenv.Signer(t)
	files, err := Complete(dist, Options{Signer: s, ImageRepo: "registry.test/ns/app"})
	if err != nil {
		t.Fatal(err)
	}
	if err := Write(dist, files); err != nil {
		t.Fatal(err)
	}
	got, err := manifest.Parse(files[manifest.FileName])
	if err != nil {
		t.Fatal(err)
	}
	sigs := got.Signatures
	if sigs == nil || sigs.PublicKey != manifest.PublicKeyName || sigs.Provenance != manifest.EnvelopeName || sigs.Image != manifest.ImageSignatureName {
		t.Fatalf("signatures: %+v", sigs)
	}
	pub := files[manifest.PublicKeyName]
	signed := []string{manifest.SumsName}
	for _, a := range m.Targets {
		signed = append(signed, a.Path)
	}
	for _, f := range signed {
		data, err := os.ReadFile(filepath.Join(dist, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		sig := files[sigs.Files[f]]
		if err := signing.VerifyBlob(pub, data, sig); err != nil {
			t.Errorf("%s: %v", f, err)
		}
		if err := signing.VerifyBlob(pub, append(data, 'x'), sig); err == nil {
			t.Errorf("%s's signature also accepts other bytes", f)
		}
	}
	statement, err := signing.VerifyEnvelope(pub, files[manifest.EnvelopeName])
	if err != nil || string(statement) != string(files[manifest.ProvenanceName]) {
		t.Errorf("the envelope does not carry the provenance statement: %v", err)
	}
	is, err := signing.ParseImageSignatures(files[manifest.ImageSignatureName])
	if err != nil || is.Digest != got.Build.ImageDigest {
		t.Errorf("image signature for %q, want %s (%v)", is.Digest, got.Build.ImageDigest, err)
	}
	page := string(files[index.LocalHTMLName])
	if !strings.Contains(page, `class="badge signed"`) || !strings.Contains(page, "cosign verify-blob") {
		t.Errorf("the page of a signed release does not show the cosign commands")
	}
}

// A dist/ without a manifest is not a release: nothing is written.
func TestCompleteNeedsAManifest(t *testing.T) {
	if _, err := Complete(t.TempDir(), Options{}); err == nil || !strings.Contains(err.Error(), manifest.FileName) {
		t.Fatalf("err = %v", err)
	}
}
