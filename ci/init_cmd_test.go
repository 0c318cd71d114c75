package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"

	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/testenv"
)

// TestInitWritesTheWorkflow: in a maintainer's project, init writes the
// GitHub workflow running the pinned version (actionlint-clean), and prints
// the settings it detected; the installed binary's release command parses
// with the real flags.
func TestInitWritesTheWorkflow(t *testing.T) {
	for _, tc := range []struct {
		fixture string
		want    []string // lines of the settings block
	}{
		{"workspace", []string{"[package.metadata.release]", `binary = "wsr"`, `targets = ["amd64", "i386", "arm64", "arm"]`, `# docs = "doc/book"`}},
		{"vendored", []string{"[package.metadata.release]", `binary = "vendored"`}},
		{"cworkspace", []string{"[workspace.metadata.release]", `binary = "cw"`, `package = "cw"`, `smoke-test = "smoke.sh"`, `build-packages = ["libzstd-dev"]`}},
		{"example", []string{"[package.metadata.release]", `binary = "kvstore"`, `docs = "docs"`, `smoke-test = "smoke.sh"`}},
	} {
		t.Run(tc.fixture, func(t *testing.T) {
			c := newCLI(t)
			if tc.fixture == "example" {
				if err := writeFS(example.FS, c.dir); err != nil {
					t.Fatal(err)
				}
			} else {
				c.dir = testenv.CopyFixture(t, filepath.Join("testdata", tc.fixture), nil)
			}
			before := testenv.Tree(t, c.dir)
			code, stdout, stderr := c.run("init", "--pin", "v1.2.3")
			if code != exitOK {
				t.Fatalf("init exited %d: %s", code, stderr)
			}
			for _, w := range tc.want {
				if !strings.Contains(stdout, w) {
					t.Errorf("settings block lacks %q:\n%s", w, stdout)
				}
			}
			wf := filepath.Join(c.dir, ".github", "workflows", "release.yml")
			after := testenv.Tree(t, c.dir)
			for _, p := range []string{".github", ".github/workflows", ".github/workflows/release.yml"} {
				delete(after, filepath.FromSlash(p))
			}
			if !reflect.DeepEqual(before, after) {
				t.Errorf("init wrote or changed more than the workflow:\nbefore %v\nafter  %v", before, after)
			}
			data := readFile(t, wf)
			checkWorkflowCommands(t, string(data), "v1.2.3")
			if tc.fixture == "workspace" {
				lint(t, wf)
			}
		})
	}
}

// lint runs actionlint on a written workflow, as a user's CI would.
func lint(t *testing.T, file string, args ...string) {
	t.Helper()
	actionlint := testenv.Actionlint(t)
	out, err := exec.Command(actionlint, append(args, file)...).CombinedOutput()
	if err != nil {
		t.Errorf("actionlint %s: %v\n%s", file, err, out)
	}
}

// checkWorkflowCommands: the file installs exactly the pinned version and
// runs a release command the real flag parser accepts.
func checkWorkflowCommands(t *testing.T, text, version string) {
	t.Helper()
	install := "go install github.com/garage-release/garage-release/ci@" + version + "\n"
	if !strings.Contains(text, install) {
		t.Errorf("the file does not install %q:\n%s", strings.TrimSpace(install), text)
	}
	if regexp.MustCompile(`(?m)^\s*(-\s*|run:\s*)go run `).MatchString(text) {
		t.Errorf("the file runs go run, which turns exit 2 into 1:\n%s", text)
	}
	i := strings.Index(text, `/ci" release`)
	if i < 0 {
		t.Fatalf("the file runs no release:\n%s", text)
	}
	line := text[i+len(`/ci" `):]
	line = line[:strings.IndexByte(line, '\n')]
	args := strings.Fields(strings.ReplaceAll(line, `"$@"`, "--publish"))
	cmd := commands()[args[0]]
	fs := pflag.NewFlagSet(cmd.name, pflag.ContinueOnError)
	fs.SetOutput(nil)
	cmd.flags(fs, &options{})
	if err := fs.Parse(args[1:]); err != nil {
		t.Errorf("%q: %v", line, err)
	}
}

// TestInitProviders: the Forgejo workflow is actionlint-clean (with
// Forgejo's default runner label), GitLab's and Woodpecker's files parse
// with the keys those tools read.
func TestInitProviders(t *testing.T) {
	c := newCLI(t)
	c.dir = testenv.CopyFixture(t, filepath.Join("testdata", "csyslib"), nil)
	code, _, stderr := c.run("init", "--pin", "v1.2.3", "--ci", "forgejo,gitlab,woodpecker")
	if code != exitOK {
		t.Fatalf("init exited %d: %s", code, stderr)
	}
	cfg := filepath.Join(t.TempDir(), "actionlint.yaml")
	os.WriteFile(cfg, []byte("self-hosted-runner:\n  labels: [docker]\n"), 0o644)
	lint(t, filepath.Join(c.dir, ".forgejo", "workflows", "release.yml"), "-config-file", cfg)

	var gitlab struct {
		Release struct {
			Image    string   `yaml:"image"`
			Services []string `yaml:"services"`
			Script   []string `yaml:"script"`
			Rules    []struct {
				If string `yaml:"if"`
			} `yaml:"rules"`
			Artifacts struct {
				Paths []string `yaml:"paths"`
			} `yaml:"artifacts"`
		} `yaml:"release"`
	}
	data := readFile(t, filepath.Join(c.dir, ".gitlab-ci.yml"))
	if err := yaml.Unmarshal(data, &gitlab); err != nil {
		t.Fatalf(".gitlab-ci.yml: %v", err)
	}
	r := gitlab.Release
	if r.Image == "" || len(r.Services) != 1 || r.Services[0] != "docker:dind" || len(r.Script) != 2 || len(r.Rules) != 2 || r.Artifacts.Paths[0] != "dist/" {
		t.Errorf(".gitlab-ci.yml release job: %+v", r)
	}
	checkWorkflowCommands(t, strings.Join(r.Script, "\n")+"\n", "v1.2.3")

	var wp struct {
		When []struct {
			Event string `yaml:"event"`
		} `yaml:"when"`
		Steps []struct {
			Name     string         `yaml:"name"`
			Image    string         `yaml:"image"`
			Commands []string       `yaml:"commands"`
			Env      map[string]any `yaml:"environment"`
		} `yaml:"steps"`
	}
	data = readFile(t, filepath.Join(c.dir, ".woodpecker", "release.yml"))
	if err := yaml.Unmarshal(data, &wp); err != nil {
		t.Fatalf(".woodpecker/release.yml: %v", err)
	}
	if len(wp.When) != 2 || wp.When[0].Event != "tag" || len(wp.Steps) != 1 || wp.Steps[0].Image == "" || len(wp.Steps[0].Commands) != 2 || wp.Steps[0].Env["AWS_SECRET_ACCESS_KEY"] == nil {
		t.Errorf(".woodpecker/release.yml: %+v", wp)
	}
	checkWorkflowCommands(t, strings.Join(wp.Steps[0].Commands, "\n")+"\n", "v1.2.3")
}

// TestInitRefusals: an existing file is never replaced (nothing at all is
// written then), settings are added once, and init needs a Rust project
// and a version to pin.
func TestInitRefusals(t *testing.T) {
	c := newCLI(t)
	c.dir = testenv.CopyFixture(t, filepath.Join("testdata", "workspace"), nil)
	own := filepath.Join(c.dir, ".gitlab-ci.yml")
	os.WriteFile(own, []byte("# the maintainer's own\n"), 0o644)
	before := testenv.Tree(t, c.dir)
	code, _, stderr := c.run("init", "--pin", "v1.2.3", "--ci", "github,gitlab")
	if code != exitUsage || !strings.Contains(stderr, own+" exists already") {
		t.Errorf("init over an existing file: exit %d\n%s", code, stderr)
	}
	if after := testenv.Tree(t, c.dir); len(after) != len(before) || string(readFile(t, own)) != "# the maintainer's own\n" {
		t.Errorf("a refused init wrote or changed files")
	}

	// --write-settings adds the table, which project.Load then reads; a
	// second time it is refused.
	code, _, stderr = c.run("init", "--pin", "v1.2.3", "--write-settings")
	if code != exitOK {
		t.Fatalf("init --write-settings exited %d: %s", code, stderr)
	}
	s, err := project.Load(c.dir)
	if err != nil || s.Binary != "wsr" || len(s.Targets) != 4 {
		t.Fatalf("after --write-settings: %+v, %v", s, err)
	}
	os.Remove(filepath.Join(c.dir, ".github", "workflows", "release.yml"))
	manifest := string(readFile(t, filepath.Join(c.dir, "Cargo.toml")))
	code, _, stderr = c.run("init", "--pin", "v1.2.3", "--write-settings")
	if code != exitUsage || !strings.Contains(stderr, "has release settings already") || string(readFile(t, filepath.Join(c.dir, "Cargo.toml"))) != manifest {
		t.Errorf("second --write-settings: exit %d\n%s", code, stderr)
	}

	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no pin from a checkout", []string{"init"}, "pass --pin <version>"},
		{"unknown provider", []string{"init", "--pin", "v1.2.3", "--ci", "jenkins"}, `unknown CI provider "jenkins"`},
		{"odd version", []string{"init", "--pin", "v1; rm -rf /"}, "give a version such as v1.2.0"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := newCLI(t)
			c.dir = testenv.CopyFixture(t, filepath.Join("testdata", "vendored"), nil)
			code, _, stderr := c.run(tc.args...)
			if code != exitUsage || !strings.Contains(stderr, tc.want) {
				t.Errorf("exit %d, want %d saying %q:\n%s", code, exitUsage, tc.want, stderr)
			}
		})
	}
	empty := newCLI(t)
	if code, _, stderr := empty.run("init", "--pin", "v1.2.3"); code != exitUsage || !strings.Contains(stderr, "no Cargo.toml") {
		t.Errorf("init outside a Rust project: exit %d\n%s", code, stderr)
	}
}
