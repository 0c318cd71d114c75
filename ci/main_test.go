package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"dagger.io/dagger"
)

// cli runs the CLI with a fake engine that records whether anything tried
// to connect, and an environment of the test's choosing.
type cli struct {
	t      *testing.T
	dir    string
	vars   map[string]string
	dialed bool
}

func newCLI(t *testing.T) *cli {
	return &cli{t: t, dir: t.TempDir(), vars: map[string]string{}}
}

func (c *cli) run(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	e := &env{
		stdout: &out, stderr: &errb, workdir: c.dir,
		getenv: func(k string) string { return c.vars[k] },
		dial: func(context.Context, ...dagger.ClientOpt) (*dagger.Client, error) {
			c.dialed = true
			return nil, errors.New("connection refused (test engine)")
		},
	}
	code := run(context.Background(), e, args)
	return code, out.String(), errb.String()
}

func TestHelp(t *testing.T) {
	c := newCLI(t)
	code, out, _ := c.run("--help")
	if code != exitOK {
		t.Fatalf("--help exited %d", code)
	}
	for _, name := range commandNames {
		if !strings.Contains(out, "  "+name+" ") {
			t.Errorf("--help does not list %q", name)
		}
	}
	for _, name := range commandNames {
		code, out, _ := c.run(name, "--help")
		if code != exitOK || !strings.Contains(out, "Usage: go run ./ci "+name) {
			t.Errorf("%s --help: exit %d, output %q", name, code, out)
		}
	}
	code, out, _ = c.run("release", "--help")
	for _, flag := range []string{"--source", "--out", "--targets", "--tag", "--commit", "--jobs", "--toolchain-image", "--publish"} {
		if !strings.Contains(out, flag) {
			t.Errorf("release --help does not show %s", flag)
		}
	}
	if c.dialed {
		t.Errorf("--help connected to the engine")
	}
}

// TestBadInput checks that each mistake gets one clear message, exit code
// 2, and that no engine connection is even attempted.
func TestBadInput(t *testing.T) {
	noCargo := t.TempDir()
	badMeta := t.TempDir()
	os.WriteFile(filepath.Join(badMeta, "Cargo.toml"), []byte("[package]\nname = \"x\"\nversion = \"0.1.0\"\n[package.metadata.release]\ntargets = \"amd64\"\n"), 0o644)
	typo := t.TempDir()
	os.WriteFile(filepath.Join(typo, "Cargo.toml"), []byte("[package]\nname = \"x\"\nversion = \"0.1.0\"\n[package.metadata.release]\nsmoke_test = \"s.sh\"\n"), 0o644)
	s3env := map[string]string{"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "very-secret-value"}
	cases := []struct {
		name string
		args []string
		vars map[string]string
		want []string // every piece must appear in stderr
	}{
		{"no command", nil, nil, nil},
		{"unknown command", []string{"relase"}, nil, []string{`unknown command "relase"`, `Did you mean "release"`}},
		{"unknown flag", []string{"build", "--targts", "amd64"}, nil, []string{"unknown flag: --targts", "build --help"}},
		{"stray argument", []string{"build", "amd64"}, nil, []string{`unexpected argument "amd64"`}},
		{"unknown target", []string{"build", "--targets", "amd64,riscv64"}, nil, []string{`unknown target "riscv64"`, "amd64, i386, arm64, arm"}},
		{"missing source", []string{"release", "--source", "/nonexistent/project"}, nil, []string{"/nonexistent/project", "no such file"}},
		{"no Cargo.toml", []string{"release", "--source", noCargo}, nil, []string{"no Cargo.toml", "--source"}},
		{"bad metadata type", []string{"build", "--source", badMeta}, nil, []string{"Cargo.toml", "targets"}},
		{"metadata typo", []string{"build", "--source", typo}, nil, []string{`unknown key "smoke_test"`, "smoke-test"}},
		{"negative jobs", []string{"build", "--jobs", "-1"}, nil, []string{"--jobs -1"}},
		{"short commit", []string{"build", "--commit", "abc123"}, nil, []string{"abc123"}},
		{"unsafe tag", []string{"build", "--tag", "v1/../x"}, nil, []string{"v1/../x"}},
		{"publish without endpoint", []string{"release", "--publish", "--tag", "v1.0.0", "--s3-bucket", "b"}, s3env, []string{"--s3-endpoint is empty"}},
		{"publish bad endpoint", []string{"release", "--publish", "--tag", "v1.0.0", "--s3-endpoint", "http://bad host:99", "--s3-bucket", "b"}, s3env, []string{"--s3-endpoint", "bad host"}},
		{"publish without credentials", []string{"release", "--publish", "--tag", "v1.0.0", "--s3-endpoint", "127.0.0.1:1", "--s3-bucket", "b"}, nil, []string{"AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"}},
		{"publish bad registry", []string{"release", "--publish", "--tag", "v1.0.0", "--s3-endpoint", "127.0.0.1:1", "--s3-bucket", "b", "--registry", "Not A Registry!"}, s3env, []string{"--registry", "Not A Registry!"}},
		{"promote short from", []string{"promote", "--from", "abc", "--to", "v1.0.0"}, s3env, []string{"--from"}},
		{"promote without to", []string{"promote", "--from", strings.Repeat("a", 40)}, s3env, []string{"--to"}},
		{"publish missing dist", []string{"publish", "--dist", "nowhere", "--s3-endpoint", "127.0.0.1:1", "--s3-bucket", "b"}, s3env, []string{"nowhere", "release"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			for k, v := range tc.vars {
				c.vars[k] = v
			}
			code, _, stderr := c.run(tc.args...)
			if code != exitUsage {
				t.Errorf("exit code %d, want %d; stderr:\n%s", code, exitUsage, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stderr, w) {
					t.Errorf("stderr does not contain %q:\n%s", w, stderr)
				}
			}
			if strings.Contains(stderr, "very-secret-value") {
				t.Errorf("stderr shows the secret key:\n%s", stderr)
			}
			if c.dialed {
				t.Errorf("bad input still connected to the engine")
			}
		})
	}
}

// TestNoEngine: with good input and no engine, the message says so and
// tells how to provide one; the exit code is 1 and dist/ is not created.
func TestNoEngine(t *testing.T) {
	c := newCLI(t)
	code, _, stderr := c.run("release", "--tag", "v1.2.3")
	if code != exitFailure {
		t.Fatalf("exit code %d, want %d", code, exitFailure)
	}
	for _, w := range []string{"no Dagger engine reachable", "connection refused", "_EXPERIMENTAL_DAGGER_RUNNER_HOST", "Docker"} {
		if !strings.Contains(stderr, w) {
			t.Errorf("stderr does not contain %q:\n%s", w, stderr)
		}
	}
	if _, err := os.Stat(filepath.Join(c.dir, "dist")); !os.IsNotExist(err) {
		t.Errorf("dist/ exists after a failed connect")
	}
}

// TestProjectSelection: a Cargo.toml in the working folder is released; a
// folder without one releases the bundled example.
func TestProjectSelection(t *testing.T) {
	c := newCLI(t)
	o := &options{set: map[string]bool{}, out: "dist"}
	e := &env{workdir: c.dir, getenv: func(string) string { return "" }}
	if err := o.prepare(e, "build"); err != nil {
		t.Fatal(err)
	}
	if o.projectDir != "" || o.project.Binary != "kvstore" || len(o.targetList) != 4 {
		t.Errorf("empty folder: project dir %q binary %q %d targets, want the bundled example", o.projectDir, o.project.Binary, len(o.targetList))
	}
	os.WriteFile(filepath.Join(c.dir, "Cargo.toml"), []byte("[package]\nname = \"mine\"\nversion = \"1.0.0\"\n[package.metadata.release]\ntargets = [\"arm64\"]\n"), 0o644)
	o = &options{set: map[string]bool{"targets": true}, targets: []string{"amd64", "arm"}, tag: "v1.0.0", out: "dist"}
	if err := o.prepare(e, "build"); err != nil {
		t.Fatal(err)
	}
	if o.projectDir != c.dir || o.project.Binary != "mine" {
		t.Errorf("got project %q binary %q", o.projectDir, o.project.Binary)
	}
	if got := targetNames(o); got != "amd64,arm" {
		t.Errorf("--targets did not override Cargo.toml: %s", got)
	}
	if o.version.Version != "v1.0.0" || o.version.Class != "stable" {
		t.Errorf("version %+v", o.version)
	}
}

func TestEngineLost(t *testing.T) {
	cases := []struct {
		err  error
		want bool
	}{
		{&dagger.ExecError{Cmd: []string{"cargo", "build"}, ExitCode: 101}, false},
		{fmt.Errorf("query: %w", &net.OpError{Op: "read", Net: "unix", Err: syscall.ECONNRESET}), true},
		{fmt.Errorf("returned error 502: %w", io.ErrUnexpectedEOF), true},
		{errors.New(`Post "http://dagger/query": read unix @->/run/engine.sock: read: connection reset by peer`), true},
		{errors.New("amd64 (x86_64-unknown-linux-gnu) is not a static binary: has a program interpreter"), false},
	}
	for _, c := range cases {
		if got := engineLost(c.err); got != c.want {
			t.Errorf("engineLost(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

func TestDocsWithoutDocsFolder(t *testing.T) {
	c := newCLI(t)
	os.WriteFile(filepath.Join(c.dir, "Cargo.toml"), []byte("[package]\nname = \"nodocs\"\nversion = \"0.1.0\"\n"), 0o644)
	code, _, stderr := c.run("docs")
	if code != exitUsage || !strings.Contains(stderr, "nodocs declares no docs") {
		t.Errorf("docs without a docs folder: exit %d, %s", code, stderr)
	}
}
