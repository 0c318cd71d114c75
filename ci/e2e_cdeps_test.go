package main

// Projects shaped like Garage: C code compiled by build scripts (configure
// + make, a system library found with pkg-config, both in a virtual
// workspace), released for all four targets; a missing system library
// named with its setting; clippy findings of every crate under warn; a
// nightly-only bench; cargo's crate counts in a CI log. They need an engine
// (see requireEngine).

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/garage-release/garage-release/ci/elfcheck"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/target"
)

// cArch is what the fixtures' C code reports for each target: the
// preprocessor's view of the machine it was compiled for.
var cArch = map[string]string{"amd64": "x86_64", "i386": "i386", "arm64": "aarch64", "arm": "armv5te"}

func TestE2ECDependencies(t *testing.T) {
	requireEngine(t)
	ns := "e2e-cdeps-" + randomHex(t)
	for _, tc := range []struct {
		fixture, binary string
		// selftest are lines `<binary> --selftest` prints on amd64.
		selftest []string
	}{
		{"cconfigure", "mixer", []string{"mix arch: x86_64", "mix host: x86_64-unknown-linux-gnu", "fnv1a(hello) = 4f9f2cab"}},
		{"csyslib", "zinfo", []string{"arch: x86_64", "zstd 1."}},
		{"cworkspace", "cw", []string{"mix arch: x86_64", "zstd 1.", "roundtrip ok"}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			dir := checkoutFixture(t, tc.fixture, nil)
			code, _, stderr := runCLI(t, dir, "release", "--tag", "v0.2.0", "--cache-namespace", ns)
			if code != 0 {
				t.Fatalf("release exited %d", code)
			}
			for _, tg := range target.All {
				if !strings.Contains(stderr, "ok       smoke "+tg.Name) {
					t.Errorf("no smoke test passed for %s", tg.Name)
				}
				data := readFile(t, filepath.Join(dir, "dist", tg.Triple, tc.binary))
				if err := elfcheck.Check(data, tg); err != nil {
					t.Errorf("%s: %v", tg.Name, err)
				}
				// The smoke script ran the C code under the target's runner
				// (the ARMv5 build on an ARMv6 core) and checked what it saw.
				log := string(readFile(t, filepath.Join(dir, "dist", filepath.FromSlash(pipeline.LogFile("smoke-"+tg.Name)))))
				if !strings.Contains(log, "arch: "+cArch[tg.Name]) || !strings.Contains(log, "smoke: all checks passed") {
					t.Errorf("smoke-%s.log does not show the C code built for %s:\n%s", tg.Name, cArch[tg.Name], log)
				}
			}
			// The amd64 binary is static: it runs here, C code included.
			out, err := exec.Command(filepath.Join(dir, "dist", "x86_64-unknown-linux-gnu", tc.binary), "--selftest").CombinedOutput()
			if err != nil {
				t.Fatalf("%s --selftest: %v\n%s", tc.binary, err, out)
			}
			for _, want := range tc.selftest {
				if !strings.Contains(string(out), want) {
					t.Errorf("%s --selftest does not print %q:\n%s", tc.binary, want, out)
				}
			}
			if tc.fixture != "cworkspace" {
				return
			}
			// lints = "warn": the findings of all three crates, and the
			// bench only nightly compiles named instead of stopping clippy.
			for _, want := range []string{
				"warning  clippy: 3 lint findings in 3 crates (cw 1, cw-core 1, mix-sys 1)",
				`warning  clippy: bench "speed" (crates/core/benches/speed.rs) needs a nightly compiler (#![feature]): not linted`,
			} {
				if !strings.Contains(stderr, want) {
					t.Errorf("the summary does not say %q", want)
				}
			}
			check := string(readFile(t, filepath.Join(dir, "dist", "logs", "check.log")))
			for _, lint := range []string{"never actually loops", "assert_eq!", "length comparison to zero"} {
				if !strings.Contains(check, lint) {
					t.Errorf("check.log lacks the finding %q", lint)
				}
			}
			// The SBOM's toolchain lists the libraries build-packages put
			// in for each architecture.
			sbomText := string(readFile(t, filepath.Join(dir, "dist", "sbom.cdx.json")))
			for _, arch := range []string{"amd64", "i386", "arm64", "armel"} {
				if !regexp.MustCompile(`pkg:deb/debian/libzstd-dev@[^"]*arch=` + arch).MatchString(sbomText) {
					t.Errorf("the SBOM does not list libzstd-dev for %s", arch)
				}
			}
		})
	}
	t.Run("without build-packages", func(t *testing.T) {
		dir := checkoutFixture(t, "csyslib", nil)
		manifest := filepath.Join(dir, "Cargo.toml")
		text := strings.Replace(string(readFile(t, manifest)), `build-packages = ["libzstd-dev"]`, "", 1)
		if err := os.WriteFile(manifest, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		start := time.Now()
		code, _, stderr := runCLI(t, dir, "check", "--cache-namespace", ns)
		t.Logf("check failed after %.1fs", time.Since(start).Seconds())
		if code != exitFailure {
			t.Fatalf("check exited %d, want %d", code, exitFailure)
		}
		for _, want := range []string{
			`FAILED   check`, `build script of zinfo v0.2.0: the system library "libzstd" was not found`,
			`add "libzstd-dev" to build-packages under [package.metadata.release] in Cargo.toml (or --build-packages libzstd-dev)`,
		} {
			if !strings.Contains(stderr, want) {
				t.Errorf("the output does not say %q", want)
			}
		}
	})
}

// TestE2ENightlyBenchReleases: a workspace whose bench needs nightly, with
// the default (deny) policy, releases on Debian's stable compiler: the
// tests build what `cargo test --workspace` builds, clippy leaves the
// bench out and says so.
func TestE2ENightlyBenchReleases(t *testing.T) {
	requireEngine(t)
	dir := checkoutFixture(t, "workspace", map[string]string{
		"crates/core/benches/speed.rs": "#![feature(test)]\nextern crate test;\n\n#[bench]\nfn speed(b: &mut test::Bencher) {\n    b.iter(|| 1 + 1);\n}\n",
	})
	code, _, stderr := runCLI(t, dir, "release", "--tag", "v0.3.1", "--targets", "amd64", "--cache-namespace", "e2e-bench-"+randomHex(t))
	if code != 0 {
		t.Fatalf("release exited %d", code)
	}
	for _, want := range []string{"ok       check", "ok       test", `bench "speed" (crates/core/benches/speed.rs) needs a nightly compiler`} {
		if !strings.Contains(stderr, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

// TestE2EProgressCounts: on a multi-crate project, a CI log (stderr not a
// terminal) shows cargo's crate count for the running stages, and it
// grows.
func TestE2EProgressCounts(t *testing.T) {
	requireEngine(t)
	dir := t.TempDir()
	writeChainWorkspace(t, dir, 60)
	code, _, stderr := runCLI(t, dir, "build", "--targets", "amd64,arm64", "--progress-every", "2s", "--cache-namespace", "e2e-progress-"+randomHex(t))
	if code != 0 {
		t.Fatalf("build exited %d", code)
	}
	counts := regexp.MustCompile(`running  build (amd64|arm64) +\d+s  (\d+)/(\d+) crates compiled`).FindAllStringSubmatch(stderr, -1)
	seen := map[string][]int{}
	for _, m := range counts {
		n, _ := strconv.Atoi(m[2])
		seen[m[1]] = append(seen[m[1]], n)
	}
	for _, tg := range []string{"amd64", "arm64"} {
		ns := seen[tg]
		if len(ns) < 2 {
			t.Errorf("build %s: %d crate counts in the log, want them to appear and grow:\n%s", tg, len(ns), stderr)
			continue
		}
		if ns[len(ns)-1] <= ns[0] {
			t.Errorf("build %s: the crate count did not grow: %v", tg, ns)
		}
	}
}

// writeChainWorkspace writes a workspace of n crates, each depending on
// the previous one, with enough code that each takes a moment to compile;
// the last one is the binary.
func writeChainWorkspace(t *testing.T, dir string, n int) {
	t.Helper()
	var members []string
	for i := 1; i <= n; i++ {
		members = append(members, fmt.Sprintf("%q", fmt.Sprintf("c%d", i)))
	}
	files := map[string]string{
		"Cargo.toml": "[workspace]\nresolver = \"2\"\nmembers = [" + strings.Join(members, ", ") + "]\n\n[workspace.metadata.release]\nbinary = \"chain\"\npackage = \"c" + strconv.Itoa(n) + "\"\n",
	}
	for i := 1; i <= n; i++ {
		var toml, src strings.Builder
		fmt.Fprintf(&toml, "[package]\nname = \"c%d\"\nversion = \"0.1.0\"\nedition = \"2021\"\n", i)
		if i == n {
			toml.WriteString("\n[[bin]]\nname = \"chain\"\npath = \"src/main.rs\"\n")
		}
		if i > 1 {
			fmt.Fprintf(&toml, "\n[dependencies]\nc%d = { path = \"../c%d\" }\n", i-1, i-1)
		}
		for k := 0; k < 150; k++ {
			fmt.Fprintf(&src, "pub fn f%d(x: u64) -> u64 {\n    x.wrapping_mul(%d).rotate_left(%d) ^ %d\n}\n", k, k+1, k%60, k)
		}
		if i == n {
			src.WriteString("fn main() {\n    println!(\"chain {}\", f1(1));\n}\n")
		}
		files[fmt.Sprintf("c%d/Cargo.toml", i)] = toml.String()
		root := "lib.rs"
		if i == n {
			root = "main.rs"
		}
		files[fmt.Sprintf("c%d/src/%s", i, root)] = src.String()
	}
	for name, text := range files {
		p := filepath.Join(dir, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
