package main

import (
	"bytes"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/testenv"
)

// daggerCLI finds the dagger CLI the way the Go SDK does, or skips.
func daggerCLI(t *testing.T) string {
	t.Helper()
	if bin := os.Getenv("_EXPERIMENTAL_DAGGER_CLI_BIN"); bin != "" {
		return bin
	}
	bin, err := exec.LookPath("dagger")
	if err != nil {
		t.Skip("no dagger CLI: set _EXPERIMENTAL_DAGGER_CLI_BIN or put dagger on PATH")
	}
	return bin
}

// TestE2EModuleMatchesCLI: `dagger call release export` gives the same
// files and the same binaries as `go run ./ci release`, for the same source
// and version. The module is a copy of this repository, prepared with
// `dagger develop` as a contributor would.
func TestE2EModuleMatchesCLI(t *testing.T) {
	requireEngine(t)
	dagger := daggerCLI(t)
	mod := t.TempDir()
	copyRepo(t, "..", mod)
	// Both front ends sign with one key: the module gets it as secrets.
	k := testenv.CosignKeyPair(t)
	pem := string(readFile(t, k.Private))
	keyVars := map[string]string{envSigningKey: pem, envSigningPassword: k.Password}
	run := func(args ...string) string {
		t.Helper()
		cmd := exec.Command(dagger, args...)
		cmd.Dir = mod
		cmd.Env = append(os.Environ(), "DAGGER_NO_NAG=1", envSigningKey+"="+pem, envSigningPassword+"="+k.Password)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("dagger %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String(), 40))
		}
		return string(out)
	}
	const tag = "v0.0.8-module"
	commit := strings.Repeat("cd", 20)
	run("develop")
	moduleDist := filepath.Join(t.TempDir(), "dist")
	run("call", "release", "--tag", tag, "--commit", commit,
		"--sign-key", "env:"+envSigningKey, "--sign-password", "env:"+envSigningPassword, "export", "--path", moduleDist)

	work := t.TempDir()
	if code, _, _ := runCLIEnv(t, work, keyVars, "release", "--tag", tag, "--commit", commit); code != 0 {
		t.Fatalf("go run ./ci release exited %d", code)
	}
	cliDist := filepath.Join(work, "dist")
	// One platform's image, as `dagger call image --platform linux/arm64 terminal` uses.
	if got := strings.TrimSpace(run("call", "image", "--platform", "linux/arm64", "--tag", tag, "platform")); got != "linux/arm64" {
		t.Errorf("image --platform linux/arm64 has platform %q", got)
	}
	if got := run("call", "image", "--platform", "linux/arm64", "--tag", tag, "entrypoint"); !strings.Contains(got, "/kvstore") {
		t.Errorf("image entrypoint: %q", got)
	}
	// The checks answer from a shell too (a failure would fail the call).
	run("call", "check")
	if a, b := fileList(t, moduleDist), fileList(t, cliDist); a != b {
		t.Errorf("different files:\nmodule:\n%s\ncli:\n%s", a, b)
	}
	a, b := readFile(t, filepath.Join(moduleDist, "SHA256SUMS")), readFile(t, filepath.Join(cliDist, "SHA256SUMS"))
	if !bytes.Equal(a, b) {
		t.Errorf("different binaries:\nmodule:\n%s\ncli:\n%s", a, b)
	}
	// The same image, and signatures cosign accepts from either.
	mm, err := manifest.Parse(readFile(t, filepath.Join(moduleDist, manifest.FileName)))
	if err != nil {
		t.Fatal(err)
	}
	cm, err := manifest.Parse(readFile(t, filepath.Join(cliDist, manifest.FileName)))
	if err != nil {
		t.Fatal(err)
	}
	if mm.Build == nil || cm.Build == nil || mm.Build.ImageDigest != cm.Build.ImageDigest || mm.Signatures == nil {
		t.Errorf("module and CLI: image digests %+v and %+v, module signatures %v", mm.Build, cm.Build, mm.Signatures)
	}
	for _, dist := range []string{moduleDist, cliDist} {
		if ok, out := testenv.RunCosign(t, dist, "verify-blob", "--key", k.Public, "--signature", "SHA256SUMS.sig", "--insecure-ignore-tlog", "SHA256SUMS"); !ok {
			t.Errorf("cosign verify-blob in %s:\n%s", dist, out)
		}
	}
}

// copyRepo copies the repository's own files (not .git, dist, generated
// bindings or build output) to dst.
func copyRepo(t *testing.T, src, dst string) {
	t.Helper()
	skip := map[string]bool{".git": true, "dist": true, "internal": true, "dagger.gen.go": true, "ci/example/target": true}
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if skip[filepath.ToSlash(rel)] {
			if d.IsDir() {
				return filepath.SkipDir
			}
			return nil
		}
		if d.IsDir() {
			return os.MkdirAll(filepath.Join(dst, rel), 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		info, _ := d.Info()
		return os.WriteFile(filepath.Join(dst, rel), data, info.Mode().Perm())
	})
	if err != nil {
		t.Fatal(err)
	}
}

func fileList(t *testing.T, dir string) string {
	t.Helper()
	var files []string
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			rel, _ := filepath.Rel(dir, p)
			files = append(files, rel)
		}
		return err
	})
	return strings.Join(files, "\n")
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return strings.Join(lines, "\n")
}

// TestE2EModuleFromAnotherFolder: the module used the way a maintainer
// uses it on their own project, `dagger call -m <module> release --source .
// export --path dist` from the project's folder. The release records the
// commit and SOURCE_DATE_EPOCH from the project's git metadata, as the CLI
// does, so both give the same binaries.
func TestE2EModuleFromAnotherFolder(t *testing.T) {
	requireEngine(t)
	dagger := daggerCLI(t)
	mod := t.TempDir()
	copyRepo(t, "..", mod)
	develop := exec.Command(dagger, "develop")
	develop.Dir = mod
	if out, err := develop.CombinedOutput(); err != nil {
		t.Fatalf("dagger develop: %v\n%s", err, tail(string(out), 40))
	}
	dir := checkoutFixture(t, "workspace", nil)
	head, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.TrimSpace(string(head))
	call := exec.Command(dagger, "call", "-m", mod, "release", "--source", ".", "--targets", "amd64", "export", "--path", "dist")
	call.Dir = dir
	call.Env = append(os.Environ(), "DAGGER_NO_NAG=1")
	if out, err := call.CombinedOutput(); err != nil {
		t.Fatalf("dagger call -m %s release: %v\n%s", mod, err, tail(string(out), 40))
	}
	m, err := manifest.Parse(readFile(t, filepath.Join(dir, "dist", manifest.FileName)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Commit != commit || m.Version != commit || m.Class != "development" {
		t.Errorf("the module released version %q (%s) from commit %q; want the checkout's commit %s", m.Version, m.Class, m.Commit, commit)
	}
	// The CLI in the same checkout (another checkout would be another
	// commit), into a folder of its own.
	if code, _, _ := runCLI(t, dir, "build", "--targets", "amd64", "--commit", commit, "--out", "dist-cli"); code != 0 {
		t.Fatalf("go run ./ci build exited %d", code)
	}
	cli := filepath.Join(dir, "dist-cli")
	cm, err := manifest.Parse(readFile(t, filepath.Join(cli, manifest.FileName)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Build == nil || cm.Build == nil || m.Build.SourceDateEpoch != cm.Build.SourceDateEpoch || m.Build.SourceDateEpoch == 0 {
		t.Errorf("SOURCE_DATE_EPOCH: module %+v, CLI %+v; want the commit's time in both", m.Build, cm.Build)
	}
	if a, b := readFile(t, filepath.Join(dir, "dist", "SHA256SUMS")), readFile(t, filepath.Join(cli, "SHA256SUMS")); !bytes.Equal(a, b) {
		t.Errorf("the module and the CLI built different binaries of one commit:\n%s\n%s", a, b)
	}
}

// TestE2EModulePublish: `dagger call publish` publishes a project to the
// test S3 server, reached from the engine through a service binding
// (--s-3-service tcp://...), with the credentials as env: secrets; its
// compile cache (packs and target/ snapshots) goes to the same bucket, and
// a second call in a new cache namespace starts from there.
func TestE2EModulePublish(t *testing.T) {
	requireEngine(t)
	dagger := daggerCLI(t)
	s3env := testenv.S3(t)
	bucket := testenv.NewBucket(t, s3env)
	client := s3env.Client(t)
	mod := t.TempDir()
	copyRepo(t, "..", mod)
	dir := checkoutFixture(t, "workspace", nil)
	head, err := exec.Command("git", "-C", dir, "rev-parse", "HEAD").Output()
	if err != nil {
		t.Fatal(err)
	}
	commit := strings.TrimSpace(string(head))
	run := func(wd string, args ...string) (string, string) {
		t.Helper()
		cmd := exec.Command(dagger, args...)
		cmd.Dir = wd
		cmd.Env = append(os.Environ(), "DAGGER_NO_NAG=1", "GR_TEST_KEY="+s3env.AccessKey, "GR_TEST_SECRET="+s3env.SecretKey)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("dagger %s: %v\n%s", strings.Join(args, " "), err, tail(stderr.String(), 60))
		}
		return string(out), stderr.String()
	}
	run(mod, "develop")
	// The fixture's binary says 0.3.1: a stable release must be that.
	publishArgs := func(ns string, extra ...string) []string {
		return append([]string{"--progress", "plain", "call", "-m", mod, "publish", "--source", ".", "--tag", "v0.3.1", "--commit", commit, "--targets", "amd64",
			"--s-3-endpoint", "http://" + s3env.Endpoint, "--s-3-service", "tcp://" + s3env.Endpoint,
			"--s-3-bucket", bucket, "--s-3-region", s3env.Region,
			"--access-key-id", "env:GR_TEST_KEY", "--secret-access-key", "env:GR_TEST_SECRET",
			"--cache-namespace", ns}, extra...)
	}
	out, _ := run(dir, publishArgs("e2e-modpub-a-"+randomHex(t))...)
	if !strings.Contains(out, "published v0.3.1 (stable)") {
		t.Fatalf("publish said: %s", out)
	}
	state := bucketState(t, client, bucket)
	for _, k := range []string{"_releases/v0.3.1/manifest.json", "_releases.html", "_releases.json"} {
		if _, ok := state[k]; !ok {
			t.Errorf("the bucket has no %s", k)
		}
	}
	var packs, snapshots int
	for k := range state {
		if strings.HasPrefix(k, "_cache/sccache/") {
			packs++
		}
		if strings.HasPrefix(k, "_cache/target/") {
			snapshots++
		}
	}
	if packs == 0 || snapshots == 0 {
		t.Fatalf("the module's publish wrote %d compile cache packs and %d target/ snapshots, want some of each", packs, snapshots)
	}
	if m := readObject(t, client, bucket, "_releases/v0.3.1/manifest.json"); !strings.Contains(m, commit) {
		t.Errorf("the manifest does not name the commit:\n%s", m)
	}
	// Again in a new namespace (--force: the version is out): the build
	// starts from its target/ snapshot in S3 and compiles nothing.
	_, stderr := run(dir, publishArgs("e2e-modpub-b-"+randomHex(t), "--force")...)
	if f := cacheFigures(stderr)["build amd64"]; !strings.Contains(stderr, "x86_64-unknown-linux-gnu started from the target/ snapshot in S3") || f[0]+f[1] != 0 {
		t.Errorf("the second publish did not start from the compile cache's snapshot (sccache: %v):\n%s", f, tail(stderr, 40))
	}
}
