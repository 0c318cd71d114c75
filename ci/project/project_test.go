package project

import (
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

// writeTree creates files (path → content) under a new temp dir.
func writeTree(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for p, content := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestParse(t *testing.T) {
	tests := []struct {
		name  string
		toml  string
		files fstest.MapFS // the project folder; nil: none given
		want  Settings
	}{
		{
			name: "package metadata",
			toml: `
[package]
name = "garage"
version = "1.0.1"

[package.metadata.release]
binary = "garage-bin"
targets = ["arm64", "amd64"]
features = ["kubernetes-discovery", "lmdb"]
smoke-test = "script/smoke.sh"
test-packages = ["curl", "python3-minimal", "libc6-dev"]
image = "garage"
image-cmd = ["/garage-bin", "server"]
docs = "doc/book"
`,
			want: Settings{
				Name: "garage", CargoVersion: "1.0.1", Binary: "garage-bin",
				Targets:      []string{"arm64", "amd64"},
				Features:     []string{"kubernetes-discovery", "lmdb"},
				SmokeTest:    "script/smoke.sh",
				TestPackages: []string{"curl", "python3-minimal", "libc6-dev"},
				Image:        "garage", ImageCmd: []string{"/garage-bin", "server"},
				Docs: "doc/book",
			},
		},
		{
			name: "defaults: binary is the package name",
			toml: "[package]\nname = \"hello\"\nversion = \"0.3.0\"\n",
			want: Settings{Name: "hello", CargoVersion: "0.3.0", Binary: "hello"},
		},
		{
			name: "defaults: binary from the first [[bin]]",
			toml: "[package]\nname = \"hello-cli\"\nversion = \"0.1.0\"\n\n[[bin]]\nname = \"hello\"\npath = \"src/main.rs\"\n\n[[bin]]\nname = \"other\"\n",
			want: Settings{Name: "hello-cli", CargoVersion: "0.1.0", Binary: "hello"},
		},
		{
			name: "version inherited from the workspace",
			toml: "[package]\nname = \"hello\"\nversion.workspace = true\n",
			want: Settings{Name: "hello", Binary: "hello"},
		},
		{
			name: "other metadata tables are left alone",
			toml: "[package]\nname = \"hello\"\n[package.metadata.deb]\nmaintainer = \"x\"\n[package.metadata.dist]\ninstallers = []\n",
			want: Settings{Name: "hello", Binary: "hello"},
		},
		{
			name:  "Locked when Cargo.lock exists",
			toml:  "[package]\nname = \"hello\"\n",
			files: fstest.MapFS{"Cargo.lock": {Data: []byte("version = 4\n")}},
			want:  Settings{Name: "hello", Binary: "hello", Locked: true},
		},
		{
			name:  "not Locked without Cargo.lock",
			toml:  "[package]\nname = \"hello\"\n",
			files: fstest.MapFS{"src/main.rs": {Data: []byte("fn main() {}\n")}},
			want:  Settings{Name: "hello", Binary: "hello"},
		},
		{
			name: "virtual workspace with workspace metadata",
			toml: `
[workspace]
members = ["src/garage", "src/api"]

[workspace.metadata.release]
binary = "garage"
package = "garage"
targets = ["amd64"]
`,
			want: Settings{Name: "garage", Binary: "garage", Package: "garage", Targets: []string{"amd64"}, Members: []string{"src/garage", "src/api"}, Workspace: true, Virtual: true},
		},
		{
			name: "package metadata wins over workspace metadata",
			toml: `
[package]
name = "root"
[package.metadata.release]
binary = "from-package"
[workspace]
members = ["."]
[workspace.metadata.release]
binary = "from-workspace"
`,
			want: Settings{Name: "root", Binary: "from-package", Workspace: true},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var fsys = tt.files
			var got Settings
			var err error
			if fsys == nil {
				got, err = Parse([]byte(tt.toml), nil)
			} else {
				got, err = Parse([]byte(tt.toml), fsys)
			}
			if err != nil {
				t.Fatalf("Parse: %v", err)
			}
			if tt.want.Checks.ClippyArgs == nil {
				tt.want.Checks = DefaultChecks() // no check keys: the default policy
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("Parse =\n %+v\nwant\n %+v", got, tt.want)
			}
		})
	}
}

func TestLoadWorkspaceGlobs(t *testing.T) {
	dir := writeTree(t, map[string]string{
		"Cargo.toml": `
[workspace]
members = ["crates/*", "./tools/xtask", "bins/server"]

[workspace.metadata.release]
binary = "server"
package = "server"
smoke-test = "ci/smoke.sh"
`,
		"Cargo.lock":                 "version = 4\n",
		"crates/api/Cargo.toml":      "[package]\nname = \"api\"\n",
		"crates/store/Cargo.toml":    "[package]\nname = \"store\"\n",
		"crates/README.md":           "not a crate: a glob names folders only\n",
		"tools/xtask/Cargo.toml":     "[package]\nname = \"xtask\"\n",
		"bins/server/Cargo.toml":     "[package]\nname = \"server\"\n",
		"bins/unlisted/Cargo.toml":   "[package]\nname = \"unlisted\"\n",
		"target/debug/server":        "build output",
		"ci/smoke.sh":                "#!/bin/sh\n",
		".git/HEAD":                  "ref: refs/heads/main\n",
		"crates/store/src/lib.rs":    "",
		"crates/api/src/lib.rs":      "",
		"bins/server/src/main.rs":    "fn main() {}\n",
		"tools/xtask/src/main.rs":    "fn main() {}\n",
		"bins/unlisted/src/main.rs":  "fn main() {}\n",
		"crates/store/tests/x.rs":    "",
		"docs-not-declared/index.md": "",
	})
	s, err := Load(dir)
	if err != nil {
		t.Fatal(err)
	}
	wantMembers := []string{"crates/api", "crates/store", "tools/xtask", "bins/server"}
	if !slices.Equal(s.Members, wantMembers) {
		t.Errorf("Members = %q, want %q", s.Members, wantMembers)
	}
	if s.Binary != "server" || s.Package != "server" || s.Name != "server" || !s.Locked {
		t.Errorf("Load = %+v, want binary/package/name server, locked", s)
	}
	if !s.Workspace || !s.Virtual {
		t.Errorf("Load = %+v, want a virtual workspace", s)
	}
}

func TestLoadErrors(t *testing.T) {
	t.Run("no Cargo.toml", func(t *testing.T) {
		dir := writeTree(t, map[string]string{"README.md": "not a Rust project\n"})
		_, err := Load(dir)
		if !errors.Is(err, ErrNoCargoToml) {
			t.Fatalf("Load = %v, want ErrNoCargoToml", err)
		}
		for _, want := range []string{"--source", dir} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("Load error %q does not say %q", err, want)
			}
		}
	})
	t.Run("missing folder", func(t *testing.T) {
		missing := filepath.Join(t.TempDir(), "nope")
		_, err := Load(missing)
		if err == nil || !strings.Contains(err.Error(), missing) || !errors.Is(err, os.ErrNotExist) {
			t.Fatalf("Load(%s) = %v, want a not-exist error naming it", missing, err)
		}
	})
	t.Run("a file, not a folder", func(t *testing.T) {
		dir := writeTree(t, map[string]string{"Cargo.toml": "[package]\nname = \"x\"\n"})
		file := filepath.Join(dir, "Cargo.toml")
		_, err := Load(file)
		if err == nil || !strings.Contains(err.Error(), "is not a directory") {
			t.Fatalf("Load(%s) = %v, want 'is not a directory'", file, err)
		}
	})
}

func TestParseErrors(t *testing.T) {
	const pkg = "[package]\nname = \"hello\"\n\n[package.metadata.release]\n"
	tests := []struct {
		name string
		toml string
		want []string // substrings of the error
	}{
		{"malformed TOML", "[package\nname = \"x\"\n", []string{"Cargo.toml", "line ", "table name"}},
		{"unterminated string", "[package]\nname = \"x\n", []string{"Cargo.toml", "line 2"}},
		{"targets is a string", pkg + "targets = \"amd64\"\n", []string{"Cargo.toml", "line 5", "package.metadata.release.targets", "incompatible types"}},
		{"binary is a number", pkg + "binary = 3\n", []string{"package.metadata.release.binary", "incompatible types"}},
		{"typo smoke_test", pkg + "smoke_test = \"smoke.sh\"\n", []string{`unknown key "smoke_test"`, "[package.metadata.release]", "smoke-test"}},
		{"typo in workspace metadata", "[workspace]\nmembers = []\n[workspace.metadata.release]\nbinary = \"x\"\nimage_cmd = []\n", []string{`unknown key "image_cmd"`, "[workspace.metadata.release]"}},
		{"neither package nor workspace", "[dependencies]\n", []string{"neither [package] nor [workspace]"}},
		{"virtual workspace without binary", "[workspace]\nmembers = [\"a\"]\n", []string{"virtual workspace", "binary", "--binary"}},
		{"unknown target", pkg + "targets = [\"amd64\", \"armv6hf\"]\n", []string{"targets", `"armv6hf"`, "amd64, i386, arm64, arm"}},
		{"smoke test outside", pkg + "smoke-test = \"../x\"\n", []string{`smoke-test "../x"`, "inside the project"}},
		{"smoke test absolute", pkg + "smoke-test = \"/abs\"\n", []string{`smoke-test "/abs"`, "inside the project"}},
		{"docs escaping after cleaning", pkg + "docs = \"docs/../../x\"\n", []string{`docs "docs/../../x"`, "inside the project"}},
		{"docs absolute", pkg + "docs = \"/abs\"\n", []string{`docs "/abs"`, "inside the project"}},
		{"docs is the whole project", pkg + "docs = \"./\"\n", []string{`docs "./"`, "inside the project"}},
		{"backslash path", pkg + "smoke-test = 'ci\\smoke.sh'\n", []string{"smoke-test", "inside the project"}},
		{"member outside", "[workspace]\nmembers = [\"../x\"]\n[workspace.metadata.release]\nbinary = \"x\"\n", []string{`workspace member "../x"`, "outside the project"}},
		{"member absolute", "[workspace]\nmembers = [\"/abs\"]\n[workspace.metadata.release]\nbinary = \"x\"\n", []string{`workspace member "/abs"`, "outside the project"}},
		{"upper-case Debian package", pkg + "test-packages = [\"Curl\"]\n", []string{"test-packages", `"Curl"`, "not a Debian package name"}},
		{"Debian package with a space", pkg + "test-packages = [\"curl wget\"]\n", []string{`"curl wget"`, "not a Debian package name"}},
		{"Debian package with a version", pkg + "test-packages = [\"curl=8.14\"]\n", []string{`"curl=8.14"`, "not a Debian package name"}},
		{"one-letter Debian package", pkg + "test-packages = [\"c\"]\n", []string{`"c"`, "not a Debian package name"}},
		{"option as a Debian package", pkg + "test-packages = [\"-y\"]\n", []string{`"-y"`, "not a Debian package name"}},
		{"build package with an architecture", pkg + "build-packages = [\"zlib1g-dev:arm64\"]\n", []string{"build-packages", `"zlib1g-dev:arm64"`, "the architectures are chosen for you"}},
		{"build packages as a string", pkg + "build-packages = \"zlib1g-dev\"\n", []string{"package.metadata.release.build-packages", "incompatible types"}},
		{"test-args naming the workspace", pkg + "test-args = [\"--workspace\"]\n", []string{"test-args", `"--workspace"`, "set by garage-release"}},
		{"test-args naming a target", pkg + "test-args = [\"--target=aarch64-unknown-linux-gnu\"]\n", []string{"test-args", "on the host"}},
		{"image with a tag", pkg + "image = \"kvstore:latest\"\n", []string{`image "kvstore:latest"`, "name only"}},
		{"image with a digest", pkg + "image = \"kvstore@sha256:abc\"\n", []string{`image "kvstore@sha256:abc"`, "name only"}},
		{"binary with a slash", pkg + "binary = \"bin/hello\"\n", []string{`binary "bin/hello"`}},
		{"binary starting with a dot", pkg + "binary = \"..\"\n", []string{`binary ".."`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := Parse([]byte(tt.toml), nil)
			if err == nil {
				t.Fatalf("Parse succeeded with %+v, want an error", s)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

func TestValidPathsAndNames(t *testing.T) {
	const pkg = "[package]\nname = \"hello\"\n\n[package.metadata.release]\n"
	for _, extra := range []string{
		"smoke-test = \"./ci/smoke.sh\"\n",
		"smoke-test = \"..hidden/smoke.sh\"\n", // a folder named "..hidden" is inside the project
		"docs = \"docs/\"\n",
		"test-packages = [\"python3-minimal\", \"libstdc++6\", \"g++\", \"lib64gcc-s1\", \"xz-utils\", \"0ad\"]\n",
		"image = \"garage-server\"\n",
		"binary = \"garage.bin_2-x\"\n",
		"targets = [\"x86_64-unknown-linux-gnu\", \"arm\"]\n",
	} {
		if _, err := Parse([]byte(pkg+extra), nil); err != nil {
			t.Errorf("Parse rejected %q: %v", strings.TrimSpace(extra), err)
		}
	}
}

func TestImageDefaults(t *testing.T) {
	tests := []struct {
		s          Settings
		entrypoint []string
		name       string
	}{
		{Settings{Binary: "hello"}, []string{"/hello"}, "hello"},
		{Settings{Binary: "garage", Image: "garage-server", ImageCmd: []string{"/garage", "server"}}, []string{"/garage", "server"}, "garage-server"},
	}
	for _, tt := range tests {
		if got := tt.s.ImageEntrypoint(); !slices.Equal(got, tt.entrypoint) {
			t.Errorf("%+v: ImageEntrypoint() = %q, want %q", tt.s, got, tt.entrypoint)
		}
		if got := tt.s.ImageName(); got != tt.name {
			t.Errorf("%+v: ImageName() = %q, want %q", tt.s, got, tt.name)
		}
	}
}

// TestValidateAfterFlags checks the settings a flag can set: flags override
// Cargo.toml and must meet the same rules.
func TestValidateAfterFlags(t *testing.T) {
	s, err := Parse([]byte("[package]\nname = \"hello\"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	s.Targets = []string{"arm64,sparc"}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), `"sparc"`) {
		t.Errorf("Validate with --targets arm64,sparc = %v, want an error naming sparc", err)
	}
	s.Targets = []string{"arm64,arm"}
	s.Binary = ""
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), "binary") {
		t.Errorf("Validate with an empty binary = %v, want an error", err)
	}
}

// TestBuildSettings: build-packages and test-args, from either table.
func TestBuildSettings(t *testing.T) {
	for _, table := range []string{"[package]\nname = \"zinfo\"\n[package.metadata.release]\n", "[workspace]\nmembers = []\n[workspace.metadata.release]\nbinary = \"cw\"\n"} {
		s, err := Parse([]byte(table+"build-packages = [\"libzstd-dev\", \"protobuf-compiler\"]\ntest-args = [\"--all-features\"]\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(s.BuildPackages, []string{"libzstd-dev", "protobuf-compiler"}) || !reflect.DeepEqual(s.TestArgs, []string{"--all-features"}) {
			t.Errorf("%q: build-packages %q, test-args %q", table, s.BuildPackages, s.TestArgs)
		}
	}
	s, err := Parse([]byte("[package]\nname = \"zinfo\"\n"), nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.SettingsTable() != "package.metadata.release" {
		t.Errorf("a package's settings table: %q", s.SettingsTable())
	}
	s.BuildPackages = []string{"libzstd-dev", "Bad"}
	if err := s.Validate(); err == nil || !strings.Contains(err.Error(), `build-packages: "Bad"`) {
		t.Errorf("Validate after --build-packages Bad = %v", err)
	}
}

// TestBundledExample reads the example's own Cargo.toml: it declares what
// the pipeline releases when given no project.
func TestBundledExample(t *testing.T) {
	s, err := Load(filepath.Join("..", "example"))
	if err != nil {
		t.Fatal(err)
	}
	want := Settings{
		Name: "kvstore", CargoVersion: "0.1.0", Binary: "kvstore",
		Targets:      []string{"amd64", "i386", "arm64", "arm"},
		Features:     []string{},
		SmokeTest:    "smoke.sh",
		TestPackages: []string{"curl"},
		Image:        "kvstore",
		ImageCmd:     []string{"/kvstore", "--listen", "0.0.0.0:3900"},
		Docs:         "docs",
		Locked:       true,
		Checks:       DefaultChecks(),
	}
	if !reflect.DeepEqual(s, want) {
		t.Errorf("example settings =\n %+v\nwant\n %+v", s, want)
	}
	if got := s.ImageEntrypoint(); !slices.Equal(got, want.ImageCmd) {
		t.Errorf("example ImageEntrypoint() = %q", got)
	}
}
