package project

import (
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"testing"
)

func TestUpload(t *testing.T) {
	marker := "Written by garage-release: the next run replaces this whole folder, so keep nothing else in it.\n"
	tests := []struct {
		name    string
		fixture string
		edit    map[string]string // applied to the fixture's copy
		out     string            // relative to the project; "" for none
		exclude []string          // must be in Exclude
		not     []string          // must not be in Exclude
		needed  []string          // Needed, exactly
	}{
		{
			name: "workspace: nothing cargo needs is gitignored", fixture: "workspace", out: "dist",
			edit:    map[string]string{"notes.log": "scratch", "scratch/x.rs": "fn scratch() {}"},
			exclude: []string{"target", ".git", "**/.git", "**/.*.garage-release-*", "dist", "crates/core/target", "libs/extra/target"},
			needed:  nil,
		},
		{
			name: "workspace: output folder deeper, or outside", fixture: "workspace", out: "out/rel",
			exclude: []string{"out/rel"}, not: []string{"dist"},
		},
		{
			name: "vendored: vendor/ gitignored goes whole", fixture: "vendored",
			needed: []string{"vendor/"},
		},
		{
			name: "vendored: one vendored file gitignored still takes the whole folder", fixture: "vendored",
			edit:   map[string]string{".gitignore": "/target\n*.json\n"},
			needed: []string{"vendor/"},
		},
		{
			name: "vendored: nothing ignored", fixture: "vendored",
			edit:   map[string]string{".gitignore": "/target\n"},
			needed: nil,
		},
		{
			name: "workspace: bin folder, assets, lock file and a path dependency gitignored", fixture: "workspace",
			edit: map[string]string{".gitignore": "/target\ncrates/cli/\nassets/\nCargo.lock\nlibs/\n"},
			// assets/banner.txt: named by include_str! in crates/cli/main.rs.
			needed: []string{"Cargo.lock", "assets/banner.txt", "crates/cli/", "libs/extra/"},
		},
		{
			name: "workspace: generated sources and build script gitignored", fixture: "workspace",
			edit: map[string]string{
				".gitignore":                   "/target\nbuild.rs\ngenerated.rs\ntmp/\n",
				"crates/core/src/generated.rs": "pub const X: u8 = 1;\n",
				"crates/core/src/tmp/junk.rs":  "not entered: an ignored folder inside a source folder",
			},
			needed: []string{"build.rs", "crates/core/src/generated.rs"},
		},
		{
			name: "workspace: an earlier release's dist/ is excluded even for check", fixture: "workspace",
			edit:    map[string]string{"dist/.garage-release": marker, "old/.garage-release": "someone else's file"},
			exclude: []string{"dist"}, not: []string{"old"},
		},
		{
			name: "cargo's target-dir in the project", fixture: "lintfail",
			edit:    map[string]string{".cargo/config.toml": "[build]\ntarget-dir = \"build/cargo\"\n"},
			exclude: []string{"build/cargo"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := copyFixture(t, tt.fixture, tt.edit)
			s, err := Load(dir)
			if err != nil {
				t.Fatal(err)
			}
			out := ""
			if tt.out != "" {
				out = filepath.Join(dir, tt.out)
			}
			u, err := Upload(dir, s, out)
			if err != nil {
				t.Fatal(err)
			}
			for _, p := range tt.exclude {
				if !slices.Contains(u.Exclude, p) {
					t.Errorf("Exclude = %q: lacks %q", u.Exclude, p)
				}
			}
			for _, p := range tt.not {
				if slices.Contains(u.Exclude, p) {
					t.Errorf("Exclude = %q: has %q", u.Exclude, p)
				}
			}
			if !reflect.DeepEqual(u.Needed, tt.needed) {
				t.Errorf("Needed = %q, want %q", u.Needed, tt.needed)
			}
		})
	}
}

// TestUploadOutsideOutput: an output folder outside the project, or a link
// to one inside it, is judged by where it leads.
func TestUploadOutsideOutput(t *testing.T) {
	dir := copyFixture(t, "lintfail", nil)
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	u, err := Upload(dir, s, filepath.Join(t.TempDir(), "dist"))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"target", ".git", "**/.git", "**/.*.garage-release-*"}; !reflect.DeepEqual(u.Exclude, want) {
		t.Errorf("Exclude = %q, want %q", u.Exclude, want)
	}
	os.MkdirAll(filepath.Join(dir, "releases", "dist"), 0o755)
	link := filepath.Join(t.TempDir(), "dist-link")
	if err := os.Symlink(filepath.Join(dir, "releases", "dist"), link); err != nil {
		t.Fatal(err)
	}
	u, err = Upload(dir, s, link)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Contains(u.Exclude, "releases/dist") {
		t.Errorf("Exclude = %q: lacks the linked output releases/dist", u.Exclude)
	}
}

func TestUploadSmokeAndDocsGitignored(t *testing.T) {
	dir := copyFixture(t, "lintfail", map[string]string{
		".gitignore": "/target\nci/\nbook/\n", "ci/smoke.sh": "#!/bin/sh\n", "book/book.toml": "",
	})
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	s.SmokeTest, s.Docs = "ci/smoke.sh", "book"
	u, err := Upload(dir, s, "")
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"book/", "ci/smoke.sh"}; !reflect.DeepEqual(u.Needed, want) {
		t.Errorf("Needed = %q, want %q", u.Needed, want)
	}
}

func TestPatternsEscape(t *testing.T) {
	u := UploadSet{Needed: []string{"vendor/", "gen/[x]*.rs", `a\b?`}}
	want := []string{"vendor/", `gen/\[x\]\*.rs`, `a\\b\?`}
	if got := u.Patterns(); !reflect.DeepEqual(got, want) {
		t.Errorf("Patterns() = %q, want %q", got, want)
	}
}

func TestIncludes(t *testing.T) {
	src := []byte(`
const A: &str = include_str!("../../assets/banner.txt");
static B: &[u8] = include_bytes!( "data.bin" );
include!("gen/table.rs");
const C: &str = include_str!(concat!(env!("OUT_DIR"), "/x.txt"));
// my_include_str!("no.txt") is another macro
`)
	want := []string{"../../assets/banner.txt", "data.bin", "gen/table.rs"}
	if got := includes(src); !reflect.DeepEqual(got, want) {
		t.Errorf("includes = %q, want %q", got, want)
	}
}
