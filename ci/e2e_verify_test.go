package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/testenv"
)

// gitCommit commits everything in dir (a fresh repository when it has
// none) and returns the commit.
func gitCommit(t *testing.T, dir, message string) string {
	t.Helper()
	git := func(args ...string) string {
		t.Helper()
		cmd := exec.Command("git", args...)
		cmd.Dir = dir
		cmd.Env = append(os.Environ(), "GIT_AUTHOR_DATE=2026-01-02T03:04:05Z", "GIT_COMMITTER_DATE=2026-01-02T03:04:05Z")
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if _, err := os.Stat(filepath.Join(dir, ".git")); err != nil {
		git("init", "-q")
	}
	git("add", "-A")
	git("-c", "user.name=test", "-c", "user.email=test@example.org", "commit", "-q", "--allow-empty", "-m", message)
	return git("rev-parse", "HEAD")
}

// buildResult is what a reproducibility check compares.
type buildResult struct {
	binaries    map[string]string // path → sha256
	imageDigest string
	sbom        string
}

func readBuild(t *testing.T, dist string) buildResult {
	t.Helper()
	m, err := manifest.Parse(readFile(t, filepath.Join(dist, manifest.FileName)))
	if err != nil {
		t.Fatal(err)
	}
	r := buildResult{binaries: map[string]string{}, sbom: string(readFile(t, filepath.Join(dist, manifest.SBOMName)))}
	for _, a := range m.Targets {
		r.binaries[a.Path] = a.SHA256
	}
	if r.imageDigest, _, err = publish.TarballDigest(filepath.Join(dist, publish.ImageTarball)); err != nil {
		t.Fatal(err)
	}
	if m.Build == nil || m.Build.ImageDigest != r.imageDigest {
		t.Errorf("the manifest's image digest is not the tarball's %s: %+v", r.imageDigest, m.Build)
	}
	return r
}

// Two cold builds of one commit, in cache namespaces of their own, give
// the same binaries, the same image digest and the same SBOM: for the
// example and for a project with vendored dependencies and a build script.
func TestE2EReproducibleBuilds(t *testing.T) {
	requireEngine(t)
	projects := map[string]func(t *testing.T) string{
		"example": func(t *testing.T) string {
			dir := copyExample(t)
			gitCommit(t, dir, "example")
			return dir
		},
		"vendored": func(t *testing.T) string { return checkoutFixture(t, "vendored", nil) },
		// 158 crates vendored from Debian's packages, LTO: minutes per build.
		"heavy": func(t *testing.T) string {
			dir := filepath.Join(t.TempDir(), "heavy")
			cmd := exec.Command("bash", filepath.Join("..", "bench", "heavy-project"), dir)
			if out, err := cmd.CombinedOutput(); err != nil {
				// It needs apt's package lists and Debian's archive.
				t.Skipf("bench/heavy-project could not write the project: %v\n%s", err, tail(string(out), 5))
			}
			gitCommit(t, dir, "heavy")
			return dir
		},
	}
	for name, checkout := range projects {
		t.Run(name, func(t *testing.T) {
			src := checkout(t)
			work := t.TempDir()
			var results []buildResult
			for i := range 2 {
				out := filepath.Join(work, "dist"+string(rune('a'+i)))
				ns := "repro-" + randomHex(t)[:10]
				code, _, stderr := runCLI(t, work, "image", "--source", src, "--targets", "amd64,arm", "--cache-namespace", ns, "--out", out)
				if code != 0 {
					t.Fatalf("build %d exited %d:\n%s", i+1, code, tail(stderr, 40))
				}
				results = append(results, readBuild(t, out))
			}
			a, b := results[0], results[1]
			for p, sum := range a.binaries {
				if b.binaries[p] != sum {
					t.Errorf("%s differs between two cold builds: %s, %s", p, sum, b.binaries[p])
				}
			}
			if a.imageDigest != b.imageDigest {
				t.Errorf("the image digest differs between two cold builds: %s, %s", a.imageDigest, b.imageDigest)
			}
			if a.sbom != b.sbom {
				t.Errorf("the SBOM differs between two builds of the same commit")
			}
		})
	}
}

// 'verify' rebuilds a published, signed release from its commit and finds
// every binary and the image identical; sources that differ from the
// commit give a table of what differs and a failure; a checkout of another
// commit is refused before anything is built.
func TestE2EVerify(t *testing.T) {
	requireEngine(t)
	s3 := testenv.S3(t)
	bucket := testenv.NewBucket(t, s3)
	k := testenv.CosignKeyPair(t)
	vars := map[string]string{
		"AWS_ACCESS_KEY_ID": s3.AccessKey, "AWS_SECRET_ACCESS_KEY": s3.SecretKey,
		envSigningPassword: k.Password,
	}
	s3Flags := []string{"--s3-endpoint", s3.URL(), "--s3-bucket", bucket}
	src := copyExample(t)
	commit := gitCommit(t, src, "release")
	work := t.TempDir()
	prefix := testenv.Registry(t) + "/verify-" + randomHex(t)[:8]
	args := append([]string{"release", "--publish", "--source", src, "--tag", "v0.4.0", "--targets", "amd64,arm64",
		"--sign-key", k.Private, "--registry", prefix, "--registry-insecure"}, s3Flags...)
	if code, _, stderr := runCLIEnv(t, work, vars, args...); code != 0 {
		t.Fatalf("release --publish exited %d:\n%s", code, tail(stderr, 40))
	}
	// What the engine built and the host signed verifies with cosign.
	dist := filepath.Join(work, "dist")
	m, err := manifest.Parse(readFile(t, filepath.Join(dist, manifest.FileName)))
	if err != nil {
		t.Fatal(err)
	}
	bin := m.Targets[0].Path
	for _, args := range [][]string{
		{"verify-blob", "--key", k.Public, "--signature", "SHA256SUMS.sig", "--insecure-ignore-tlog", "SHA256SUMS"},
		{"verify-blob", "--key", k.Public, "--signature", bin + ".sig", "--insecure-ignore-tlog", bin},
		{"verify-blob-attestation", "--key", k.Public, "--signature", manifest.EnvelopeName, "--type", "slsaprovenance1", "--insecure-ignore-tlog", bin},
		{"verify", "--key", k.Public, "--insecure-ignore-tlog", "--allow-http-registry", prefix + "/kvstore@" + m.Build.ImageDigest},
		{"verify-attestation", "--key", k.Public, "--insecure-ignore-tlog", "--allow-http-registry", "--type", "slsaprovenance1", prefix + "/kvstore@" + m.Build.ImageDigest},
	} {
		if ok, out := testenv.RunCosign(t, dist, args...); !ok {
			t.Errorf("cosign %s:\n%s", strings.Join(args, " "), out)
		}
	}
	published, err := manifest.Parse([]byte(readObject(t, s3.Client(t), bucket, "_releases/v0.4.0/"+manifest.FileName)))
	if err != nil {
		t.Fatal(err)
	}
	if published.Image == nil || published.Image.Digest != m.Build.ImageDigest {
		t.Errorf("the pushed digest %v is not the one signed (%s)", published.Image, m.Build.ImageDigest)
	}

	code, stdout, stderr := runCLIEnv(t, work, vars, append([]string{"verify", "v0.4.0", "--source", src}, s3Flags...)...)
	if code != 0 {
		t.Fatalf("verify of an untouched checkout exited %d:\n%s\n%s", code, stdout, tail(stderr, 40))
	}
	if strings.Contains(stdout, "DIFFERS") || strings.Count(stdout, "same") != 3 {
		t.Errorf("verify's table should show two binaries and the image the same:\n%s", stdout)
	}

	// The sources changed without a commit: the rebuild differs.
	mainRS := filepath.Join(src, "src", "main.rs")
	writeFile(t, mainRS, strings.Replace(string(readFile(t, mainRS)), `"127.0.0.1:3900"`, `"127.0.0.1:3901"`, 1))
	code, stdout, _ = runCLIEnv(t, work, vars, append([]string{"verify", "v0.4.0", "--source", src}, s3Flags...)...)
	if code != exitFailure || !strings.Contains(stdout, "DIFFERS") {
		t.Errorf("verify of changed sources: exit %d, want %d and a DIFFERS row:\n%s", code, exitFailure, stdout)
	}

	// Another commit: refused before the engine builds anything.
	other := gitCommit(t, src, "later")
	code, _, stderr = runCLIEnv(t, work, vars, append([]string{"verify", "v0.4.0", "--source", src}, s3Flags...)...)
	if code != exitUsage || !strings.Contains(stderr, commit) || !strings.Contains(stderr, other) {
		t.Errorf("verify from another commit: exit %d, want %d naming both commits:\n%s", code, exitUsage, stderr)
	}
}

// verify on a workspace whose binary sits in a member crate, with a build
// script and a path dependency: the published build is found again.
func TestE2EVerifyWorkspace(t *testing.T) {
	requireEngine(t)
	s3 := testenv.S3(t)
	bucket := testenv.NewBucket(t, s3)
	vars := map[string]string{"AWS_ACCESS_KEY_ID": s3.AccessKey, "AWS_SECRET_ACCESS_KEY": s3.SecretKey}
	s3Flags := []string{"--s3-endpoint", s3.URL(), "--s3-bucket", bucket}
	src := checkoutFixture(t, "workspace", nil)
	work := t.TempDir()
	args := append([]string{"release", "--publish", "--source", src, "--tag", "v0.3.1", "--targets", "amd64"}, s3Flags...)
	if code, _, stderr := runCLIEnv(t, work, vars, args...); code != 0 {
		t.Fatalf("release --publish exited %d:\n%s", code, tail(stderr, 40))
	}
	code, stdout, stderr := runCLIEnv(t, work, vars, append([]string{"verify", "v0.3.1", "--source", src}, s3Flags...)...)
	if code != 0 || strings.Contains(stdout, "DIFFERS") || strings.Count(stdout, "same") != 2 {
		t.Fatalf("verify exited %d, want 0 with the binary and the image the same:\n%s\n%s", code, stdout, tail(stderr, 40))
	}
}
