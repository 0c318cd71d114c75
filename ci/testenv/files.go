package testenv

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// Tree records every entry under dir: files by content, folders as "dir",
// links by target. Two trees compare equal when nothing was touched.
func Tree(t testing.TB, dir string) map[string]string {
	t.Helper()
	tree := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(dir, p)
		switch {
		case d.Type()&fs.ModeSymlink != 0:
			target, err := os.Readlink(p)
			tree[rel] = "link " + target
			return err
		case d.IsDir():
			tree[rel] = "dir"
		default:
			data, err := os.ReadFile(p)
			tree[rel] = string(data)
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return tree
}

// CopyFixture copies the fixture project src (a folder under ci/testdata)
// to a new temporary folder and returns it. Its `gitignore` files become
// .gitignore (see ci/testdata/README.md: a real one would hide fixture
// files from this repository), then extra files are applied on top (path →
// content; "" removes the path).
func CopyFixture(t testing.TB, src string, extra map[string]string) string {
	t.Helper()
	dst := filepath.Join(t.TempDir(), filepath.Base(src))
	err := filepath.WalkDir(src, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, _ := filepath.Rel(src, p)
		if d.Name() == "gitignore" {
			rel = filepath.Join(filepath.Dir(rel), ".gitignore")
		}
		out := filepath.Join(dst, rel)
		if d.IsDir() {
			return os.MkdirAll(out, 0o755)
		}
		data, err := os.ReadFile(p)
		if err != nil {
			return err
		}
		return os.WriteFile(out, data, 0o644)
	})
	if err != nil {
		t.Fatal(err)
	}
	for p, content := range extra {
		full := filepath.Join(dst, filepath.FromSlash(p))
		if content == "" {
			if err := os.RemoveAll(full); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dst
}
