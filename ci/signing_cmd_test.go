package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"os"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/garage-release/garage-release/ci/attest"
	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/signing"
	"github.com/garage-release/garage-release/ci/testenv"
)

// signDist completes a fake dist/ as 'release --sign-key' does after the
// export, with the key pair k, and returns the completed manifest.
func signDist(t *testing.T, dist string, k testenv.KeyPair, repo string) *manifest.Manifest {
	t.Helper()
	pem, err := os.ReadFile(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	s, err := signing.LoadKey(pem, []byte(k.Password))
	if err != nil {
		t.Fatal(err)
	}
	files, err := attest.Complete(dist, attest.Options{Signer: s, ImageRepo: repo, Command: []string{"garage-release", "release"}})
	if err != nil {
		t.Fatal(err)
	}
	if err := attest.Write(dist, files); err != nil {
		t.Fatal(err)
	}
	m, err := manifest.Parse(files[manifest.FileName])
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// download saves a bucket object under dir/<name>.
func (w publishWorld) download(t *testing.T, key, dir, name string) string {
	t.Helper()
	obj, err := w.s3.Client(t).GetObject(context.Background(), w.bucket, key, minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	defer obj.Close()
	data, err := io.ReadAll(obj)
	if err != nil {
		t.Fatalf("download %s: %v", key, err)
	}
	p := filepath.Join(dir, name)
	writeTestFile(t, p, data)
	return p
}

// A signed release published with 'publish --dist' is verified by the real
// cosign CLI, as the page tells a user to: SHA256SUMS, a binary, its
// provenance, the image and the image's attestation, with only the public
// key and no transparency log. Tampered files are refused by cosign, and a
// dist/ changed after signing is refused by publish before any write.
func TestSignedReleaseVerifiesWithCosign(t *testing.T) {
	w := newPublishWorld(t)
	k := testenv.CosignKeyPair(t)
	dir := t.TempDir()
	const v = "v3.1.0"
	commit := strings.Repeat("c", 40)
	fakeDist(t, dir, v, commit)
	dist := filepath.Join(dir, "dist")
	repo := w.prefix + "/kvstore"
	m := signDist(t, dist, k, repo)
	if m.Signatures == nil || m.Build == nil || m.Build.ImageDigest == "" {
		t.Fatalf("the completed manifest lacks signatures or the image digest: %+v", m)
	}

	c := w.cli(t)
	code, _, stderr := c.run(append([]string{"publish", "--dist", dist}, w.flags()...)...)
	if code != exitOK {
		t.Fatalf("publish --dist: exit %d\n%s", code, stderr)
	}

	// A user's download folder: the public key, SHA256SUMS, one binary.
	user := t.TempDir()
	prefix := index.ReleasePrefix(v)
	w.download(t, prefix+manifest.PublicKeyName, user, "cosign.pub")
	w.download(t, prefix+manifest.SumsName, user, "SHA256SUMS")
	w.download(t, prefix+manifest.SumsName+".sig", user, "SHA256SUMS.sig")
	w.download(t, prefix+manifest.EnvelopeName, user, manifest.EnvelopeName)
	bin := m.Targets[0].Path
	w.download(t, prefix+bin, user, path.Base(bin))
	w.download(t, prefix+bin+".sig", user, path.Base(bin)+".sig")
	w.download(t, prefix+manifest.SBOMName, user, manifest.SBOMName)

	ok := func(args ...string) {
		t.Helper()
		if pass, out := testenv.RunCosign(t, user, args...); !pass || !strings.Contains(out, "Verified OK") && !strings.Contains(out, "verified") {
			t.Fatalf("cosign %s: pass=%v\n%s", strings.Join(args, " "), pass, out)
		}
	}
	fails := func(why string, args ...string) {
		t.Helper()
		if pass, out := testenv.RunCosign(t, user, args...); pass {
			t.Fatalf("%s: cosign %s succeeded:\n%s", why, strings.Join(args, " "), out)
		}
	}
	base := path.Base(bin)
	ok("verify-blob", "--key", "cosign.pub", "--signature", "SHA256SUMS.sig", "--insecure-ignore-tlog", "SHA256SUMS")
	ok("verify-blob", "--key", "cosign.pub", "--signature", base+".sig", "--insecure-ignore-tlog", base)
	ok("verify-blob-attestation", "--key", "cosign.pub", "--signature", manifest.EnvelopeName, "--type", "slsaprovenance1", "--insecure-ignore-tlog", base)
	ref := repo + "@" + m.Build.ImageDigest
	ok("verify", "--key", "cosign.pub", "--insecure-ignore-tlog", "--allow-http-registry", ref)
	ok("verify-attestation", "--key", "cosign.pub", "--insecure-ignore-tlog", "--allow-http-registry", "--type", "slsaprovenance1", ref)

	// Tampering: a changed binary fails both its signature and the
	// provenance; SHA256SUMS's signature does not sign another file.
	tampered := filepath.Join(user, base)
	data, _ := os.ReadFile(tampered)
	data[len(data)-1] ^= 1
	writeTestFile(t, tampered, data)
	fails("a changed binary", "verify-blob", "--key", "cosign.pub", "--signature", base+".sig", "--insecure-ignore-tlog", base)
	fails("a changed binary", "verify-blob-attestation", "--key", "cosign.pub", "--signature", manifest.EnvelopeName, "--type", "slsaprovenance1", "--insecure-ignore-tlog", base)
	fails("another file's signature", "verify-blob", "--key", "cosign.pub", "--signature", "SHA256SUMS.sig", "--insecure-ignore-tlog", manifest.SBOMName)
	other := testenv.CosignKeyPair(t)
	fails("another key", "verify-blob", "--key", other.Public, "--signature", "SHA256SUMS.sig", "--insecure-ignore-tlog", "SHA256SUMS")
	fails("another key", "verify", "--key", other.Public, "--insecure-ignore-tlog", "--allow-http-registry", ref)

	// The page lists the signatures and tells how to verify.
	page := string(w.getObject(t, index.HTMLKey))
	for _, want := range []string{"cosign verify-blob", "SHA256SUMS.sig", manifest.SBOMName, m.Build.ImageDigest} {
		if !strings.Contains(page, want) {
			t.Errorf("the release page does not show %q", want)
		}
	}

	// A dist/ whose binary changed after signing is refused before any
	// write: the bucket and the registry stay as they are.
	dir2 := t.TempDir()
	const v2 = "v3.2.0"
	fakeDist(t, dir2, v2, strings.Repeat("d", 40))
	dist2 := filepath.Join(dir2, "dist")
	m2 := signDist(t, dist2, k, repo)
	p := filepath.Join(dist2, filepath.FromSlash(m2.Targets[1].Path))
	data, _ = os.ReadFile(p)
	data[0] ^= 1
	writeTestFile(t, p, data)
	// SHA256SUMS and the manifest are rewritten to match, as someone
	// replacing the binary would: only the signatures can tell.
	sum := sha256.Sum256(data)
	m2.Targets[1].SHA256 = hex.EncodeToString(sum[:])
	sums := manifest.Sums{}
	for _, a := range m2.Targets {
		sums[a.Path] = a.SHA256
	}
	writeTestFile(t, filepath.Join(dist2, manifest.SumsName), sums.Format())
	mdata, err := m2.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, filepath.Join(dist2, manifest.FileName), mdata)
	before := w.keys(t)
	code, _, stderr = c.run(append([]string{"publish", "--dist", dist2}, w.flags()...)...)
	if code == exitOK || !strings.Contains(stderr, "signature") {
		t.Fatalf("publish of a dist/ changed after signing: exit %d\n%s", code, stderr)
	}
	if after := w.keys(t); strings.Join(after, "\n") != strings.Join(before, "\n") {
		t.Errorf("a refused publish changed the bucket:\nbefore %v\nafter  %v", before, after)
	}
	if tags := w.tags(t, repo); strings.Contains(strings.Join(tags, " "), v2) {
		t.Errorf("a refused publish tagged %s: %v", v2, tags)
	}
}

// A wrong password or a file that is no key stops the release before the
// engine is contacted, naming the problem and showing no secret.
func TestSigningKeyRefusals(t *testing.T) {
	k := testenv.CosignKeyPair(t)
	pem, err := os.ReadFile(k.Private)
	if err != nil {
		t.Fatal(err)
	}
	notKey := filepath.Join(t.TempDir(), "notakey.pem")
	writeTestFile(t, notKey, []byte("hello\n"))
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want string
	}{
		{"wrong password", []string{"--sign-key", k.Private}, map[string]string{envSigningPassword: "wrong-" + k.Password}, "password"},
		{"missing file", []string{"--sign-key", filepath.Join(t.TempDir(), "none.key")}, nil, "no such file"},
		{"not a key", []string{"--sign-key", notKey}, map[string]string{envSigningPassword: k.Password}, "--sign-key"},
		{"key in env, wrong password", nil, map[string]string{envSigningKey: string(pem), envSigningPassword: "nope"}, envSigningKey},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			for k, v := range tc.vars {
				c.vars[k] = v
			}
			code, stdout, stderr := c.run(append([]string{"release", "--tag", "v1.0.0"}, tc.args...)...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Fatalf("exit %d, want %d naming %q:\n%s", code, exitUsage, tc.want, stderr)
			}
			if c.dialed {
				t.Error("the engine was contacted")
			}
			for _, secret := range []string{k.Password, "-----BEGIN"} {
				if strings.Contains(stdout+stderr, secret) {
					t.Errorf("the output shows a secret (%q)", secret)
				}
			}
		})
	}
}

// getObject reads a bucket object.
func (w publishWorld) getObject(t *testing.T, key string) []byte {
	t.Helper()
	p := w.download(t, key, t.TempDir(), "object")
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// promote carries a signed development build's signatures over: the
// promoted release's files are the same bytes, so cosign verifies them
// with the same key, and the image keeps its digest and its signature.
func TestPromoteKeepsSignatures(t *testing.T) {
	w := newPublishWorld(t)
	k := testenv.CosignKeyPair(t)
	repo := w.prefix + "/kvstore"
	commit := strings.Repeat("5", 40)
	c := w.cli(t)
	fakeDist(t, c.dir, commit, commit)
	m := signDist(t, filepath.Join(c.dir, "dist"), k, repo)
	if code, _, stderr := c.run(append([]string{"publish"}, w.flags()...)...); code != exitOK {
		t.Fatalf("publish of the development build: exit %d\n%s", code, stderr)
	}
	if code, _, stderr := c.run(append([]string{"promote", "--from", commit, "--to", "v4.0.0"}, w.flags()...)...); code != exitOK {
		t.Fatalf("promote: exit %d\n%s", code, stderr)
	}
	user := t.TempDir()
	prefix := index.ReleasePrefix("v4.0.0")
	for _, n := range []string{manifest.PublicKeyName, manifest.SumsName, manifest.SumsName + ".sig", manifest.EnvelopeName} {
		w.download(t, prefix+n, user, n)
	}
	bin := m.Targets[1].Path
	w.download(t, prefix+bin, user, path.Base(bin))
	promoted, err := manifest.Parse(w.getObject(t, prefix+manifest.FileName))
	if err != nil {
		t.Fatal(err)
	}
	if promoted.Signatures == nil || promoted.Version != "v4.0.0" {
		t.Fatalf("the promoted manifest lost its signatures: %+v", promoted)
	}
	for _, args := range [][]string{
		{"verify-blob", "--key", manifest.PublicKeyName, "--signature", "SHA256SUMS.sig", "--insecure-ignore-tlog", "SHA256SUMS"},
		{"verify-blob-attestation", "--key", manifest.PublicKeyName, "--signature", manifest.EnvelopeName, "--type", "slsaprovenance1", "--insecure-ignore-tlog", path.Base(bin)},
		{"verify", "--key", manifest.PublicKeyName, "--insecure-ignore-tlog", "--allow-http-registry", repo + ":v4.0.0"},
	} {
		if ok, out := testenv.RunCosign(t, user, args...); !ok {
			t.Errorf("cosign %s after promote:\n%s", strings.Join(args, " "), out)
		}
	}
}
