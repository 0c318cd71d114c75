package outdir

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/testenv"
)

// manifestJSON is a valid manifest.json, as earlier versions wrote it.
func manifestJSON(t *testing.T) []byte {
	t.Helper()
	m := &manifest.Manifest{
		Version: "v1.0.0", Class: "stable", Binary: "kvstore", Date: time.Unix(0, 0).UTC(),
		Targets: []manifest.Artifact{{
			Target: "amd64", Triple: "x86_64-unknown-linux-gnu", Platform: "linux/amd64",
			Path: "x86_64-unknown-linux-gnu/kvstore", Size: 3, SHA256: strings.Repeat("a", 64),
		}},
	}
	data, err := m.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// write creates files under dir: a name ending in "/" is a folder.
func write(t *testing.T, dir string, files map[string]string) {
	t.Helper()
	for name, content := range files {
		p := filepath.Join(dir, name)
		if strings.HasSuffix(name, "/") {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// layout is a temporary world: a home folder holding a project, the working
// folder inside the project, and room for outputs.
type layout struct {
	root, home, project, work string
}

func newLayout(t *testing.T) layout {
	root, err := filepath.EvalSymlinks(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l := layout{root: root, home: filepath.Join(root, "home")}
	l.project = filepath.Join(l.home, "src", "proj")
	l.work = filepath.Join(l.project, "sub")
	write(t, l.project, map[string]string{"Cargo.toml": "[package]\n", ".git/HEAD": "ref\n", "src/main.rs": "fn main() {}\n", "sub/": ""})
	return l
}

func (l layout) protected() []string { return []string{l.project, l.work, l.home} }

func TestCheck(t *testing.T) {
	cases := []struct {
		name string
		// setup returns --out; it may create files under the layout.
		setup func(t *testing.T, l layout) string
		// refuse is "" when out may be replaced, else a piece of the reason;
		// {home} and {project} stand for the layout's folders.
		refuse string
	}{
		{"missing", func(t *testing.T, l layout) string { return filepath.Join(l.project, "dist") }, ""},
		{"missing with missing parents", func(t *testing.T, l layout) string { return filepath.Join(l.root, "a", "b", "dist") }, ""},
		{"empty", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"out/": ""})
			return filepath.Join(l.root, "out")
		}, ""},
		{"ours (marker)", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"out/" + Marker: MarkerText, "out/anything": "x"})
			return filepath.Join(l.root, "out")
		}, ""},
		{"legacy ours", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{
				"out/manifest.json": string(manifestJSON(t)), "out/SHA256SUMS": "x",
				"out/x86_64-unknown-linux-gnu/kvstore": "bin", "out/docs/index.html": "<p>",
				"out/image.tar": "tar", "out/index.html": "<p>", "out/releases.json": "[]",
			})
			return filepath.Join(l.root, "out")
		}, ""},
		{"relative path", func(t *testing.T, l layout) string {
			wd, _ := os.Getwd()
			rel, err := filepath.Rel(wd, filepath.Join(l.root, "dist"))
			if err != nil {
				t.Skip("no relative path to the temporary folder")
			}
			return rel
		}, ""},
		{"foreign file", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"out/notes.txt": "mine"})
			return filepath.Join(l.root, "out")
		}, "notes.txt"},
		{"foreign file beside a legacy manifest", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"out/manifest.json": string(manifestJSON(t)), "out/notes.txt": "mine"})
			return filepath.Join(l.root, "out")
		}, "notes.txt"},
		{"our names as the wrong kind", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"out/manifest.json": string(manifestJSON(t)), "out/docs": "a file"})
			return filepath.Join(l.root, "out")
		}, "docs"},
		{"legacy names, no manifest", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"out/docs/index.html": "<p>"})
			return filepath.Join(l.root, "out")
		}, "manifest.json"},
		{"manifest that does not parse", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"out/manifest.json": "{}"})
			return filepath.Join(l.root, "out")
		}, "manifest.json"},
		{"marker someone else wrote", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"out/" + Marker: "my settings", "out/notes.txt": "mine"})
			return filepath.Join(l.root, "out")
		}, "did not write"},
		{"root", func(t *testing.T, l layout) string { return "/" }, "root folder"},
		{"home", func(t *testing.T, l layout) string { return l.home }, "never replaced"},
		{"ancestor of home", func(t *testing.T, l layout) string { return l.root }, "contains {home}"},
		{"project", func(t *testing.T, l layout) string { return l.project }, "never replaced"},
		{"project through ..", func(t *testing.T, l layout) string { return l.project + "/dist/.." }, "never replaced"},
		{"workdir", func(t *testing.T, l layout) string { return l.work }, "never replaced"},
		{"ancestor of the project", func(t *testing.T, l layout) string { return filepath.Dir(l.project) }, "contains {project}"},
		{"symlink to the project", func(t *testing.T, l layout) string {
			link := filepath.Join(l.root, "link")
			if err := os.Symlink(l.project, link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "never replaced"},
		{"path through a symlink to an ancestor", func(t *testing.T, l layout) string {
			link := filepath.Join(l.root, "up")
			if err := os.Symlink(l.home, link); err != nil {
				t.Fatal(err)
			}
			return filepath.Join(link, "src")
		}, "contains {project}"},
		{"project subfolder with a file", func(t *testing.T, l layout) string { return filepath.Join(l.project, "src") }, "main.rs"},
		{"regular file", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"file": "x"})
			return filepath.Join(l.root, "file")
		}, "a file, not a folder"},
		{"below a regular file", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"file": "x"})
			return filepath.Join(l.root, "file", "dist")
		}, "is a file"},
		{"dangling symlink", func(t *testing.T, l layout) string {
			link := filepath.Join(l.root, "dangling")
			if err := os.Symlink(filepath.Join(l.root, "nowhere", "x"), link); err != nil {
				t.Fatal(err)
			}
			return link
		}, "does not exist"}, // replacing it would drop the user's link
		{"symlink to our output", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"real/" + Marker: MarkerText})
			link := filepath.Join(l.root, "link")
			if err := os.Symlink(filepath.Join(l.root, "real"), link); err != nil {
				t.Fatal(err)
			}
			return link
		}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			l := newLayout(t)
			out := tc.setup(t, l)
			before := testenv.Tree(t, l.root)
			err := Check(out, l.protected()...)
			want := strings.NewReplacer("{home}", l.home, "{project}", l.project).Replace(tc.refuse)
			if want == "" {
				if err != nil {
					t.Fatalf("Check(%s) = %v, want nil", out, err)
				}
			} else {
				var r *Refusal
				if !errors.As(err, &r) {
					t.Fatalf("Check(%s) = %v, want a refusal", out, err)
				}
				if !strings.Contains(r.Reason, want) || !strings.Contains(r.Fix, "--out") {
					t.Errorf("refusal %+v: want the reason to name %q and a fix naming --out", r, want)
				}
			}
			if after := testenv.Tree(t, l.root); !reflect.DeepEqual(before, after) {
				t.Errorf("Check changed the disk:\nbefore %v\nafter  %v", before, after)
			}
		})
	}
}

// fillWith returns a fill that writes files into the temporary folder.
func fillWith(files map[string]string) func(string) error {
	return func(tmp string) error {
		for name, content := range files {
			p := filepath.Join(tmp, name)
			if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
				return err
			}
			if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
				return err
			}
		}
		return nil
	}
}

func TestReplace(t *testing.T) {
	newFiles := map[string]string{"manifest.json": "new", "x86_64-unknown-linux-gnu/kvstore": "new bin"}
	wantNew := map[string]string{".": "dir", Marker: MarkerText, "manifest.json": "new", "x86_64-unknown-linux-gnu": "dir", "x86_64-unknown-linux-gnu/kvstore": "new bin"}
	userFiles := map[string]string{
		"dist.partial/notes.txt": "the user's", "dist.old/keep.txt": "the user's too", "notes.txt": "beside",
	}

	t.Run("missing out, user's dist.partial and dist.old untouched", func(t *testing.T) {
		l := newLayout(t)
		write(t, l.root, userFiles)
		out := filepath.Join(l.root, "dist")
		if err := Replace(out, fillWith(newFiles), l.protected()...); err != nil {
			t.Fatal(err)
		}
		if got := testenv.Tree(t, out); !reflect.DeepEqual(got, wantNew) {
			t.Errorf("out = %v, want %v", got, wantNew)
		}
		checkSiblings(t, l.root, "dist", "dist.old", "dist.partial", "home", "notes.txt")
		for name, content := range userFiles {
			if data, _ := os.ReadFile(filepath.Join(l.root, name)); string(data) != content {
				t.Errorf("%s = %q, want %q", name, data, content)
			}
		}
		if fi, _ := os.Stat(out); fi.Mode().Perm() != 0o755 {
			t.Errorf("out has mode %v, want 0755", fi.Mode().Perm())
		}
	})

	t.Run("over our earlier output", func(t *testing.T) {
		l := newLayout(t)
		write(t, l.root, userFiles)
		out := filepath.Join(l.root, "dist")
		if err := Replace(out, fillWith(map[string]string{"old.txt": "old", "docs/index.html": "<p>"}), l.protected()...); err != nil {
			t.Fatal(err)
		}
		if err := Replace(out, fillWith(newFiles), l.protected()...); err != nil {
			t.Fatal(err)
		}
		if got := testenv.Tree(t, out); !reflect.DeepEqual(got, wantNew) {
			t.Errorf("out = %v, want %v", got, wantNew)
		}
		checkSiblings(t, l.root, "dist", "dist.old", "dist.partial", "home", "notes.txt")
	})

	t.Run("over legacy output", func(t *testing.T) {
		l := newLayout(t)
		out := filepath.Join(l.root, "dist")
		write(t, out, map[string]string{"manifest.json": string(manifestJSON(t)), "SHA256SUMS": "x"})
		if err := Replace(out, fillWith(newFiles), l.protected()...); err != nil {
			t.Fatal(err)
		}
		if got := testenv.Tree(t, out); !reflect.DeepEqual(got, wantNew) {
			t.Errorf("out = %v, want %v", got, wantNew)
		}
	})

	t.Run("fill failure leaves everything as it was", func(t *testing.T) {
		l := newLayout(t)
		write(t, l.root, userFiles)
		out := filepath.Join(l.root, "dist")
		write(t, out, map[string]string{Marker: MarkerText, "manifest.json": "previous"})
		before := testenv.Tree(t, l.root)
		boom := errors.New("export failed")
		err := Replace(out, func(tmp string) error {
			fillWith(newFiles)(tmp)
			return boom
		}, l.protected()...)
		if !errors.Is(err, boom) {
			t.Fatalf("Replace = %v, want the fill's error", err)
		}
		if after := testenv.Tree(t, l.root); !reflect.DeepEqual(before, after) {
			t.Errorf("a failed fill changed the disk:\nbefore %v\nafter  %v", before, after)
		}
	})

	t.Run("fill failure with out missing", func(t *testing.T) {
		l := newLayout(t)
		out := filepath.Join(l.root, "new", "dist")
		if err := Replace(out, func(string) error { return errors.New("boom") }, l.protected()...); err == nil {
			t.Fatal("Replace succeeded")
		}
		if _, err := os.Lstat(out); !os.IsNotExist(err) {
			t.Errorf("out exists after a failed fill: %v", err)
		}
		checkSiblings(t, filepath.Join(l.root, "new")) // the parent may stay, empty
	})

	refusals := []struct {
		name  string
		setup func(t *testing.T, l layout) string
	}{
		{"foreign folder", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"out/notes.txt": "mine"})
			return filepath.Join(l.root, "out")
		}},
		{"project", func(t *testing.T, l layout) string { return l.project }},
		{"symlink to the project", func(t *testing.T, l layout) string {
			link := filepath.Join(l.root, "link")
			os.Symlink(l.project, link)
			return link
		}},
		{"home", func(t *testing.T, l layout) string { return l.home }},
		{"regular file", func(t *testing.T, l layout) string {
			write(t, l.root, map[string]string{"file": "x"})
			return filepath.Join(l.root, "file")
		}},
	}
	for _, tc := range refusals {
		t.Run("refuses "+tc.name, func(t *testing.T) {
			l := newLayout(t)
			out := tc.setup(t, l)
			before := testenv.Tree(t, l.root)
			called := false
			err := Replace(out, func(string) error { called = true; return nil }, l.protected()...)
			var r *Refusal
			if !errors.As(err, &r) {
				t.Fatalf("Replace = %v, want a refusal", err)
			}
			if called {
				t.Errorf("fill ran for a refused out")
			}
			if after := testenv.Tree(t, l.root); !reflect.DeepEqual(before, after) {
				t.Errorf("a refused Replace changed the disk:\nbefore %v\nafter  %v", before, after)
			}
		})
	}

	t.Run("out changed during the fill", func(t *testing.T) {
		l := newLayout(t)
		out := filepath.Join(l.root, "dist")
		write(t, out, map[string]string{Marker: MarkerText})
		err := Replace(out, func(tmp string) error {
			// The user reuses the folder during a long build.
			os.Remove(filepath.Join(out, Marker))
			write(t, out, map[string]string{"notes.txt": "mine"})
			return fillWith(newFiles)(tmp)
		}, l.protected()...)
		var r *Refusal
		if !errors.As(err, &r) || !strings.Contains(r.Reason, "changed during the run") {
			t.Fatalf("Replace = %v, want a refusal saying out changed", err)
		}
		if got := testenv.Tree(t, out); !reflect.DeepEqual(got, map[string]string{".": "dir", "notes.txt": "mine"}) {
			t.Errorf("out = %v, want the user's file only", got)
		}
		checkSiblings(t, l.root, "dist", "home")
	})

	t.Run("through a symlink", func(t *testing.T) {
		l := newLayout(t)
		real := filepath.Join(l.root, "real")
		write(t, real, map[string]string{Marker: MarkerText, "old.txt": "old"})
		link := filepath.Join(l.root, "dist")
		if err := os.Symlink(real, link); err != nil {
			t.Fatal(err)
		}
		if err := Replace(link, fillWith(newFiles), l.protected()...); err != nil {
			t.Fatal(err)
		}
		if target, err := os.Readlink(link); err != nil || target != real {
			t.Errorf("the link now points at %q (%v), want %s", target, err, real)
		}
		if got := testenv.Tree(t, real); !reflect.DeepEqual(got, wantNew) {
			t.Errorf("link target = %v, want %v", got, wantNew)
		}
	})
}

// checkSiblings fails when dir holds anything but want: no temporary folder
// may be left behind.
func checkSiblings(t *testing.T, dir string, want ...string) {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		got = append(got, e.Name())
	}
	if strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("%s holds %v, want %v", dir, got, want)
	}
}

func TestMarkerIsConstant(t *testing.T) {
	if !strings.HasPrefix(MarkerText, markerPrefix) || strings.Count(MarkerText, "\n") != 1 {
		t.Errorf("marker text %q: want one line starting with %q", MarkerText, markerPrefix)
	}
}
