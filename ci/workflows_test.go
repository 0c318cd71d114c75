package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/spf13/pflag"
	"go.yaml.in/yaml/v3"
)

// TestWorkflowsRunRealCommands parses every workflow and checks that each
// `go run ./ci ...` it runs names a real sub-command with flags that its
// own parser accepts: a renamed flag breaks this test, not a release.
func TestWorkflowsRunRealCommands(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("..", ".github", "workflows", "*.yml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no workflow files found: %v", err)
	}
	seen := map[string]bool{}
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var wf struct {
			Jobs map[string]struct {
				Steps []struct {
					Run string `yaml:"run"`
				} `yaml:"steps"`
			} `yaml:"jobs"`
		}
		if err := yaml.Unmarshal(data, &wf); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		for job, j := range wf.Jobs {
			for _, step := range j.Steps {
				for _, line := range strings.Split(step.Run, "\n") {
					fields := strings.Fields(line)
					if len(fields) < 3 || fields[0] != "go" || fields[1] != "run" || fields[2] != "./ci" {
						continue
					}
					args := fields[3:]
					where := filepath.Base(f) + " job " + job + ": " + line
					if len(args) == 0 {
						t.Errorf("%s: no sub-command", where)
						continue
					}
					cmd, ok := commands()[args[0]]
					if !ok {
						t.Errorf("%s: %q is not a command", where, args[0])
						continue
					}
					fs := pflag.NewFlagSet(cmd.name, pflag.ContinueOnError)
					fs.SetOutput(nil)
					cmd.flags(fs, &options{})
					if err := fs.Parse(unquote(args[1:])); err != nil {
						t.Errorf("%s: %v", where, err)
					}
					if fs.NArg() > 0 {
						t.Errorf("%s: stray arguments %v", where, fs.Args())
					}
					seen[args[0]] = true
				}
			}
		}
	}
	for _, want := range []string{"check", "test", "release", "promote"} {
		if !seen[want] {
			t.Errorf("no workflow runs 'go run ./ci %s'", want)
		}
	}
}

// unquote strips the shell quotes around "$VAR" arguments.
func unquote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.Trim(a, `"'`)
	}
	return out
}
