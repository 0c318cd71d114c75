package project

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/testenv"
)

// copyFixture copies ci/testdata/<name> to a new temp folder, its
// `gitignore` files renamed .gitignore (see ci/testdata/README.md), with
// extra files (path → content; "" removes the path) applied on top.
func copyFixture(t *testing.T, name string, extra map[string]string) string {
	t.Helper()
	return testenv.CopyFixture(t, filepath.Join("..", "testdata", name), extra)
}

func TestScanFixtures(t *testing.T) {
	tests := []struct {
		fixture string
		want    Layout
	}{
		{"workspace", Layout{
			Packages: []string{".", "crates/core", "crates/util", "libs/extra"},
			Files: []string{
				"Cargo.lock", "Cargo.toml", "build.rs", "crates/cli/main.rs",
				"crates/core/Cargo.toml", "crates/core/src/lib.rs",
				"crates/util/Cargo.toml", "crates/util/src/lib.rs",
				"libs/extra/Cargo.toml", "libs/extra/src/lib.rs",
			},
			SourceDirs: []string{"crates/cli", "crates/core/src", "crates/util/src", "crates/util/tests", "libs/extra/src"},
		}},
		{"lintfail", Layout{
			Packages:   []string{"."},
			Files:      []string{"Cargo.lock", "Cargo.toml", "src/main.rs"},
			SourceDirs: []string{"src"},
		}},
		{"vendored", Layout{
			Packages:   []string{"."},
			Files:      []string{".cargo/config.toml", "Cargo.lock", "Cargo.toml", "src/main.rs"},
			SourceDirs: []string{"src"},
			Vendored:   []string{"vendor"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			got, err := Scan(os.DirFS(copyFixture(t, tt.fixture, nil)))
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Scan =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

// TestLoadFixtures: the binary comes from [[bin]], and a root package with
// members is a workspace (checks and tests then take --workspace).
func TestLoadFixtures(t *testing.T) {
	tests := []struct {
		fixture               string
		name, binary, version string
		workspace, virtual    bool
		members               []string
	}{
		{"workspace", "wsroot", "wsr", "0.3.1", true, false, []string{"crates/core", "crates/util"}},
		{"lintfail", "lintfail", "lintfail", "0.1.0", false, false, nil},
		{"vendored", "vendored", "vendored", "0.1.0", false, false, nil},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			s, err := Load(copyFixture(t, tt.fixture, nil))
			if err != nil {
				t.Fatal(err)
			}
			if s.Name != tt.name || s.Binary != tt.binary || s.CargoVersion != tt.version || !s.Locked ||
				s.Workspace != tt.workspace || s.Virtual != tt.virtual || !reflect.DeepEqual(s.Members, tt.members) {
				t.Errorf("Load = %+v", s)
			}
		})
	}
}

func TestScanMoreShapes(t *testing.T) {
	t.Run("explicit targets, build script, patch and target-specific path dependencies", func(t *testing.T) {
		dir := writeTree(t, map[string]string{
			"Cargo.toml": `[package]
name = "app"
build = "tools/gen.rs"
[lib]
path = "lib/app.rs"
[[bin]]
name = "a"
path = "bins/a.rs"
[[test]]
name = "t"
path = "checks/t.rs"
[[example]]
name = "e"
path = "demo/e.rs"
[target.'cfg(unix)'.dependencies]
u = { path = "deps/u" }
[dev-dependencies]
d = { path = "deps/d", version = "1" }
[patch.crates-io]
p = { path = "forks/p" }
`,
			"tools/gen.rs": "fn main() {}\n", "lib/app.rs": "", "bins/a.rs": "fn main() {}\n",
			"checks/t.rs": "", "demo/e.rs": "fn main() {}\n",
			"deps/u/Cargo.toml":  "[package]\nname = \"u\"\n[dependencies]\nd = { path = \"../d\" }\n",
			"deps/u/src/lib.rs":  "",
			"deps/d/Cargo.toml":  "[package]\nname = \"d\"\nbuild = false\n",
			"deps/d/build.rs":    "not a build script: build = false\n",
			"forks/p/Cargo.toml": "[package]\nname = \"p\"\n",
			".cargo/config.toml": "[build]\ntarget-dir = \"out/cargo\"\n",
		})
		l, err := Scan(os.DirFS(dir))
		if err != nil {
			t.Fatal(err)
		}
		want := Layout{
			Packages: []string{".", "deps/d", "deps/u", "forks/p"},
			Files: []string{
				".cargo/config.toml", "Cargo.toml", "bins/a.rs", "checks/t.rs", "demo/e.rs",
				"deps/d/Cargo.toml", "deps/u/Cargo.toml", "deps/u/src/lib.rs", "forks/p/Cargo.toml",
				"lib/app.rs", "tools/gen.rs",
			},
			SourceDirs: []string{"bins", "checks", "demo", "deps/u/src", "lib"},
			TargetDir:  "out/cargo",
		}
		if !reflect.DeepEqual(l, want) {
			t.Errorf("Scan =\n %+v\nwant\n %+v", l, want)
		}
	})
	t.Run("virtual workspace with globs and exclude", func(t *testing.T) {
		dir := writeTree(t, map[string]string{
			"Cargo.toml":              "[workspace]\nmembers = [\"crates/*\"]\nexclude = [\"crates/old\"]\n",
			"crates/a/Cargo.toml":     "[package]\nname = \"a\"\n",
			"crates/a/src/main.rs":    "fn main() {}\n",
			"crates/old/Cargo.toml":   "[package\nbroken, but excluded",
			"crates/notes/README.md":  "a folder the glob matches, without Cargo.toml: cargo's to judge",
			"crates/a/tests/it.rs":    "",
			"crates/a/benches/b.rs":   "",
			"crates/a/examples/ex.rs": "",
		})
		l, err := Scan(os.DirFS(dir))
		if err != nil {
			t.Fatal(err)
		}
		want := Layout{
			Packages:   []string{"crates/a"},
			Files:      []string{"Cargo.toml", "crates/a/Cargo.toml", "crates/a/src/main.rs"},
			SourceDirs: []string{"crates/a/benches", "crates/a/examples", "crates/a/src", "crates/a/tests"},
			Benches:    []Bench{{Name: "b", Path: "crates/a/benches/b.rs"}},
		}
		if !reflect.DeepEqual(l, want) {
			t.Errorf("Scan =\n %+v\nwant\n %+v", l, want)
		}
	})
}

// TestScanErrors: a file a manifest names that is missing is reported with
// the manifest, the table and the path, before the engine is contacted.
func TestScanErrors(t *testing.T) {
	tests := []struct {
		name  string
		edit  map[string]string // applied to the workspace fixture
		wants []string
	}{
		{"bin path missing", map[string]string{"crates/cli/main.rs": ""},
			[]string{"Cargo.toml", `[[bin]] "wsr"`, "crates/cli/main.rs", "does not exist"}},
		{"member without Cargo.toml", map[string]string{"crates/util/Cargo.toml": ""},
			[]string{"workspace member", "crates/util", "no Cargo.toml"}},
		{"path dependency missing", map[string]string{"libs/extra": ""},
			[]string{"Cargo.toml", "[workspace.dependencies] extra", `"libs/extra"`, "does not exist"}},
		{"member's path dependency missing", map[string]string{
			"crates/core/Cargo.toml": "[package]\nname = \"wscore\"\n[dependencies]\ngone = { path = \"../gone\" }\n"},
			[]string{"crates/core/Cargo.toml", "[dependencies] gone", "crates/gone", "does not exist"}},
		{"path dependency outside the project", map[string]string{
			"crates/core/Cargo.toml": "[package]\nname = \"wscore\"\n[dependencies]\nfar = { path = \"../../../far\" }\n"},
			[]string{"crates/core/Cargo.toml", "far", "outside the project"}},
		{"build script missing", map[string]string{
			"crates/util/Cargo.toml": "[package]\nname = \"wsutil\"\nbuild = \"gen/build.rs\"\n"},
			[]string{"crates/util/Cargo.toml", "build script", "crates/util/gen/build.rs", "does not exist"}},
		{"lib path missing", map[string]string{
			"libs/extra/Cargo.toml": "[package]\nname = \"extra\"\n[lib]\npath = \"extra.rs\"\n"},
			[]string{"libs/extra/Cargo.toml", "[lib]", "libs/extra/extra.rs", "does not exist"}},
		{"malformed member manifest", map[string]string{"crates/util/Cargo.toml": "[package\n"},
			[]string{"crates/util/Cargo.toml", "line 2"}},
		{"vendored sources missing", map[string]string{
			".cargo/config.toml": "[source.crates-io]\nreplace-with = \"v\"\n[source.v]\ndirectory = \"vendor\"\n"},
			[]string{".cargo/config.toml", "[source.v]", `"vendor"`, "does not exist", "cargo vendor"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyFixture(t, "workspace", tt.edit)
			_, err := Scan(os.DirFS(dir))
			if err == nil {
				t.Fatal("Scan succeeded, want an error")
			}
			for _, w := range tt.wants {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
			// Load reports the same, so the CLI stops with exit 2.
			if _, lerr := Load(dir); lerr == nil || lerr.Error() != err.Error() {
				t.Errorf("Load = %v, want %v", lerr, err)
			}
		})
	}
}

// TestScanBenches: bench targets as cargo finds them, and which need a
// nightly compiler (a crate-level #![feature], as libtest #[bench] needs).
func TestScanBenches(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"Cargo.toml":                "[workspace]\nmembers = [\"a\", \"b\"]\n",
		"a/Cargo.toml":              "[package]\nname = \"a\"\n\n[[bench]]\nname = \"named\"\npath = \"perf/named.rs\"\n\n[[bench]]\nname = \"speed\"\n",
		"a/src/lib.rs":              "",
		"a/perf/named.rs":           "//! stable, with criterion-like code\nfn main() {}\n",
		"a/benches/speed.rs":        "// comment\n#![feature(test)]\nextern crate test;\n",
		"a/benches/walk/main.rs":    "  #![ feature (test) ]\n",
		"a/benches/cond.rs":         "#![cfg_attr(feature = \"nightly\", feature(test))]\n",
		"a/benches/notes.txt":       "not a bench",
		"b/Cargo.toml":              "[package]\nname = \"b\"\nautobenches = false\n",
		"b/src/lib.rs":              "",
		"b/benches/undiscovered.rs": "#![feature(test)]\n",
	})
	l, err := Scan(os.DirFS(dir))
	if err != nil {
		t.Fatal(err)
	}
	want := []Bench{
		{Name: "cond", Path: "a/benches/cond.rs"},
		{Name: "speed", Path: "a/benches/speed.rs", Nightly: true},
		{Name: "walk", Path: "a/benches/walk/main.rs", Nightly: true},
		{Name: "named", Path: "a/perf/named.rs"},
	}
	if !reflect.DeepEqual(l.Benches, want) {
		t.Errorf("Benches =\n %+v\nwant\n %+v", l.Benches, want)
	}
	// Load carries them into the settings, for the checks.
	s, err := Load(filepath.Join("..", "testdata", "cworkspace"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []Bench{{Name: "speed", Path: "crates/core/benches/speed.rs", Nightly: true}}; !reflect.DeepEqual(s.Benches, want) {
		t.Errorf("cworkspace: Benches = %+v, want %+v", s.Benches, want)
	}
}
