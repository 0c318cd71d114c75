package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/mod/module"
	modzip "golang.org/x/mod/zip"

	"github.com/garage-release/garage-release/ci/testenv"
)

// modulePath is garage-release's Go module, as users name it in `go run
// <module>/ci@<version>`.
const modulePath = "github.com/garage-release/garage-release"

// TestRunFromModuleProxy is how a maintainer runs garage-release in their
// own repository: `go run github.com/garage-release/garage-release/ci@<version>`
// from the project's folder, with no checkout of garage-release. The
// current tree is laid out as a module proxy folder (what GOPROXY=file://
// reads: the .info, .mod and .zip of a pseudo-version), its dependencies
// come from the module cache, and nothing is fetched from the network.
func TestRunFromModuleProxy(t *testing.T) {
	if testing.Short() {
		t.Skip("builds garage-release from a module zip (-short)")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	version, when := pseudoVersion(t, root)
	proxy := t.TempDir()
	dir := filepath.Join(proxy, filepath.FromSlash(modulePath), "@v")
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	zf, err := os.Create(filepath.Join(dir, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	if err := modzip.CreateFromDir(zf, module.Version{Path: modulePath, Version: version}, root); err != nil {
		t.Fatalf("module zip of %s: %v", root, err)
	}
	if err := zf.Close(); err != nil {
		t.Fatal(err)
	}
	gomod, err := os.ReadFile(filepath.Join(root, "go.mod"))
	if err != nil {
		t.Fatal(err)
	}
	info, _ := json.Marshal(map[string]string{"Version": version, "Time": when.Format(time.RFC3339)})
	for name, data := range map[string][]byte{version + ".mod": gomod, version + ".info": info, "list": []byte(version + "\n")} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	modcache, err := exec.Command(goBin, "env", "GOMODCACHE").Output()
	if err != nil {
		t.Fatal(err)
	}

	// An unrelated project: a Rust crate in a folder of its own, nothing of
	// garage-release near it.
	project := t.TempDir()
	for name, text := range map[string]string{
		"Cargo.toml":  "[package]\nname = \"hello\"\nversion = \"1.0.0\"\nedition = \"2021\"\n",
		"src/main.rs": "fn main() {\n    println!(\"hello 1.0.0\");\n}\n",
	} {
		p := filepath.Join(project, filepath.FromSlash(name))
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	goRun := func(args ...string) (string, int) {
		cmd := exec.Command(goBin, append([]string{"run", modulePath + "/ci@" + version}, args...)...)
		cmd.Dir = project
		cmd.Env = append(os.Environ(),
			"GOPROXY=file://"+filepath.ToSlash(proxy)+",file://"+filepath.ToSlash(filepath.Join(strings.TrimSpace(string(modcache)), "cache", "download")),
			// The checksum database is not reachable here; the dependencies
			// come from the module cache, checked when they were downloaded.
			"GONOSUMDB="+modulePath, "GOSUMDB=off", "GOFLAGS=", "GOWORK=off", "GOTOOLCHAIN=local",
			// The engine is never reached: plan needs none, --help neither.
			"_EXPERIMENTAL_DAGGER_RUNNER_HOST=unix:///nonexistent")
		out, err := cmd.CombinedOutput()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("go run: %v", err)
		}
		return string(out), code
	}
	out, code := goRun("check", "--help")
	if code != 0 || !strings.Contains(out, "Usage: go run ./ci check") || !strings.Contains(out, "--clippy-args") {
		t.Fatalf("go run %s/ci@%s check --help: exit %d\n%s", modulePath, version, code, out)
	}
	s3 := testenv.S3(t)
	bucket := testenv.NewBucket(t, s3)
	t.Setenv("AWS_ACCESS_KEY_ID", s3.AccessKey)
	t.Setenv("AWS_SECRET_ACCESS_KEY", s3.SecretKey)
	out, code = goRun("plan", "--tag", "v1.0.0", "--s3-endpoint", s3.URL(), "--s3-bucket", bucket, "--s3-region", s3.Region)
	if code != 0 {
		t.Fatalf("go run %s/ci@%s plan: exit %d\n%s", modulePath, version, code, out)
	}
	// The project is the current folder: its binary, not the example's.
	for _, want := range []string{"_releases/v1.0.0/x86_64-unknown-linux-gnu/hello", "_releases/v1.0.0/manifest.json"} {
		if !strings.Contains(out, want) {
			t.Errorf("plan does not list %s:\n%s", want, out)
		}
	}
	if entries, _ := os.ReadDir(project); len(entries) != 2 {
		t.Errorf("the run wrote into the project: %v", entries)
	}
}

// pseudoVersion names the tree as Go names an untagged commit
// (v0.0.0-<UTC time>-<12 hex>), from git when the tree is a checkout.
func pseudoVersion(t *testing.T, root string) (string, time.Time) {
	out, err := exec.Command("git", "-C", root, "log", "-1", "--format=%H %ct").Output()
	fields := strings.Fields(string(out))
	if err != nil || len(fields) != 2 {
		return "v0.0.0-20260101000000-000000000000", time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	}
	sec, _ := strconv.ParseInt(fields[1], 10, 64)
	when := time.Unix(sec, 0).UTC()
	return "v0.0.0-" + when.Format("20060102150405") + "-" + fields[0][:12], when
}
