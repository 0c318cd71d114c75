package pipeline

import (
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/project"
)

// TestWorkspaceArgs: checks and tests cover the whole workspace whenever
// there is one; features are named by their package.
func TestWorkspaceArgs(t *testing.T) {
	cases := []struct {
		name     string
		settings project.Settings
		want     string
	}{
		{"root package with members", project.Settings{Name: "wsroot", Binary: "wsr", Workspace: true, Members: []string{"crates/core"}, Locked: true},
			"--locked --workspace"},
		{"root package with members and features", project.Settings{Name: "wsroot", Binary: "wsr", Workspace: true, Features: []string{"simd"}},
			"--workspace --features wsroot/simd"},
		{"virtual workspace", project.Settings{Name: "hello", Binary: "hello", Workspace: true, Virtual: true, Members: []string{"crates/hello"}},
			"--workspace"},
		{"virtual workspace, package named", project.Settings{Name: "garage", Binary: "garage", Package: "garage", Workspace: true, Virtual: true, Features: []string{"lmdb"}},
			"--workspace --features garage/lmdb"},
		{"single crate", project.Settings{Name: "kvstore", Binary: "kvstore", Features: []string{"a"}},
			"--features a"},
	}
	for _, c := range cases {
		p := &Pipeline{cfg: Config{Project: c.settings}}
		if got := strings.Join(p.workspaceArgs(), " "); got != c.want {
			t.Errorf("%s: check/test args %q, want %q", c.name, got, c.want)
		}
	}
}
