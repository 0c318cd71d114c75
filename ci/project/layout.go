package project

import (
	"errors"
	"fmt"
	"io/fs"
	"path"
	"regexp"
	"sort"
	"strings"

	"github.com/BurntSushi/toml"
)

// Layout is what cargo reads of a project beyond the usual folders, as its
// manifests say. The whole project is uploaded (see Upload); Layout names
// what must be there even when .gitignore leaves it out, and lets a missing
// file be reported before anything is started.
type Layout struct {
	// Packages are the folders of the project's own packages, relative and
	// slash-separated: "." for a root package, the workspace members, and
	// every path dependency, followed transitively. Sorted.
	Packages []string
	// Files are the files cargo reads that the manifests name or imply:
	// every package's Cargo.toml, its target paths ([lib], [[bin]],
	// [[test]], [[bench]], [[example]], else src/lib.rs and src/main.rs),
	// its build script; at the root Cargo.lock and cargo's configuration.
	// Only files that exist are listed. Sorted.
	Files []string
	// SourceDirs are the folders holding the packages' Rust sources: each
	// package's src/, tests/, benches/, examples/ that exist, and the folder
	// of every target path outside them (crates/cli for a [[bin]] path
	// crates/cli/main.rs). Sorted.
	SourceDirs []string
	// Vendored are the folders of source replacement ([source.<name>]
	// directory = "vendor" in .cargo/config.toml). Cargo checks every file
	// of them against .cargo-checksum.json: they are needed whole. Sorted.
	Vendored []string
	// TargetDir is [build] target-dir of .cargo/config.toml when it lies in
	// the project: build output, never uploaded.
	TargetDir string
	// Benches are the bench targets of the project's packages, sorted by
	// path.
	Benches []Bench
}

// Bench is a bench target of one of the project's packages.
type Bench struct {
	// Name is the target's name (cargo --bench <Name>).
	Name string `json:"name"`
	// Path is its root file, relative to the project.
	Path string `json:"path"`
	// Nightly is true when the root file turns on unstable features
	// (#![feature(test)], as benches written for libtest's #[bench] do):
	// it compiles only with a nightly compiler, never with Debian's.
	Nightly bool `json:"nightly,omitempty"`
}

// unstableFeature is a crate-level #![feature(...)] attribute.
var unstableFeature = regexp.MustCompile(`(?m)^[ \t]*#!\[[ \t]*feature[ \t]*\(`)

// configFiles are the files at the project root that configure cargo and
// its checks, read when present.
var configFiles = []string{
	"Cargo.lock", ".cargo/config.toml", ".cargo/config",
	"rust-toolchain.toml", "rust-toolchain", "rustfmt.toml", ".rustfmt.toml", "clippy.toml", ".clippy.toml",
}

// manifest is the part of a Cargo.toml that says which files cargo reads.
type manifest struct {
	Package *struct {
		Name        string `toml:"name"`
		Build       any    `toml:"build"` // a path, or false
		Autobenches *bool  `toml:"autobenches"`
	} `toml:"package"`
	Lib     *cargoTarget  `toml:"lib"`
	Bin     []cargoTarget `toml:"bin"`
	Test    []cargoTarget `toml:"test"`
	Bench   []cargoTarget `toml:"bench"`
	Example []cargoTarget `toml:"example"`
	dependencyTables
	Target    map[string]dependencyTables `toml:"target"`
	Workspace *struct {
		Members      []string       `toml:"members"`
		Exclude      []string       `toml:"exclude"`
		Dependencies map[string]any `toml:"dependencies"`
	} `toml:"workspace"`
	Patch   map[string]map[string]any `toml:"patch"`
	Replace map[string]any            `toml:"replace"`
}

type cargoTarget struct {
	Name string `toml:"name"`
	Path string `toml:"path"`
}

type dependencyTables struct {
	Dependencies       map[string]any `toml:"dependencies"`
	DevDependencies    map[string]any `toml:"dev-dependencies"`
	DevDependencies2   map[string]any `toml:"dev_dependencies"`
	BuildDependencies  map[string]any `toml:"build-dependencies"`
	BuildDependencies2 map[string]any `toml:"build_dependencies"`
}

func (d dependencyTables) all() []struct {
	table string
	deps  map[string]any
} {
	return []struct {
		table string
		deps  map[string]any
	}{
		{"dependencies", d.Dependencies}, {"dev-dependencies", d.DevDependencies}, {"dev_dependencies", d.DevDependencies2},
		{"build-dependencies", d.BuildDependencies}, {"build_dependencies", d.BuildDependencies2},
	}
}

// cargoConfig is the part of .cargo/config.toml that names folders.
type cargoConfig struct {
	Source map[string]struct {
		Directory string `toml:"directory"`
	} `toml:"source"`
	Build struct {
		TargetDir string `toml:"target-dir"`
	} `toml:"build"`
}

// Scan reads the manifests of the project in fsys (the root Cargo.toml,
// its members', its path dependencies') and cargo's configuration, and
// returns what cargo reads. A file or folder a manifest names that is
// missing, or that lies outside the project, is an error naming it: cargo
// would stop on it in the engine, minutes later.
func Scan(fsys fs.FS) (Layout, error) {
	s := &scanner{fsys: fsys, packages: map[string]bool{}, files: map[string]bool{}, dirs: map[string]bool{}}
	if err := s.config(); err != nil {
		return Layout{}, err
	}
	if err := s.pkg(".", "", true); err != nil {
		return Layout{}, err
	}
	for _, f := range configFiles {
		if isFile(fsys, f) {
			s.files[f] = true
		}
	}
	l := Layout{
		Packages: sortedKeys(s.packages), Files: sortedKeys(s.files), SourceDirs: sortedKeys(s.dirs),
		Vendored: s.vendored, TargetDir: s.targetDir, Benches: s.benches,
	}
	sort.Strings(l.Vendored)
	sort.Slice(l.Benches, func(i, j int) bool { return l.Benches[i].Path < l.Benches[j].Path })
	return l, nil
}

type scanner struct {
	fsys      fs.FS
	packages  map[string]bool // package folders seen
	files     map[string]bool
	dirs      map[string]bool
	vendored  []string
	targetDir string
	benches   []Bench
}

// config reads .cargo/config.toml (or its older name .cargo/config).
func (s *scanner) config() error {
	for _, name := range []string{".cargo/config.toml", ".cargo/config"} {
		data, err := fs.ReadFile(s.fsys, name)
		if errors.Is(err, fs.ErrNotExist) {
			continue
		}
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		var c cargoConfig
		if _, err := toml.Decode(string(data), &c); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		for _, src := range sortedKeys(c.Source) {
			dir := c.Source[src].Directory
			if dir == "" {
				continue
			}
			// Relative paths in a config file are relative to the folder
			// holding .cargo/.
			p, ok := local(".", dir)
			if !ok {
				return fmt.Errorf("%s: [source.%s] directory %q is outside the project: garage-release uploads the project folder only", name, src, dir)
			}
			if !isDir(s.fsys, p) {
				return fmt.Errorf("%s: [source.%s] directory %q does not exist (run cargo vendor, or remove the source replacement)", name, src, dir)
			}
			s.vendored = append(s.vendored, p)
		}
		if t := c.Build.TargetDir; t != "" {
			if p, ok := local(".", t); ok && p != "." {
				s.targetDir = p
			}
		}
		return nil // cargo reads config.toml in preference to config
	}
	return nil
}

// pkg reads the manifest in dir; from says who names dir, for errors.
// explicit is false for a folder matched by a member glob, where a missing
// Cargo.toml is not ours to report.
func (s *scanner) pkg(dir, from string, explicit bool) error {
	if s.packages[dir] || s.files[path.Join(dir, "Cargo.toml")] {
		return nil
	}
	name := path.Join(dir, "Cargo.toml")
	data, err := fs.ReadFile(s.fsys, name)
	if errors.Is(err, fs.ErrNotExist) {
		if !explicit {
			return nil
		}
		if from == "" {
			return fmt.Errorf("%w in %s", ErrNoCargoToml, dir)
		}
		return fmt.Errorf("%s%s has no Cargo.toml", from, dir)
	}
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	var m manifest
	if _, err := toml.Decode(string(data), &m); err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	if m.Package == nil && m.Workspace == nil {
		return fmt.Errorf("%s has neither [package] nor [workspace]", name)
	}
	s.files[name] = true
	if m.Package != nil {
		s.packages[dir] = true
		if err := s.targets(dir, name, &m); err != nil {
			return err
		}
	}
	if dir == "." && m.Workspace != nil {
		// Members name these with `x = { workspace = true }`: the path is
		// relative to the workspace root.
		for _, dep := range sortedKeys(m.Workspace.Dependencies) {
			p, ok := depPath(m.Workspace.Dependencies[dep])
			if !ok {
				continue
			}
			target, err := s.depDir(dir, name, "workspace.dependencies", dep, p)
			if err != nil {
				return err
			}
			if err := s.pkg(target, fmt.Sprintf("%s: [workspace.dependencies] %s: ", name, dep), true); err != nil {
				return err
			}
		}
		if err := s.members(name, m.Workspace.Members, m.Workspace.Exclude); err != nil {
			return err
		}
	}
	return s.deps(dir, name, &m)
}

// members reads every workspace member.
func (s *scanner) members(from string, patterns, exclude []string) error {
	excluded := map[string]bool{}
	for _, e := range exclude {
		excluded[path.Clean(strings.TrimPrefix(e, "./"))] = true
	}
	for _, p := range patterns {
		p = path.Clean(strings.TrimPrefix(p, "./"))
		if !localPath(p) {
			return fmt.Errorf("%s: workspace member %q is outside the project", from, p)
		}
		if !strings.ContainsAny(p, "*?[") {
			if p != "." && !excluded[p] {
				if err := s.pkg(p, from+": workspace member ", true); err != nil {
					return err
				}
			}
			continue
		}
		matches, err := fs.Glob(s.fsys, p)
		if err != nil {
			return fmt.Errorf("%s: workspace member %q: %w", from, p, err)
		}
		for _, m := range matches {
			if isDir(s.fsys, m) && !excluded[m] {
				if err := s.pkg(m, from, false); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// targets records the package's target paths and build script, and the
// folders of its sources.
func (s *scanner) targets(dir, name string, m *manifest) error {
	for _, d := range []string{"src", "tests", "benches", "examples"} {
		if p := path.Join(dir, d); isDir(s.fsys, p) {
			s.dirs[p] = true
		}
	}
	type named struct {
		kind string
		t    cargoTarget
	}
	var explicit []named
	if m.Lib != nil {
		explicit = append(explicit, named{"[lib]", *m.Lib})
	}
	for _, list := range []struct {
		kind string
		ts   []cargoTarget
	}{{"[[bin]]", m.Bin}, {"[[test]]", m.Test}, {"[[bench]]", m.Bench}, {"[[example]]", m.Example}} {
		for _, t := range list.ts {
			explicit = append(explicit, named{list.kind, t})
		}
	}
	for _, e := range explicit {
		if e.t.Path == "" {
			continue // cargo's default place, under src/ and friends
		}
		label := e.kind
		if e.t.Name != "" {
			label += fmt.Sprintf(" %q", e.t.Name)
		}
		p, ok := local(dir, e.t.Path)
		if !ok {
			return fmt.Errorf("%s: %s path %q is outside the project", name, label, e.t.Path)
		}
		if !isFile(s.fsys, p) {
			return fmt.Errorf("%s: %s path %q: %s does not exist", name, label, e.t.Path, p)
		}
		s.files[p] = true
		if d := path.Dir(p); d != dir {
			s.dirs[d] = true
		}
	}
	for _, f := range []string{"src/lib.rs", "src/main.rs"} {
		if p := path.Join(dir, f); isFile(s.fsys, p) {
			s.files[p] = true
		}
	}
	s.findBenches(dir, m)
	// build = "path", build = false (none), or absent: build.rs if present.
	if b, ok := m.Package.Build.(string); ok {
		p, ok := local(dir, b)
		if !ok {
			return fmt.Errorf("%s: build script %q is outside the project", name, b)
		}
		if !isFile(s.fsys, p) {
			return fmt.Errorf("%s: build script %q: %s does not exist", name, b, p)
		}
		s.files[p] = true
	} else if b, ok := m.Package.Build.(bool); !ok || b {
		if p := path.Join(dir, "build.rs"); isFile(s.fsys, p) {
			s.files[p] = true
		}
	}
	return nil
}

// findBenches records the package's bench targets, as cargo finds them:
// each [[bench]] (its path, else benches/<name>.rs or
// benches/<name>/main.rs), and unless autobenches = false every
// benches/*.rs and benches/*/main.rs.
func (s *scanner) findBenches(dir string, m *manifest) {
	byPath := map[string]string{}
	for _, b := range m.Bench {
		p := b.Path
		if p == "" {
			p = path.Join("benches", b.Name+".rs")
			if !isFile(s.fsys, path.Join(dir, p)) {
				p = path.Join("benches", b.Name, "main.rs")
			}
		}
		if full, ok := local(dir, p); ok && b.Name != "" {
			byPath[full] = b.Name
		}
	}
	if m.Package.Autobenches == nil || *m.Package.Autobenches {
		entries, _ := fs.ReadDir(s.fsys, path.Join(dir, "benches"))
		for _, e := range entries {
			name, p := strings.TrimSuffix(e.Name(), ".rs"), path.Join(dir, "benches", e.Name())
			if e.IsDir() {
				name, p = e.Name(), path.Join(p, "main.rs")
			} else if !strings.HasSuffix(e.Name(), ".rs") {
				continue
			}
			if _, named := byPath[p]; !named && isFile(s.fsys, p) {
				byPath[p] = name
			}
		}
	}
	for p, name := range byPath {
		b := Bench{Name: name, Path: p}
		if data, err := fs.ReadFile(s.fsys, p); err == nil {
			b.Nightly = unstableFeature.Match(data)
		}
		s.benches = append(s.benches, b)
	}
}

// deps follows the package's path dependencies, [patch] and [replace].
func (s *scanner) deps(dir, name string, m *manifest) error {
	type table struct {
		name string
		deps map[string]any
	}
	var tables []table
	for _, t := range m.dependencyTables.all() {
		tables = append(tables, table{t.table, t.deps})
	}
	for _, cfg := range sortedKeys(m.Target) {
		for _, t := range m.Target[cfg].all() {
			tables = append(tables, table{"target." + cfg + "." + t.table, t.deps})
		}
	}
	for _, reg := range sortedKeys(m.Patch) {
		tables = append(tables, table{"patch." + reg, m.Patch[reg]})
	}
	tables = append(tables, table{"replace", m.Replace})
	for _, t := range tables {
		for _, dep := range sortedKeys(t.deps) {
			p, ok := depPath(t.deps[dep])
			if !ok {
				continue
			}
			target, err := s.depDir(dir, name, t.name, dep, p)
			if err != nil {
				return err
			}
			if err := s.pkg(target, fmt.Sprintf("%s: [%s] %s: ", name, t.name, dep), true); err != nil {
				return err
			}
		}
	}
	return nil
}

// depDir checks a path dependency and returns its folder in the project.
func (s *scanner) depDir(dir, name, table, dep, p string) (string, error) {
	target, ok := local(dir, p)
	if !ok {
		return "", fmt.Errorf("%s: [%s] %s: path %q is outside the project: garage-release uploads the project folder only", name, table, dep, p)
	}
	if !isDir(s.fsys, target) {
		return "", fmt.Errorf("%s: [%s] %s: path %q: %s does not exist", name, table, dep, p, target)
	}
	return target, nil
}

// depPath returns the path of a dependency written as a table with a path.
func depPath(v any) (string, bool) {
	t, ok := v.(map[string]any)
	if !ok {
		return "", false
	}
	p, ok := t["path"].(string)
	return p, ok && p != ""
}

// local joins p to dir and says whether the result stays in the project.
func local(dir, p string) (string, bool) {
	if strings.Contains(p, `\`) || path.IsAbs(p) {
		return "", false
	}
	j := path.Join(dir, p)
	if j == ".." || strings.HasPrefix(j, "../") {
		return "", false
	}
	return j, true
}

func isFile(fsys fs.FS, name string) bool {
	info, err := fs.Stat(fsys, name)
	return err == nil && !info.IsDir()
}

func isDir(fsys fs.FS, name string) bool {
	info, err := fs.Stat(fsys, name)
	return err == nil && info.IsDir()
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}
