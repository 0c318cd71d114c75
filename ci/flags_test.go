package main

import (
	"slices"
	"strings"
	"testing"

	"github.com/spf13/pflag"
)

// TestCommandFlags: each command shows only the flags of the concerns it
// reads: plan and publish need no engine and show no engine flags, docs
// builds no target, check and test export nothing and release no version.
func TestCommandFlags(t *testing.T) {
	stage := []string{"toolchain-image", "debian-mirror", "cache-bust", "base-image", "verbose", "cache-namespace", "logs", "progress-every"}
	built := append(append([]string{"source", "binary", "features", "build-packages", "targets", "jobs"}, stage...), "tag", "commit", "out")
	s3 := []string{"s3-endpoint", "s3-bucket", "s3-prefix", "s3-region", "s3-insecure"}
	registry := []string{"registry", "image", "registry-insecure"}
	want := map[string][]string{
		"check":     append(append([]string{"source", "features", "build-packages"}, stage...), "checks", "clippy-args", "lints"),
		"test":      append(append([]string{"source", "features", "build-packages"}, stage...), "test-args"),
		"build":     built,
		"image":     built,
		"docs":      {"source", "base-image", "verbose", "logs", "progress-every", "out"},
		"toolchain": {"toolchain-image", "debian-mirror", "cache-bust", "base-image", "verbose", "publish", "registry-insecure"},
		"plan":      append(append([]string{"source", "binary", "targets", "tag", "commit", "dist"}, append(s3, registry...)...), "json"),
		"publish":   append(append([]string{"dist", "force"}, s3...), registry...),
		"verify":    append(append([]string{"source"}, stage...), s3...),
		"engine":    {"verbose"},
		"init":      {"source", "ci", "pin", "write-settings"},
	}
	for name, flags := range want {
		cmd, ok := commands()[name]
		if !ok {
			t.Errorf("no command %q", name)
			continue
		}
		fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
		cmd.flags(fs, &options{})
		var got []string
		fs.VisitAll(func(f *pflag.Flag) { got = append(got, f.Name) })
		slices.Sort(got)
		w := slices.Clone(flags)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: flags\n got %s\nwant %s", name, strings.Join(got, " "), strings.Join(w, " "))
		}
	}
}

// TestEmptyTargetsRefused: `--targets ,` is bad input, not "every target".
func TestEmptyTargetsRefused(t *testing.T) {
	for _, v := range []string{",", "", " , "} {
		c := newCLI(t)
		code, _, stderr := c.run("build", "--targets", v)
		if code != exitUsage || !strings.Contains(stderr, "--targets is empty") || c.dialed {
			t.Errorf("--targets %q: exit %d, dialed %v:\n%s", v, code, c.dialed, stderr)
		}
	}
}

// TestCacheModeRefused: a --cache value that is not a mode is bad input,
// said before the engine is reached.
func TestCacheModeRefused(t *testing.T) {
	c := newCLI(t)
	code, _, stderr := c.run("release", "--cache", "yes", "--tag", "v1.0.0")
	if code != exitUsage || !strings.Contains(stderr, `--cache "yes": give auto, read-write, read-only or off`) || c.dialed {
		t.Errorf("exit %d, dialed %v:\n%s", code, c.dialed, stderr)
	}
}
