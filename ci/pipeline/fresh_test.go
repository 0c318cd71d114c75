package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"
)

// TestFreshSources runs the mtime repair on real files through a sequence
// of builds, some failing, and checks which files it touches: exactly those
// whose content differs from any version the target/ folder may hold.
func TestFreshSources(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	src, tmp := t.TempDir(), t.TempDir()
	stamp, now := filepath.Join(tmp, "stamp"), filepath.Join(tmp, "now")
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(name, text string) {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old) // as the engine hands them over: no useful mtime
	}
	repair := func() map[string]bool {
		for _, n := range []string{"a.rs", "tests/b.rs"} {
			os.Chtimes(filepath.Join(src, n), old, old)
		}
		out, err := exec.Command("sh", "-c", freshSourcesScript, "fresh-sources", stamp, src, now).CombinedOutput()
		if err != nil {
			t.Fatalf("repair: %v\n%s", err, out)
		}
		touched := map[string]bool{}
		for _, n := range []string{"a.rs", "tests/b.rs"} {
			info, _ := os.Stat(filepath.Join(src, n))
			touched[n] = !info.ModTime().Equal(old)
		}
		return touched
	}
	succeed := func() {
		data, _ := os.ReadFile(now)
		os.WriteFile(stamp, data, 0o644)
	}
	steps := []struct {
		name    string
		edit    func()
		success bool
		want    map[string]bool
	}{
		{"first build", func() { write("a.rs", "a1"); write("tests/b.rs", "b1") }, true, map[string]bool{"a.rs": true, "tests/b.rs": true}},
		{"no change", func() {}, true, map[string]bool{"a.rs": false, "tests/b.rs": false}},
		{"b edited, build fails", func() { write("tests/b.rs", "b2") }, false, map[string]bool{"a.rs": false, "tests/b.rs": true}},
		{"b reverted, a edited", func() { write("tests/b.rs", "b1"); write("a.rs", "a2") }, true, map[string]bool{"a.rs": true, "tests/b.rs": true}},
		{"no change after success", func() {}, true, map[string]bool{"a.rs": false, "tests/b.rs": false}},
	}
	for _, s := range steps {
		s.edit()
		got := repair()
		for n, want := range s.want {
			if got[n] != want {
				t.Errorf("%s: %s touched=%v, want %v", s.name, n, got[n], want)
			}
		}
		if s.success {
			succeed()
		}
	}
}
