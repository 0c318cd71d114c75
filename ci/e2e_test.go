package main

// End-to-end tests: the real pipeline on a real Dagger engine. They run when
// an engine is reachable (_EXPERIMENTAL_DAGGER_RUNNER_HOST or
// DAGGER_SESSION_PORT set) and skip with a one-line reason otherwise.

import (
	"archive/tar"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"syscall"
	"testing"
	"time"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/elfcheck"
	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/provenance"
	"github.com/garage-release/garage-release/ci/target"
)

// requireEngine skips the test when no engine is reachable.
func requireEngine(t *testing.T) {
	t.Helper()
	if os.Getenv("_EXPERIMENTAL_DAGGER_RUNNER_HOST") == "" && os.Getenv("DAGGER_SESSION_PORT") == "" {
		t.Skip("no Dagger engine: set _EXPERIMENTAL_DAGGER_RUNNER_HOST or run under 'dagger run'")
	}
}

// runCLI runs the CLI in-process with captured output.
func runCLI(t *testing.T, dir string, args ...string) (code int, stdout, stderr string) {
	return runCLIEnv(t, dir, nil, args...)
}

// runCLIEnv is runCLI with variables set over the process environment.
func runCLIEnv(t *testing.T, dir string, vars map[string]string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	getenv := func(k string) string {
		if v, ok := vars[k]; ok {
			return v
		}
		return os.Getenv(k)
	}
	e := &env{stdout: &out, stderr: io.MultiWriter(&errb, testWriter{t}), getenv: getenv, workdir: dir, dial: dagger.Connect}
	code = run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

// testWriter shows the CLI's progress in `go test -v`.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// copyExample writes the bundled example to a fresh folder.
func copyExample(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	if err := writeFS(example.FS, dir); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestE2EReleaseExample(t *testing.T) {
	requireEngine(t)
	work := t.TempDir()
	const tag = "v0.0.1-e2e"
	// A namespace of its own makes the first run build for real.
	ns := fmt.Sprintf("e2e-%d", time.Now().UnixNano())
	// A memo of checked binaries of its own (see verifiedMemoFile).
	t.Setenv("XDG_CACHE_HOME", t.TempDir())
	code, _, stderr := runCLI(t, work, "release", "--tag", tag, "--commit", strings.Repeat("ab", 20), "--out", "dist", "--cache-namespace", ns)
	if code != 0 {
		t.Fatalf("release exited %d", code)
	}
	memo := verifiedMemoFile(t, len(target.All))
	if !strings.Contains(stderr, "releasing the bundled example") {
		t.Errorf("release did not say it releases the bundled example")
	}
	dist := filepath.Join(work, "dist")
	checkDist(t, dist, tag, target.All)

	// A second run with no change is served from the engine's cache: the
	// build step did not run again (the engine appends a line to each
	// target's build log only when it really runs the build).
	code, _, _ = runCLI(t, work, "release", "--tag", tag, "--commit", strings.Repeat("ab", 20), "--out", "dist2", "--cache-namespace", ns)
	if code != 0 {
		t.Fatalf("second release exited %d", code)
	}
	a, b := readFile(t, filepath.Join(dist, manifest.SumsName)), readFile(t, filepath.Join(work, "dist2", manifest.SumsName))
	if !bytes.Equal(a, b) {
		t.Errorf("second run produced different binaries:\n%s\n%s", a, b)
	}
	for _, tg := range target.All {
		if n := buildCount(t, ns, tg); n != 1 {
			t.Errorf("%s was built %d times in two runs with no change, want 1", tg.Name, n)
		}
	}
	// The same binaries came from the memo: nothing was stored again (a
	// store replaces the file), and the sums above are the same.
	if again := verifiedMemoFile(t, len(target.All)); !os.SameFile(memo, again) {
		t.Errorf("the second run stored binaries in the memo again: it read them back")
	}
}

// verifiedMemoFile checks that the memo of checked binaries under
// XDG_CACHE_HOME holds want entries and returns the file's identity. An
// entry is stored only when the engine's digest proves the sha256 read
// back: no entry means the engine's digest format is not one Verify knows.
func verifiedMemoFile(t *testing.T, want int) os.FileInfo {
	t.Helper()
	path := filepath.Join(os.Getenv("XDG_CACHE_HOME"), "garage-release", "verified.json")
	info, err := os.Stat(path)
	if err != nil {
		t.Fatalf("no memo of checked binaries: %v", err)
	}
	var f struct {
		Entries map[string]json.RawMessage `json:"entries"`
	}
	if err := json.Unmarshal(readFile(t, path), &f); err != nil {
		t.Fatal(err)
	}
	if len(f.Entries) != want {
		t.Errorf("the memo holds %d entries, want %d", len(f.Entries), want)
	}
	return info
}

// buildCount reads how many times the engine ran t's build in namespace ns.
func buildCount(t *testing.T, ns string, tg target.Target) int {
	t.Helper()
	ctx := context.Background()
	c, err := dagger.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	key := pipeline.CacheKey(ns, "kvstore", "target", tg.Triple)
	out, err := c.Container().From(pipeline.DefaultBaseImage).
		// The pipeline's sharing mode: the engine keys a volume by it too.
		WithMountedCache("/t", c.CacheVolume(key), dagger.ContainerWithMountedCacheOpts{Sharing: dagger.CacheSharingModeLocked}).
		WithEnvVariable("READ_AT", time.Now().String()). // never cached
		WithExec([]string{"sh", "-c", "cat /t/" + pipeline.BuildLog + " 2>/dev/null || true"}).
		Stdout(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return len(strings.Fields(out)) / 2
}

// checkDist checks everything a user finds in dist/ after a release.
func checkDist(t *testing.T, dist, version string, targets []target.Target) {
	t.Helper()
	m, err := manifest.Parse(readFile(t, filepath.Join(dist, manifest.FileName)))
	if err != nil {
		t.Fatal(err)
	}
	if m.Version != version || m.Binary != "kvstore" || len(m.Targets) != len(targets) {
		t.Fatalf("manifest: version %q binary %q %d targets", m.Version, m.Binary, len(m.Targets))
	}
	// SHA256SUMS is accepted by the real sha256sum -c.
	cmd := exec.Command("sha256sum", "-c", manifest.SumsName)
	cmd.Dir = dist
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Errorf("sha256sum -c: %v\n%s", err, out)
	}
	for _, tg := range targets {
		checkDistBinary(t, dist, tg.Name)
		p := filepath.Join(dist, tg.Triple, "kvstore")
		data := readFile(t, p)
		if !bytes.Contains(data, []byte(version)) {
			t.Errorf("%s: the binary does not contain its version %q", tg.Name, version)
		}
		// The host is amd64: its own binaries (and i386 ones) run natively.
		if tg.Native() {
			out, err := exec.Command(p, "--version").Output()
			if err != nil || strings.TrimSpace(string(out)) != "kvstore "+version {
				t.Errorf("%s --version: %q, %v", tg.Name, out, err)
			}
		}
	}
	checkImageTarball(t, filepath.Join(dist, "image.tar"), targets)
	if page := string(readFile(t, filepath.Join(dist, "docs", "index.html"))); !strings.Contains(page, "kvstore") {
		t.Errorf("docs/index.html does not mention kvstore")
	}
	page := string(readFile(t, filepath.Join(dist, "index.html")))
	for _, tg := range targets {
		if !strings.Contains(page, tg.Triple+"/kvstore") {
			t.Errorf("index.html has no link to %s", tg.Triple)
		}
	}
	if !strings.Contains(page, version) {
		t.Errorf("index.html does not name %s", version)
	}
	checkSupplyChain(t, dist, m)
}

// checkSupplyChain checks the SBOM and the provenance of an unsigned dist/:
// the SBOM is CycloneDX and names the project's crates, the provenance's
// subjects are the binaries and the image, and the page says "unsigned".
func checkSupplyChain(t *testing.T, dist string, m *manifest.Manifest) {
	t.Helper()
	// The example links std alone: the SBOM names it, and its toolchain.
	var bom struct {
		BOMFormat string `json:"bomFormat"`
		Metadata  struct {
			Component struct {
				Name string `json:"name"`
			} `json:"component"`
		} `json:"metadata"`
		Formulation []struct {
			Components []struct {
				Name string `json:"name"`
			} `json:"components"`
		} `json:"formulation"`
	}
	if err := json.Unmarshal(readFile(t, filepath.Join(dist, manifest.SBOMName)), &bom); err != nil || bom.BOMFormat != "CycloneDX" ||
		bom.Metadata.Component.Name != m.Binary || len(bom.Formulation) == 0 || len(bom.Formulation[0].Components) == 0 {
		t.Errorf("%s: not a CycloneDX SBOM of %s with its toolchain (%v)", manifest.SBOMName, m.Binary, err)
	}
	subjects, err := provenance.Subjects(readFile(t, filepath.Join(dist, manifest.ProvenanceName)))
	if err != nil {
		t.Fatalf("%s: %v", manifest.ProvenanceName, err)
	}
	for _, a := range m.Targets {
		if subjects[a.Path] != a.SHA256 {
			t.Errorf("the provenance has no subject %s with sha256 %s: %v", a.Path, a.SHA256, subjects)
		}
	}
	if m.Build == nil || m.Build.ImageDigest == "" || m.SBOM != manifest.SBOMName || m.Provenance != manifest.ProvenanceName {
		t.Errorf("the manifest does not list the SBOM, the provenance and the image digest: %+v", m)
	}
	if m.Signatures == nil && !strings.Contains(string(readFile(t, filepath.Join(dist, "index.html"))), `class="badge unsigned"`) {
		t.Errorf("the page of an unsigned release does not say unsigned")
	}
}

// checkDistBinary checks one target's binary in dist/: static for its
// target, and listed in SHA256SUMS with its real checksum.
func checkDistBinary(t *testing.T, dist, name string) {
	t.Helper()
	tg, err := target.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	data := readFile(t, filepath.Join(dist, tg.Triple, "kvstore"))
	if err := elfcheck.Check(data, tg); err != nil {
		t.Error(err)
	}
	sums, err := manifest.ParseSums(readFile(t, filepath.Join(dist, manifest.SumsName)))
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(data)
	if sums[tg.Triple+"/kvstore"] != hex.EncodeToString(sum[:]) {
		t.Errorf("%s: SHA256SUMS does not match the binary", tg.Name)
	}
}

// checkImageTarball reads the OCI layout in image.tar: an index with one
// manifest per platform.
func checkImageTarball(t *testing.T, path string, targets []target.Target) {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	blobs := map[string][]byte{}
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Size < 1<<20 {
			data, _ := io.ReadAll(tr)
			blobs[strings.TrimPrefix(h.Name, "./")] = data
		}
	}
	type desc struct {
		MediaType string `json:"mediaType"`
		Digest    string `json:"digest"`
		Platform  *struct {
			OS, Architecture, Variant string
		} `json:"platform"`
		Manifests []desc `json:"manifests"`
	}
	var idx desc
	if err := json.Unmarshal(blobs["index.json"], &idx); err != nil {
		t.Fatalf("image.tar index.json: %v", err)
	}
	// index.json may point at a nested image index holding the platforms.
	list := idx.Manifests
	if len(list) == 1 && list[0].Platform == nil {
		var inner desc
		if err := json.Unmarshal(blobs["blobs/sha256/"+strings.TrimPrefix(list[0].Digest, "sha256:")], &inner); err == nil && len(inner.Manifests) > 0 {
			list = inner.Manifests
		}
	}
	var got []string
	for _, d := range list {
		if d.Platform != nil {
			p := d.Platform.OS + "/" + d.Platform.Architecture
			if d.Platform.Variant != "" {
				p += "/" + d.Platform.Variant
			}
			got = append(got, p)
		}
	}
	want := target.Platforms(targets)
	sort.Strings(got)
	sort.Strings(want)
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("image platforms %v, want %v", got, want)
	}
}

func readFile(t *testing.T, p string) []byte {
	t.Helper()
	data, err := os.ReadFile(p)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// TestE2EBrokenExample plants one fault at a time and checks that release
// fails, names the stage and the cause, and exports nothing.
func TestE2EBrokenExample(t *testing.T) {
	requireEngine(t)
	cases := []struct {
		name  string
		plant func(t *testing.T, dir string)
		stage string // the stage the summary must name as failed
		cause string // text the error output must contain
	}{
		{
			name: "clippy error",
			plant: func(t *testing.T, dir string) {
				appendFile(t, filepath.Join(dir, "src", "lib.rs"),
					"\npub fn planted_lint(v: &[u8]) -> bool {\n    v.len() == 0\n}\n")
			},
			stage: "check", cause: "len_zero",
		},
		{
			name: "failing test",
			plant: func(t *testing.T, dir string) {
				appendFile(t, filepath.Join(dir, "tests", "api.rs"),
					"\n#[test]\nfn planted_failure() {\n    assert_eq!(1 + 1, 3, \"planted failure\");\n}\n")
			},
			stage: "test", cause: "planted_failure",
		},
		{
			name: "dynamic link",
			plant: func(t *testing.T, dir string) {
				// The program interpreter makes the amd64 binary dynamic.
				writeFile(t, filepath.Join(dir, "build.rs"), `fn main() {
    if std::env::var("CARGO_CFG_TARGET_ARCH").as_deref() == Ok("x86_64") {
        println!("cargo:rustc-link-arg-bins=-Wl,--dynamic-linker=/lib64/ld-linux-x86-64.so.2");
    }
}
`)
			},
			stage: "verify amd64", cause: "program interpreter",
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := copyExample(t)
			tc.plant(t, dir)
			code, _, stderr := runCLI(t, dir, "release", "--tag", "v0.0.2-broken", "--out", "dist")
			if code != exitFailure {
				t.Fatalf("release exited %d, want %d", code, exitFailure)
			}
			if !strings.Contains(stderr, tc.stage+" failed") {
				t.Errorf("output does not say %q failed", tc.stage)
			}
			if !strings.Contains(stderr, tc.cause) {
				t.Errorf("output does not show the cause %q", tc.cause)
			}
			if _, err := os.Stat(filepath.Join(dir, "dist")); !os.IsNotExist(err) {
				t.Errorf("a failed release left dist/ behind")
			}
			// The logs of the failed run are in a folder of their own,
			// named in the failure message.
			logs, _ := filepath.Glob(filepath.Join(os.TempDir(), "garage-release-*-failed-logs-*"))
			logs = slices.DeleteFunc(logs, func(l string) bool { return !strings.Contains(stderr, l) })
			if len(logs) != 1 || !strings.Contains(stderr, logs[0]) {
				t.Fatalf("failed-run log folders %v, want one, named in the output", logs)
			}
			name := strings.ReplaceAll(tc.stage, " ", "-")
			if tc.stage == "verify amd64" {
				name = "build-amd64" // verify runs no command: the build's log
			}
			if data := readFile(t, filepath.Join(logs[0], name+".log")); tc.stage != "verify amd64" && !strings.Contains(string(data), tc.cause) {
				t.Errorf("%s.log does not show the cause %q", name, tc.cause)
			}
		})
	}
}

func appendFile(t *testing.T, p, text string) {
	t.Helper()
	f, err := os.OpenFile(p, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(text); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, p, text string) {
	t.Helper()
	if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestE2EStaleSources: a source whose files are older than the last build
// in the cache volume (copied with their mtimes kept) must still be built
// from its own content, never served from the previous build.
func TestE2EStaleSources(t *testing.T) {
	requireEngine(t)
	ns := "stale-" + randomHex(t)
	work := t.TempDir()
	if code, _, _ := runCLI(t, work, "build", "--targets", "amd64", "--tag", "v0.0.5", "--cache-namespace", ns); code != 0 {
		t.Fatalf("first build exited %d", code)
	}
	dir := copyExample(t)
	const marker = "stale-sources-marker-7f3a"
	// A string the program prints, so no linker can drop it.
	mainRS := filepath.Join(dir, "src", "main.rs")
	src := string(readFile(t, mainRS))
	if !strings.Contains(src, "print this help and exit") {
		t.Fatal("the example's help text changed: update this test")
	}
	writeFile(t, mainRS, strings.Replace(src, "print this help and exit", marker, 1))
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil {
			os.Chtimes(p, old, old)
		}
		return err
	})
	if code, _, _ := runCLI(t, dir, "build", "--targets", "amd64", "--tag", "v0.0.5", "--cache-namespace", ns); code != 0 {
		t.Fatalf("second build exited %d", code)
	}
	bin := readFile(t, filepath.Join(dir, "dist", "x86_64-unknown-linux-gnu", "kvstore"))
	if !bytes.Contains(bin, []byte(marker)) {
		t.Errorf("the binary was not rebuilt from the changed sources (old mtimes): the marker is missing")
	}
}

// TestE2EEngineLost kills the engine session in the middle of a release:
// the message says the connection was lost, the exit code is 1 and nothing
// is exported.
func TestE2EEngineLost(t *testing.T) {
	requireEngine(t)
	if os.Getenv("DAGGER_SESSION_PORT") != "" {
		t.Skip("under 'dagger run' the session is not this test's to kill")
	}
	work := t.TempDir()
	var out, errb bytes.Buffer
	e := &env{stdout: &out, stderr: io.MultiWriter(&errb, testWriter{t}), getenv: os.Getenv, workdir: work,
		dial: func(ctx context.Context, opts ...dagger.ClientOpt) (*dagger.Client, error) {
			c, err := dagger.Connect(ctx, opts...)
			if err == nil {
				time.AfterFunc(8*time.Second, func() { killSessions(t) })
			}
			return c, err
		}}
	// A fresh cache namespace and cache bust keep the engine busy past the cut.
	code := run(context.Background(), e, []string{"release", "--tag", "v0.0.10-lost", "--cache-namespace", "lost-" + randomHex(t), "--cache-bust", randomHex(t)})
	if code != exitFailure {
		t.Errorf("exit code %d, want %d", code, exitFailure)
	}
	if !strings.Contains(errb.String(), "connection to the Dagger engine was lost") {
		t.Errorf("the output does not say the engine connection was lost")
	}
	if _, err := os.Stat(filepath.Join(work, "dist")); !os.IsNotExist(err) {
		t.Errorf("dist/ exists after the engine went away")
	}
}

// killSessions kills this process's `dagger session` children, the SDK's
// link to the engine, as if the engine had gone away.
func killSessions(t *testing.T) {
	entries, _ := os.ReadDir("/proc")
	self := fmt.Sprint(os.Getpid())
	killed := 0
	for _, d := range entries {
		stat, err := os.ReadFile(filepath.Join("/proc", d.Name(), "stat"))
		if err != nil {
			continue
		}
		// The fields after the command name: state, then ppid.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		cmdline, _ := os.ReadFile(filepath.Join("/proc", d.Name(), "cmdline"))
		if len(fields) > 1 && fields[1] == self && bytes.Contains(cmdline, []byte("session")) {
			var pid int
			fmt.Sscan(d.Name(), &pid)
			if syscall.Kill(pid, syscall.SIGKILL) == nil {
				killed++
			}
		}
	}
	if killed == 0 {
		t.Errorf("no dagger session process to kill")
	}
}

// TestE2EWorkspace releases a virtual workspace shaped like Garage's: the
// binary in one member, a library in another, settings under
// [workspace.metadata.release], no smoke script and no docs.
func TestE2EWorkspace(t *testing.T) {
	requireEngine(t)
	dir := t.TempDir()
	files := map[string]string{
		"Cargo.toml": `[workspace]
resolver = "2"
members = ["crates/*"]

[workspace.metadata.release]
binary = "hello"
package = "hello"
targets = ["amd64", "arm"]
`,
		"crates/greet/Cargo.toml": "[package]\nname = \"greet\"\nversion = \"0.1.0\"\nedition = \"2021\"\n",
		"crates/greet/src/lib.rs": `/// The greeting.
pub fn greet(name: &str) -> String {
    format!("hello, {name}")
}

#[cfg(test)]
mod tests {
    #[test]
    fn greets() {
        assert_eq!(super::greet("x"), "hello, x");
    }
}
`,
		"crates/hello/Cargo.toml": "[package]\nname = \"hello\"\nversion = \"0.1.0\"\nedition = \"2021\"\n\n[dependencies]\ngreet = { path = \"../greet\" }\n",
		"crates/hello/src/main.rs": `fn main() {
    if std::env::args().nth(1).as_deref() == Some("--version") {
        println!("hello {}", option_env!("GIT_VERSION").unwrap_or("dev"));
        return;
    }
    println!("{}", greet::greet("world"));
}
`,
		"README.md": "not uploaded\n",
	}
	for name, text := range files {
		os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755)
		writeFile(t, filepath.Join(dir, name), text)
	}
	code, _, stderr := runCLI(t, dir, "release", "--tag", "v0.1.0")
	if code != 0 {
		t.Fatalf("release of a workspace exited %d", code)
	}
	for _, want := range []string{"ok       check", "ok       test", "ok       smoke arm", "ok       build amd64"} {
		if !strings.Contains(stderr, want) {
			t.Errorf("progress lacks %q", want)
		}
	}
	for _, tg := range []string{"amd64", "arm"} {
		tgt, _ := target.Lookup(tg)
		data := readFile(t, filepath.Join(dir, "dist", tgt.Triple, "hello"))
		if err := elfcheck.Check(data, tgt); err != nil {
			t.Error(err)
		}
	}
	out, err := exec.Command(filepath.Join(dir, "dist", "x86_64-unknown-linux-gnu", "hello")).Output()
	if err != nil || strings.TrimSpace(string(out)) != "hello, world" {
		t.Errorf("the amd64 binary printed %q, %v", out, err)
	}
}
