package project

import (
	"os/exec"
	"path/filepath"
	"testing"
)

// ignoreTree is a project with .gitignore files at two levels; every path
// in ignoreCases exists in it, with its type.
var ignoreTree = map[string]string{
	".gitignore": `/target
*.log
!keep.log
build/
docs/**/*.tmp
/vendor/
sub/gen.rs
# a comment, and a blank line

`,
	"sub/.gitignore":          "local.txt\n!important.log\n",
	"target/debug/app":        "",
	"src/target/mod.rs":       "",
	"a.log":                   "",
	"x/y/b.log":               "",
	"keep.log":                "",
	"build/out.o":             "",
	"src/build/mod.rs":        "",
	"tools/build":             "a file named build",
	"docs/a/b/c.tmp":          "",
	"docs/c.tmp":              "",
	"docs/c.md":               "",
	"vendor/x/src/lib.rs":     "",
	"a/vendor/lib.rs":         "",
	"sub/local.txt":           "",
	"local.txt":               "",
	"sub/important.log":       "",
	"sub/gen.rs":              "",
	"src/main.rs":             "",
	"crates/cli/main.rs":      "",
	"crates/cli/sub/gen.rs":   "",
	"crates/cli/notes.log.md": "",
}

var ignoreCases = []struct {
	path  string
	isDir bool
	want  bool
}{
	{"target", true, true},
	{"target/debug/app", false, true},
	{"src/target", true, false}, // "/target" is anchored to the root
	{"src/target/mod.rs", false, false},
	{"a.log", false, true},
	{"x/y/b.log", false, true},
	{"keep.log", false, false}, // put back by "!keep.log"
	{"build", true, true},
	{"build/out.o", false, true},
	{"src/build", true, true}, // "build/" is not anchored
	{"src/build/mod.rs", false, true},
	{"tools/build", false, false}, // "build/" names folders only
	{"docs/a/b/c.tmp", false, true},
	{"docs/c.tmp", false, true}, // "**" is zero folders too
	{"docs/c.md", false, false},
	{"vendor", true, true},
	{"vendor/x/src/lib.rs", false, true},
	{"a/vendor", true, false},
	{"a/vendor/lib.rs", false, false},
	{"sub/local.txt", false, true},
	{"local.txt", false, false}, // sub/.gitignore applies under sub/ only
	{"sub/important.log", false, false},
	{"sub/gen.rs", false, true},
	{"crates/cli/sub/gen.rs", false, false}, // "sub/gen.rs" holds a "/": anchored
	{"src/main.rs", false, false},
	{"crates/cli/main.rs", false, false},
	{"crates/cli/notes.log.md", false, false},
}

func TestIgnorer(t *testing.T) {
	dir := writeTree(t, ignoreTree)
	ig, err := newIgnorer(dir)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range ignoreCases {
		if got := ig.ignored(c.path, c.isDir); got != c.want {
			t.Errorf("ignored(%q, dir=%v) = %v, want %v", c.path, c.isDir, got, c.want)
		}
	}
}

// TestIgnorerAgreesWithGit checks the same cases against git itself: the
// engine's rules are git's for everything a project commonly writes.
func TestIgnorerAgreesWithGit(t *testing.T) {
	if _, err := exec.LookPath("git"); err != nil {
		t.Skip("no git")
	}
	dir := writeTree(t, ignoreTree)
	if out, err := exec.Command("git", "-C", dir, "init", "-q").CombinedOutput(); err != nil {
		t.Fatalf("git init: %v\n%s", err, out)
	}
	for _, c := range ignoreCases {
		cmd := exec.Command("git", "-C", dir, "-c", "core.excludesFile=/dev/null", "check-ignore", "-q", "--no-index", c.path)
		err := cmd.Run()
		gitSays := err == nil
		if ee, ok := err.(*exec.ExitError); err != nil && (!ok || ee.ExitCode() != 1) {
			t.Fatalf("git check-ignore %s: %v", c.path, err)
		}
		if gitSays != c.want {
			t.Errorf("git check-ignore %q = %v, the table says %v", c.path, gitSays, c.want)
		}
	}
}

// TestIgnorerRoot: like the engine, the .gitignore files are read from the
// nearest folder holding .git down to the project, not above it.
func TestIgnorerRoot(t *testing.T) {
	outer := writeTree(t, map[string]string{
		".gitignore":                  "*.rs\n", // above the repository: not read
		"repo/.git/HEAD":              "ref: refs/heads/main\n",
		"repo/.gitignore":             "proj/vendor/\n",
		"repo/proj/.gitignore":        "*.log\n",
		"repo/proj/src/main.rs":       "",
		"repo/proj/vendor/a/lib.rs":   "",
		"repo/proj/x.log":             "",
		"repo/other/vendor/a/lib.rs":  "",
		"repo/proj/other/vendor/b.rs": "",
	})
	ig, err := newIgnorer(filepath.Join(outer, "repo", "proj"))
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		path  string
		isDir bool
		want  bool
	}{
		{"src/main.rs", false, false},
		{"vendor", true, true},
		{"vendor/a/lib.rs", false, true},
		{"x.log", false, true},
		{"other/vendor", true, false},
	} {
		if got := ig.ignored(c.path, c.isDir); got != c.want {
			t.Errorf("ignored(%q) = %v, want %v", c.path, got, c.want)
		}
	}
	// Without .git anywhere above, the project folder is the root.
	alone := writeTree(t, map[string]string{".gitignore": "gen/\n", "gen/x.rs": ""})
	ig, err = newIgnorer(alone)
	if err != nil {
		t.Fatal(err)
	}
	if !ig.ignored("gen/x.rs", false) || ig.ignored("src/x.rs", false) {
		t.Errorf("a project outside any repository: its own .gitignore applies")
	}
	if ig.root != alone {
		t.Errorf("root = %s, want the project %s", ig.root, alone)
	}
}
