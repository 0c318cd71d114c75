package version

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// repo is a real temporary git repository.
type repo struct {
	t   *testing.T
	dir string
}

// newRepo runs `git init` in a fresh directory, isolated from the user's and
// the system's git configuration (signing, hooks, default branch).
func newRepo(t *testing.T) *repo {
	t.Helper()
	if _, err := exec.LookPath("git"); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("git is not in PATH; the version tests need it")
		}
		t.Skip("git is not in PATH")
	}
	t.Setenv("GIT_CONFIG_GLOBAL", os.DevNull)
	t.Setenv("GIT_CONFIG_NOSYSTEM", "1")
	r := &repo{t: t, dir: t.TempDir()}
	r.git("init", "-q", "-b", "main")
	return r
}

func (r *repo) git(args ...string) string {
	r.t.Helper()
	args = append([]string{"-c", "user.name=Release Test", "-c", "user.email=release@example.invalid",
		"-c", "commit.gpgsign=false", "-c", "tag.gpgsign=false"}, args...)
	cmd := exec.Command("git", args...)
	cmd.Dir = r.dir
	out, err := cmd.CombinedOutput()
	if err != nil {
		r.t.Fatalf("git %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return strings.TrimSpace(string(out))
}

func (r *repo) write(name, content string) {
	r.t.Helper()
	if err := os.WriteFile(filepath.Join(r.dir, name), []byte(content), 0o644); err != nil {
		r.t.Fatal(err)
	}
}

// commit writes a file, commits it and returns the new HEAD.
func (r *repo) commit(msg string) string {
	r.t.Helper()
	r.write("Cargo.toml", "# "+msg+"\n")
	r.git("add", "Cargo.toml")
	r.git("commit", "-q", "-m", msg)
	return r.git("rev-parse", "HEAD")
}

var noEnv = env(nil)

func TestDetectFromGit(t *testing.T) {
	tests := []struct {
		name  string
		setup func(r *repo) Info // returns the expected Info
	}{
		{"untagged commit", func(r *repo) Info {
			h := r.commit("one")
			return Info{Version: h, Commit: h, Class: Development, Source: SourceGit}
		}},
		{"stable tag at HEAD", func(r *repo) Info {
			h := r.commit("one")
			r.git("tag", "v1.2.3")
			return Info{Version: "v1.2.3", Commit: h, Class: Stable, Source: SourceGit}
		}},
		{"annotated extra tag at HEAD", func(r *repo) Info {
			h := r.commit("one")
			r.git("tag", "-a", "-m", "candidate", "v2.0.0-rc.1")
			return Info{Version: "v2.0.0-rc.1", Commit: h, Class: Extra, Source: SourceGit}
		}},
		{"candidate promoted: the stable tag wins", func(r *repo) Info {
			h := r.commit("one")
			r.git("tag", "v1.2.0-rc.1")
			r.git("tag", "v1.2.0")
			r.git("tag", "aaa-extra")
			return Info{Version: "v1.2.0", Commit: h, Class: Stable, Source: SourceGit}
		}},
		{"a tag on an older commit does not name HEAD", func(r *repo) Info {
			r.commit("one")
			r.git("tag", "v1.0.0")
			h := r.commit("two")
			return Info{Version: h, Commit: h, Class: Development, Source: SourceGit}
		}},
		{"dirty tree: modified tracked file", func(r *repo) Info {
			h := r.commit("one")
			r.git("tag", "v1.0.0")
			r.write("Cargo.toml", "changed\n")
			return Info{Version: "v1.0.0", Commit: h, Class: Stable, Source: SourceGit, Dirty: true}
		}},
		{"dirty tree: untracked file", func(r *repo) Info {
			h := r.commit("one")
			r.write("new.rs", "fn main() {}\n")
			return Info{Version: h, Commit: h, Class: Development, Source: SourceGit, Dirty: true}
		}},
		{"detached HEAD on a tagged commit", func(r *repo) Info {
			h := r.commit("one")
			r.git("tag", "v0.9.0")
			r.commit("two")
			r.git("checkout", "-q", "--detach", h)
			return Info{Version: "v0.9.0", Commit: h, Class: Stable, Source: SourceGit}
		}},
		{"detached HEAD on an untagged commit", func(r *repo) Info {
			h := r.commit("one")
			r.commit("two")
			r.git("checkout", "-q", "--detach", h)
			return Info{Version: h, Commit: h, Class: Development, Source: SourceGit}
		}},
		{"repository without commits", func(r *repo) Info {
			return Info{Version: "dev", Class: Development, Source: SourceDefault}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRepo(t)
			want := tt.setup(r)
			got, err := Detect(Options{Dir: r.dir, Getenv: noEnv})
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			if got != want {
				t.Errorf("Detect = %+v\nwant      %+v", got, want)
			}
		})
	}
}

func TestDetectGitSubdirectory(t *testing.T) {
	// A crate in a workspace member folder is still versioned by its repository.
	r := newRepo(t)
	h := r.commit("one")
	sub := filepath.Join(r.dir, "crates", "app")
	if err := os.MkdirAll(sub, 0o755); err != nil {
		t.Fatal(err)
	}
	got, err := Detect(Options{Dir: sub, Getenv: noEnv})
	if err != nil || got.Version != h || got.Dirty {
		t.Errorf("Detect in a subdirectory = %+v, %v; want version %s, clean", got, err, h)
	}
}

func TestDetectNotARepository(t *testing.T) {
	newRepo(t) // for the skip and the isolated configuration
	dir := t.TempDir()
	t.Setenv("GIT_CEILING_DIRECTORIES", filepath.Dir(dir))
	got, err := Detect(Options{Dir: dir, Getenv: noEnv})
	want := Info{Version: "dev", Class: Development, Source: SourceDefault}
	if err != nil || got != want {
		t.Errorf("Detect outside a repository = %+v, %v; want %+v", got, err, want)
	}
}

func TestDetectMissingSourceDir(t *testing.T) {
	newRepo(t)
	dir := filepath.Join(t.TempDir(), "gone")
	_, err := Detect(Options{Dir: dir, Getenv: noEnv})
	if err == nil || !strings.Contains(err.Error(), dir) {
		t.Errorf("Detect in a missing directory: err = %v, want an error naming %s", err, dir)
	}
}

func TestDetectCIWinsOverGit(t *testing.T) {
	r := newRepo(t)
	r.commit("one")
	r.git("tag", "v5.0.0")
	got, err := Detect(Options{Dir: r.dir, Getenv: env(map[string]string{"DRONE": "true", "DRONE_COMMIT": shaA})})
	want := Info{Version: shaA, Commit: shaA, Class: Development, Source: SourceDrone}
	if err != nil || got != want {
		t.Errorf("Detect = %+v, %v; want %+v", got, err, want)
	}
}

func TestDetectTagFlagTakesCommitFromGit(t *testing.T) {
	r := newRepo(t)
	h := r.commit("one")
	r.write("extra.txt", "x")
	got, err := Detect(Options{Tag: "v7.0.0", Dir: r.dir, Getenv: noEnv})
	want := Info{Version: "v7.0.0", Commit: h, Class: Stable, Source: SourceFlag, Dirty: true}
	if err != nil || got != want {
		t.Errorf("Detect = %+v, %v; want %+v", got, err, want)
	}
}

func TestDetectUnsafeGitTag(t *testing.T) {
	r := newRepo(t)
	r.commit("one")
	r.git("tag", "release/1.0")
	_, err := Detect(Options{Dir: r.dir, Getenv: noEnv})
	if err == nil {
		t.Fatal("Detect accepted the tag release/1.0")
	}
	for _, s := range []string{`"release/1.0"`, TagRule, "--tag"} {
		if !strings.Contains(err.Error(), s) {
			t.Errorf("error %q does not mention %q", err, s)
		}
	}
}

func TestDetectInjectedGit(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		wantErr string
	}{
		{"git not installed", fmt.Errorf("exec: %w", exec.ErrNotFound), ""},
		{"not a repository", fmt.Errorf("git rev-parse: %w", ErrNotRepository), ""},
		{"refused repository", errors.New("fatal: detected dubious ownership in repository at '/src'"), "dubious ownership"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			git := func(dir string, args ...string) (string, error) { return "", tt.err }
			got, err := Detect(Options{Dir: "/src", Getenv: noEnv, Git: git})
			if tt.wantErr == "" {
				if err != nil || got.Source != SourceDefault {
					t.Errorf("Detect = %+v, %v; want the default version", got, err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "/src") {
				t.Errorf("Detect error = %v, want one naming /src and %q", err, tt.wantErr)
			}
		})
	}
}
