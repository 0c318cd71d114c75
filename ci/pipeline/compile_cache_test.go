package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/target"
)

// TestParseSccacheStats sums the lines sccache 0.10 printed (captured from
// `sccache --show-stats --stats-format=json`), one per cargo command.
func TestParseSccacheStats(t *testing.T) {
	data, err := os.ReadFile("testdata/sccache-stats.jsonl")
	if err != nil {
		t.Fatal(err)
	}
	got, err := parseSccacheStats(string(data))
	if err != nil {
		t.Fatal(err)
	}
	want := SccacheStats{Requests: 23, Hits: 6, Misses: 5, NotCacheable: 12, ReadErrors: 1}
	if got.Requests != want.Requests || got.Hits != want.Hits || got.Misses != want.Misses || got.NotCacheable != want.NotCacheable || got.ReadErrors != want.ReadErrors {
		t.Errorf("got %+v, want %+v", got, want)
	}
	if s := got.String(); s != "6 hits, 5 misses, 12 not cacheable, 1 read and 0 write errors" {
		t.Errorf("line %q", s)
	}
	if _, err := parseSccacheStats("{not json\n"); err == nil {
		t.Error("a line that is not JSON parsed")
	}
	if s, err := parseSccacheStats(""); err != nil || s.Requests != 0 {
		t.Errorf("no line: %+v %v", s, err)
	}
}

// TestRustcWrapper: libraries go through sccache; binaries, and libraries
// that link a native library without a kind, go straight to rustc.
func TestRustcWrapper(t *testing.T) {
	dir := t.TempDir()
	wrapper := filepath.Join(dir, "wrapper")
	if err := os.WriteFile(wrapper, []byte(rustcWrapperScript), 0o755); err != nil {
		t.Fatal(err)
	}
	// A fake sccache and rustc that say who ran.
	for _, name := range []string{"sccache", "rustc"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte("#!/bin/sh\necho "+name+"\n"), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"--crate-name", "serde", "--crate-type", "lib"}, "sccache"},
		{[]string{"--crate-name", "m", "--crate-type", "proc-macro"}, "sccache"},
		{[]string{"--crate-name", "cw", "--crate-type", "bin"}, "rustc"},
		{[]string{"--crate-name", "build_script_build", "--crate-type", "bin"}, "rustc"},
		{[]string{"--crate-name", "zstd_sys", "--crate-type", "lib", "-l", "zstd"}, "rustc"},
		{[]string{"--crate-name", "mix_sys", "--crate-type", "lib", "-l", "static=mix"}, "sccache"},
		{[]string{"--crate-name", "z", "--crate-type", "lib", "-l", "dylib=z"}, "rustc"},
		{[]string{"-vV"}, "sccache"},
	}
	for _, c := range cases {
		cmd := exec.Command(wrapper, append([]string{"rustc"}, c.args...)...)
		cmd.Env = append(os.Environ(), "PATH="+dir+":"+os.Getenv("PATH"))
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		if got := strings.TrimSpace(string(out)); got != c.want {
			t.Errorf("%v ran %s, want %s", c.args, got, c.want)
		}
	}
}

func TestCachePartitions(t *testing.T) {
	amd, _ := target.Lookup("amd64")
	arm, _ := target.Lookup("arm")
	clippy := project.Settings{Checks: project.Checks{Clippy: true}}
	cases := []struct {
		name string
		st   Stages
		s    project.Settings
		want []string
	}{
		{"release", AllStages, clippy, []string{"check", "test", amd.Triple, arm.Triple}},
		{"fmt only: check compiles nothing", AllStages, project.Settings{Checks: project.Checks{Fmt: true}}, []string{"test", amd.Triple, arm.Triple}},
		{"build", Stages{Build: true}, clippy, []string{amd.Triple, arm.Triple}},
		{"image", Stages{Image: true}, clippy, []string{amd.Triple, arm.Triple}},
		{"docs", Stages{Docs: true}, clippy, nil},
	}
	for _, c := range cases {
		if got := CachePartitions(c.st, c.s, []target.Target{amd, arm}); !slices.Equal(got, c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// TestCompiledDependency: a stage's log says a dependency was compiled
// (so the target/ snapshot in S3 lacks it and a new one is made) only
// when cargo compiled or checked a crate outside /src.
func TestCompiledDependency(t *testing.T) {
	cases := []struct {
		name, log string
		want      bool
	}{
		{"registry crate", "   Compiling serde v1.0.219\n   Compiling heavy v1.19.0 (/src)\n", true},
		{"git dependency", "   Compiling gitdep v0.1.0 (https://example.invalid/x/y#0123abc)\n", true},
		{"clippy on a dependency", "    Checking memchr v2.7.4\n", true},
		{"build script of a vendored crate", "   Compiling zstd-sys v2.0.13+zstd.1.5.6\n", true},
		{"only the project's crates", "   Compiling core v0.1.0 (/src/crates/core)\n    Checking cw v0.1.0 (/src)\n    Finished `release` profile [optimized] target(s) in 3.2s\n", false},
		{"nothing compiled", "$ cargo build --release\n    Finished `release` profile [optimized] target(s) in 0.11s\n", false},
		{"a crate of /srcx is not the project", "   Compiling other v0.1.0 (/srcx/other)\n", true},
		{"a warning quoting Compiling", "warning: Compiling things\n", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			log := filepath.Join(t.TempDir(), "stage.log")
			if err := os.WriteFile(log, []byte(c.log), 0o644); err != nil {
				t.Fatal(err)
			}
			err := exec.Command("sh", "-c", compiledDependencyScript+"\ncompiled_dependency \"$1\"", "test", log).Run()
			if got := err == nil; got != c.want {
				t.Errorf("compiled_dependency = %v, want %v", got, c.want)
			}
		})
	}
}

func TestParseCacheInfo(t *testing.T) {
	sum := strings.Repeat("ab", 32)
	for _, c := range []struct {
		text    string
		ok, bad bool
	}{
		{"", false, false},
		{"\n", false, false},
		{sum + " 1234\n", true, false},
		{"xyz 12", false, true},
		{sum[:63] + "g 12", false, true},
		{sum, false, true},
	} {
		got, size, ok, err := ParseCacheInfo(c.text)
		if ok != c.ok || (err != nil) != c.bad || (ok && (got != sum || size != 1234)) {
			t.Errorf("ParseCacheInfo(%q) = %q %d %v %v", c.text, got, size, ok, err)
		}
	}
}
