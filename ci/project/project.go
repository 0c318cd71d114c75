// Package project reads a Rust project's release settings from its
// Cargo.toml, the way cargo-dist and cargo-deb do: under
// [package.metadata.release] or [workspace.metadata.release]. It also reads
// what cargo reads (layout.go) and decides how the project is uploaded to
// the engine (upload.go).
package project

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"

	"github.com/BurntSushi/toml"

	"github.com/garage-release/garage-release/ci/target"
)

// Settings are the release settings of one project.
type Settings struct {
	// Name is the package name (or the binary, for a virtual workspace).
	Name string `json:"name"`
	// CargoVersion is the version in Cargo.toml, shown when no tag is known.
	CargoVersion string `json:"cargoVersion,omitempty"`
	// Binary is the program to release.
	Binary string `json:"binary"`
	// Package selects the workspace member that builds Binary (cargo -p).
	Package string `json:"package,omitempty"`
	// Targets are short names from the target table; empty means all.
	Targets []string `json:"targets,omitempty"`
	// Features are passed to every cargo command.
	Features []string `json:"features,omitempty"`
	// SmokeTest is a script, relative to the project, run against each
	// release binary as `<script> <binary> [runner words...]`.
	SmokeTest string `json:"smokeTest,omitempty"`
	// TestPackages are Debian packages the tests and smoke script need.
	TestPackages []string `json:"testPackages,omitempty"`
	// BuildPackages are Debian packages the build scripts need: tools, and
	// -dev libraries, which are installed for every target's architecture
	// too (see pipeline.BuildPackagesScript).
	BuildPackages []string `json:"buildPackages,omitempty"`
	// TestArgs are added to `cargo test --workspace` (e.g. --all-features,
	// --all-targets): the test stage builds and runs what the project's own
	// CI does, and no more unless asked.
	TestArgs []string `json:"testArgs,omitempty"`
	// Benches are the project's bench targets; those that need a nightly
	// compiler are left out of clippy (see Checks).
	Benches []Bench `json:"benches,omitempty"`
	// Image is the image name; the registry and namespace come from flags.
	Image string `json:"image,omitempty"`
	// ImageCmd is the image's entrypoint; default: the binary alone.
	ImageCmd []string `json:"imageCmd,omitempty"`
	// Docs is the mdBook folder (with book.toml), relative to the project.
	Docs string `json:"docs,omitempty"`
	// Members are the workspace member folders cargo needs.
	Members []string `json:"members,omitempty"`
	// Workspace is true when Cargo.toml has a [workspace] table: checks
	// and tests then cover every member (cargo --workspace).
	Workspace bool `json:"workspace,omitempty"`
	// Virtual is true for a workspace with no root package.
	Virtual bool `json:"virtual,omitempty"`
	// Locked is true when the project has a Cargo.lock: cargo then runs
	// with --locked, so a release never resolves dependencies anew.
	Locked bool `json:"locked"`
	// Checks is how strict fmt and clippy are (see checks.go).
	Checks Checks `json:"checks"`
}

// release is the [*.metadata.release] table as written in Cargo.toml.
type release struct {
	Binary        string   `toml:"binary"`
	Package       string   `toml:"package"`
	Targets       []string `toml:"targets"`
	Features      []string `toml:"features"`
	SmokeTest     string   `toml:"smoke-test"`
	TestPackages  []string `toml:"test-packages"`
	BuildPackages []string `toml:"build-packages"`
	TestArgs      []string `toml:"test-args"`
	Image         string   `toml:"image"`
	ImageCmd      []string `toml:"image-cmd"`
	Docs          string   `toml:"docs"`
	checkKeys
}

type cargoToml struct {
	Package *struct {
		Name     string `toml:"name"`
		Version  any    `toml:"version"` // a string, or {workspace = true}
		Metadata struct {
			Release *release `toml:"release"`
		} `toml:"metadata"`
	} `toml:"package"`
	Bin []struct {
		Name string `toml:"name"`
	} `toml:"bin"`
	Workspace *struct {
		Members  []string `toml:"members"`
		Metadata struct {
			Release *release `toml:"release"`
		} `toml:"metadata"`
	} `toml:"workspace"`
}

// ErrNoCargoToml is returned by Load for a folder that is not a Rust project.
var ErrNoCargoToml = errors.New("no Cargo.toml")

// Load reads dir/Cargo.toml and expands workspace member globs against dir.
func Load(dir string) (Settings, error) {
	info, err := os.Stat(dir)
	if err != nil {
		return Settings{}, fmt.Errorf("source %s: %w", dir, err)
	}
	if !info.IsDir() {
		return Settings{}, fmt.Errorf("source %s is not a directory", dir)
	}
	data, err := os.ReadFile(filepath.Join(dir, "Cargo.toml"))
	if errors.Is(err, fs.ErrNotExist) {
		return Settings{}, fmt.Errorf("%w in %s: point --source at a Rust project (a folder with Cargo.toml)", ErrNoCargoToml, dir)
	}
	if err != nil {
		return Settings{}, err
	}
	s, err := Parse(data, os.DirFS(dir))
	if err != nil {
		return Settings{}, err
	}
	// A file a manifest names but the project lacks is reported now, as
	// bad input, rather than by cargo in the engine minutes later.
	l, err := Scan(os.DirFS(dir))
	if err != nil {
		return Settings{}, err
	}
	s.Benches = l.Benches
	return s, nil
}

// Parse reads Cargo.toml data. fsys is the project folder, used to expand
// workspace member globs; it may be nil.
func Parse(data []byte, fsys fs.FS) (Settings, error) {
	var c cargoToml
	md, err := toml.Decode(string(data), &c)
	if err != nil {
		return Settings{}, fmt.Errorf("Cargo.toml: %w", err)
	}
	for _, k := range md.Undecoded() {
		key := k.String()
		if strings.HasPrefix(key, "package.metadata.release.") || strings.HasPrefix(key, "workspace.metadata.release.") {
			return Settings{}, fmt.Errorf("Cargo.toml: unknown key %q in [%s] (known: binary, package, targets, features, smoke-test, test-packages, build-packages, test-args, image, image-cmd, docs, checks, clippy-args, lints)",
				k[len(k)-1], strings.Join(k[:len(k)-1], "."))
		}
	}
	var s Settings
	var r *release
	if c.Package != nil {
		s.Name = c.Package.Name
		if v, ok := c.Package.Version.(string); ok {
			s.CargoVersion = v
		}
		r = c.Package.Metadata.Release
	}
	if c.Workspace != nil {
		if r == nil {
			r = c.Workspace.Metadata.Release
		}
		members, err := expandMembers(c.Workspace.Members, fsys)
		if err != nil {
			return Settings{}, err
		}
		s.Members = members
		s.Workspace = true
	}
	if c.Package == nil && c.Workspace == nil {
		return Settings{}, fmt.Errorf("Cargo.toml has neither [package] nor [workspace]")
	}
	s.Virtual = c.Package == nil
	if r != nil {
		s.Binary, s.Package = r.Binary, r.Package
		s.Targets, s.Features = r.Targets, r.Features
		s.SmokeTest, s.TestPackages = r.SmokeTest, r.TestPackages
		s.BuildPackages, s.TestArgs = r.BuildPackages, r.TestArgs
		s.Image, s.ImageCmd, s.Docs = r.Image, r.ImageCmd, r.Docs
		if s.Checks, err = r.checkKeys.settings(); err != nil {
			return Settings{}, err
		}
	} else {
		s.Checks = DefaultChecks()
	}
	if s.Binary == "" {
		switch {
		case len(c.Bin) > 0:
			s.Binary = c.Bin[0].Name
		case c.Package != nil:
			s.Binary = c.Package.Name
		default:
			return Settings{}, fmt.Errorf("Cargo.toml is a virtual workspace: set binary (and package) under [workspace.metadata.release], or pass --binary")
		}
	}
	if s.Name == "" {
		s.Name = s.Binary
	}
	if fsys != nil {
		if _, err := fs.Stat(fsys, "Cargo.lock"); err == nil {
			s.Locked = true
		}
	}
	return s, s.Validate()
}

// Validate checks settings after flags have overridden them.
func (s *Settings) Validate() error {
	if !safeName(s.Binary) {
		return fmt.Errorf("binary %q: use letters, digits, '-', '_' or '.'", s.Binary)
	}
	if _, err := target.Parse(s.Targets); err != nil {
		return fmt.Errorf("targets: %w", err)
	}
	for _, p := range []struct{ key, val string }{{"smoke-test", s.SmokeTest}, {"docs", s.Docs}} {
		// "." would be the whole project: the upload would then carry
		// target/ and .git/ along.
		if p.val != "" && (!localPath(p.val) || path.Clean(p.val) == ".") {
			return fmt.Errorf("%s %q: must be a path inside the project", p.key, p.val)
		}
	}
	for _, list := range []struct {
		key  string
		pkgs []string
	}{{"test-packages", s.TestPackages}, {"build-packages", s.BuildPackages}} {
		for _, p := range list.pkgs {
			if !debianPackage(p) {
				return fmt.Errorf("%s: %q is not a Debian package name (give the name alone: the architectures are chosen for you)", list.key, p)
			}
		}
	}
	for _, a := range s.TestArgs {
		if a == "--workspace" || a == "--target" || strings.HasPrefix(a, "--target=") {
			return fmt.Errorf("test-args: %q is set by garage-release itself (the tests run on the host, for the whole workspace)", a)
		}
	}
	if s.Image != "" && strings.ContainsAny(s.Image, ": @") {
		return fmt.Errorf("image %q: give the name only; the registry comes from --registry and the tag from the version", s.Image)
	}
	return nil
}

// HasReleaseSettings reports whether Cargo.toml data has a
// [package.metadata.release] or [workspace.metadata.release] table.
func HasReleaseSettings(data []byte) (bool, error) {
	var c cargoToml
	if _, err := toml.Decode(string(data), &c); err != nil {
		return false, fmt.Errorf("Cargo.toml: %w", err)
	}
	return c.Package != nil && c.Package.Metadata.Release != nil || c.Workspace != nil && c.Workspace.Metadata.Release != nil, nil
}

// SettingsTable is the Cargo.toml table the settings are read from
// ("package.metadata.release"), for messages that name a setting.
func (s *Settings) SettingsTable() string {
	if s.Virtual {
		return "workspace.metadata.release"
	}
	return "package.metadata.release"
}

// ImageEntrypoint is the image's command: image-cmd, else the binary.
func (s *Settings) ImageEntrypoint() []string {
	if len(s.ImageCmd) > 0 {
		return s.ImageCmd
	}
	return []string{"/" + s.Binary}
}

// ImageName is the image name: image, else the binary.
func (s *Settings) ImageName() string {
	if s.Image != "" {
		return s.Image
	}
	return s.Binary
}

func expandMembers(patterns []string, fsys fs.FS) ([]string, error) {
	var out []string
	for _, p := range patterns {
		p = path.Clean(strings.TrimPrefix(p, "./"))
		if !localPath(p) {
			return nil, fmt.Errorf("Cargo.toml: workspace member %q is outside the project", p)
		}
		if !strings.ContainsAny(p, "*?[") || fsys == nil {
			if p != "." {
				out = append(out, p)
			}
			continue
		}
		matches, err := fs.Glob(fsys, p)
		if err != nil {
			return nil, fmt.Errorf("Cargo.toml: workspace member %q: %w", p, err)
		}
		// Like cargo, a glob names folders only (not crates/README.md or
		// a stray .DS_Store).
		for _, m := range matches {
			if info, err := fs.Stat(fsys, m); err == nil && info.IsDir() {
				out = append(out, m)
			}
		}
	}
	return out, nil
}

func localPath(p string) bool {
	c := path.Clean(p)
	return p != "" && !path.IsAbs(p) && c != ".." && !strings.HasPrefix(c, "../") && !strings.Contains(p, "\\")
}

func safeName(s string) bool {
	if s == "" || s[0] == '.' || s[0] == '-' {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_.", r)) {
			return false
		}
	}
	return true
}

func debianPackage(s string) bool {
	if len(s) < 2 || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || strings.ContainsRune("+-.", r)) {
			return false
		}
	}
	return true
}
