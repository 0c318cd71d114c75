package publish

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/provenance"
	"github.com/garage-release/garage-release/ci/testenv"
)

// signImageDist signs b as a release with a key does (see attest): the
// signatures of SHA256SUMS and the binaries, the provenance and its
// envelope, the image signature for publish to attach, the public key.
func signImageDist(t testing.TB, b *imageBuild) {
	t.Helper()
	s := testenv.Signer(t)
	m := b.Manifest
	m.Build = &manifest.Build{Toolchain: "recipe:sha256:" + strings.Repeat("ab", 32), ImageDigest: b.Digest}
	put := func(name string, data []byte) {
		writeFile(t, filepath.Join(b.Dir, filepath.FromSlash(name)), data)
	}
	sigs := &manifest.Signatures{PublicKey: manifest.PublicKeyName, Files: map[string]string{},
		Provenance: manifest.EnvelopeName, Image: manifest.ImageSignatureName}
	for _, f := range m.SignedFiles() {
		data, err := os.ReadFile(filepath.Join(b.Dir, filepath.FromSlash(f)))
		if err != nil {
			t.Fatal(err)
		}
		sig, err := s.SignBlob(data)
		if err != nil {
			t.Fatal(err)
		}
		put(f+manifest.SignatureSuffix, sig)
		sigs.Files[f] = f + manifest.SignatureSuffix
	}
	statement, err := provenance.Statement(provenance.Input{Manifest: m, ImageRepo: "registry.test/app", BuilderID: "https://example.org/builder"})
	if err != nil {
		t.Fatal(err)
	}
	envelope, err := s.SignStatement(statement)
	if err != nil {
		t.Fatal(err)
	}
	is, err := s.SignImage("registry.test/app", b.Digest, envelope)
	if err != nil {
		t.Fatal(err)
	}
	isData, err := is.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	pub, err := s.PublicKeyPEM()
	if err != nil {
		t.Fatal(err)
	}
	put(manifest.ProvenanceName, statement)
	put(manifest.EnvelopeName, envelope)
	put(manifest.ImageSignatureName, isData)
	put(manifest.PublicKeyName, pub)
	m.Provenance, m.Signatures = manifest.ProvenanceName, sigs
}
