package diagnose

import (
	"os"
	"strings"
	"testing"
)

// The two files in testdata are real cargo output, from the fixtures in
// ci/testdata built in a trixie chroot: csyslib for aarch64 with a
// pkg-config that sees no libzstd.pc, and cconfigure with no make on PATH.
func TestExplain(t *testing.T) {
	read := func(name string) string {
		data, err := os.ReadFile("testdata/" + name)
		if err != nil {
			t.Fatal(err)
		}
		return string(data)
	}
	ws := Setting{Table: "workspace.metadata.release"}
	cases := []struct {
		name    string
		output  string
		setting Setting
		want    []Hint
	}{
		{"pkg-config finds no library", read("pkgconfig-missing.txt"), Setting{}, []Hint{{
			Crate: "zinfo v0.2.0", Package: "libzstd-dev",
			Problem: `the system library "libzstd" was not found (libzstd.pc, through pkg-config)`,
			Fix:     `add "libzstd-dev" to build-packages under [package.metadata.release] in Cargo.toml (or --build-packages libzstd-dev)`,
		}}},
		{"configure and make, no make", read("make-missing.txt"), ws, []Hint{{
			Crate: "mixer v0.2.0", Package: "make",
			Problem: `the tool "make" is not in the toolchain (make: not found)`,
			Fix:     `add "make" to build-packages under [workspace.metadata.release] in Cargo.toml (or --build-packages make)`,
		}}},
		{"a shell that finds no protoc", "error: failed to run custom build command for `api v1.0.0 (/src/api)`\n\nCaused by:\n  --- stderr\n  sh: 1: protoc: not found\n", Setting{}, []Hint{{
			Crate: "api v1.0.0", Package: "protobuf-compiler",
			Problem: `the tool "protoc" is not in the toolchain (protoc: not found)`,
			Fix:     `add "protobuf-compiler" to build-packages under [package.metadata.release] in Cargo.toml (or --build-packages protobuf-compiler)`,
		}}},
		{"an unknown library", "error: failed to run custom build command for `foo-sys v0.1.0`\n  The system library `foo9` required by crate `foo-sys` was not found.\n", Setting{}, []Hint{{
			Crate:   "foo-sys v0.1.0",
			Problem: `the system library "foo9" was not found (foo9.pc, through pkg-config)`,
			Fix:     `add the Debian package that provides it to build-packages under [package.metadata.release] in Cargo.toml (or --build-packages)`,
		}}},
		{"openssl-sys", "error: failed to run custom build command for `openssl-sys v0.9.102`\n  Could not find directory of OpenSSL installation, and this `-sys` crate cannot proceed without this knowledge.\n", Setting{}, []Hint{{
			Crate: "openssl-sys v0.9.102", Package: "libssl-dev",
			Problem: `the system library "openssl" was not found (openssl.pc, through pkg-config)`,
			Fix:     `add "libssl-dev" to build-packages under [package.metadata.release] in Cargo.toml (or --build-packages libssl-dev)`,
		}}},
		{"the linker finds no archive", "  = note: /usr/lib/gcc-cross/aarch64-linux-gnu/14/../../../../aarch64-linux-gnu/bin/ld: cannot find -lpcre2-8: No such file or directory\n          collect2: error: ld returned 1 exit status\n", Setting{}, []Hint{{
			Package: "libpcre2-dev",
			Problem: `the linker found no library "pcre2-8" (libpcre2-8.a: a static binary links archives)`,
			Fix:     `add "libpcre2-dev" to build-packages under [package.metadata.release] in Cargo.toml (or --build-packages libpcre2-dev); its -dev package must ship the .a file`,
		}}},
		{"our own toolchain layer", "E: Failed to fetch x 404\nbuild-packages: note: zlib1g:i386: 1 is missing from the mirror, using 0\nbuild-packages: the armel files of zlib1g-dev:armel (for the arm target) could not be downloaded\n", Setting{}, []Hint{{
			Problem: "the armel files of zlib1g-dev:armel (for the arm target) could not be downloaded",
		}}},
		{"configure stops on something else", "error: failed to run custom build command for `mixer v0.2.0 (/src)`\n  configure: error: C compiler cannot create executables\n", Setting{}, []Hint{{
			Crate: "mixer v0.2.0", Problem: "its configure script stopped: C compiler cannot create executables",
		}}},
		{"two build scripts", "error: failed to run custom build command for `a-sys v1.0.0`\n  is `cmake` not installed?\nerror: failed to run custom build command for `b-sys v1.0.0`\n  Package zlib was not found in the pkg-config search path.\n", Setting{}, []Hint{
			{Crate: "a-sys v1.0.0", Package: "cmake", Problem: `the tool "cmake" is not in the toolchain (cmake: not found)`, Fix: `add "cmake" to build-packages under [package.metadata.release] in Cargo.toml (or --build-packages cmake)`},
			{Crate: "b-sys v1.0.0", Package: "zlib1g-dev", Problem: `the system library "zlib" was not found (zlib.pc, through pkg-config)`, Fix: `add "zlib1g-dev" to build-packages under [package.metadata.release] in Cargo.toml (or --build-packages zlib1g-dev)`},
		}},
		{"bindgen without libclang", "error: failed to run custom build command for `foo-sys v0.1.0`\n  thread 'main' panicked at bindgen/lib.rs:604:31:\n  Unable to find libclang: \"couldn't find any valid shared libraries matching: ['libclang.so']\"\n", Setting{}, []Hint{{
			Crate: "foo-sys v0.1.0", Package: "libclang-dev",
			Problem: `the tool "libclang" is not in the toolchain (libclang: not found)`,
			Fix:     `add "libclang-dev" to build-packages under [package.metadata.release] in Cargo.toml (or --build-packages libclang-dev)`,
		}}},
		{"a failing test is not explained", "test tests::adds ... FAILED\nthread 'tests::adds' panicked at src/lib.rs:9:9:\nassertion failed\nerror: test failed, to rerun pass `--lib`\n", Setting{}, nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			got := Explain(c.output, c.setting)
			if len(got) != len(c.want) {
				t.Fatalf("got %d hints, want %d:\n%v", len(got), len(c.want), got)
			}
			for i := range got {
				if got[i] != c.want[i] {
					t.Errorf("hint %d:\n got %+v\nwant %+v", i, got[i], c.want[i])
				}
			}
		})
	}
}

// TestHintLine: the line a maintainer reads names the crate, what it
// missed and the setting.
func TestHintLine(t *testing.T) {
	h := Explain("error: failed to run custom build command for `zinfo v0.2.0 (/src)`\n  Package libzstd was not found in the pkg-config search path.\n", Setting{})[0]
	line := h.String()
	for _, want := range []string{"build script of zinfo v0.2.0", `"libzstd"`, `"libzstd-dev"`, "build-packages", "Cargo.toml"} {
		if !strings.Contains(line, want) {
			t.Errorf("%q does not say %q", line, want)
		}
	}
}
