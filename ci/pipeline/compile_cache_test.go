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
