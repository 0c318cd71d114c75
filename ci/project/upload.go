package project

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// UploadSet is how a project folder goes to the engine: the whole folder,
// minus Exclude, minus what .gitignore leaves out, plus Needed.
//
// Why the whole folder rather than a list of what cargo needs: no list can
// follow everything cargo reads (a [[bin]] path anywhere, a file read by
// include_str!, a build script's inputs), and a file missing in the engine
// fails the release. What the upload must leave out is what changes without
// the sources changing: build output (target/), .git/, garage-release's own
// output, and what .gitignore leaves out (editor and tool files).
type UploadSet struct {
	// Exclude are patterns relative to the project (Dagger's, as in a
	// .dockerignore), for HostDirectoryOpts.Exclude and
	// DirectoryFilterOpts.Exclude.
	Exclude []string
	// Needed are paths cargo needs that .gitignore leaves out, to upload
	// explicitly (without the .gitignore filter): vendored sources, path
	// dependencies, target paths, build scripts, files named by
	// include_str!. Folders end in "/". Sorted; usually empty.
	Needed []string
}

// Patterns returns Needed as patterns for HostDirectoryOpts.Include, glob
// characters escaped.
func (u UploadSet) Patterns() []string {
	out := make([]string, len(u.Needed))
	for i, p := range u.Needed {
		out[i] = EscapePattern(p)
	}
	return out
}

// BaseExclude is what is never uploaded, whatever the project: cargo's
// output and git's folders (a submodule has its own .git).
var BaseExclude = []string{"target", ".git", "**/.git"}

// tempOutputs matches the hidden folders garage-release exports into
// before swapping them in (see ci/outdir): a run interrupted there may have
// left one.
const tempOutputs = "**/.*.garage-release-*"

// outputMarker is the file every garage-release output folder holds
// (ci/outdir.Marker).
const outputMarker = ".garage-release"

// Upload decides how to upload the project in dir: what to exclude (target/,
// .git/, cargo's target-dir, out when it lies in the project, earlier
// garage-release outputs, their temporary folders) and what cargo needs that
// .gitignore would leave out. out is the output folder ("" for none).
func Upload(dir string, s Settings, out string) (UploadSet, error) {
	fsys := os.DirFS(dir)
	l, err := Scan(fsys)
	if err != nil {
		return UploadSet{}, err
	}
	excl := Excludes(l)
	outs, err := outputFolders(dir, out)
	if err != nil {
		return UploadSet{}, err
	}
	excl = append(excl, outs...)
	ig, err := newIgnorer(dir)
	if err != nil {
		return UploadSet{}, err
	}
	u := &uploader{fsys: fsys, ig: ig, l: l, needed: map[string]bool{}, skip: map[string]bool{}}
	for _, p := range excl {
		u.skip[p] = true
	}
	for _, p := range l.Vendored {
		u.skip[p] = true
	}
	if err := u.collect(s); err != nil {
		return UploadSet{}, err
	}
	needed := sortedKeys(u.needed)
	return UploadSet{Exclude: excl, Needed: collapse(needed)}, nil
}

// Excludes are the patterns never uploaded for a project laid out as l.
func Excludes(l Layout) []string {
	excl := append([]string{}, BaseExclude...)
	excl = append(excl, tempOutputs)
	// A package folder's own target/ (cargo run there once, before it
	// joined the workspace).
	for _, p := range l.Packages {
		if p != "." {
			excl = append(excl, EscapePattern(p)+"/target")
		}
	}
	if l.TargetDir != "" && l.TargetDir != "target" {
		excl = append(excl, EscapePattern(l.TargetDir))
	}
	return excl
}

// outputFolders are the patterns of out (when in dir) and of every folder
// at the top of dir that garage-release wrote (a dist/ from an earlier
// release, when check runs): binaries and images are no source.
func outputFolders(dir, out string) ([]string, error) {
	var pats []string
	if out != "" {
		rel, ok, err := inside(dir, out)
		if err != nil {
			return nil, err
		}
		if ok && rel != "." {
			pats = append(pats, EscapePattern(rel))
		}
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		data, err := os.ReadFile(filepath.Join(dir, e.Name(), outputMarker))
		if err == nil && strings.HasPrefix(string(data), "Written by garage-release") {
			p := EscapePattern(e.Name())
			if len(pats) == 0 || pats[0] != p {
				pats = append(pats, p)
			}
		}
	}
	return pats, nil
}

// inside returns target relative to dir, slash-separated, and whether it
// lies in dir; symlinks are resolved, as the guard of --out does.
func inside(dir, target string) (string, bool, error) {
	d, err := resolve(dir)
	if err != nil {
		return "", false, err
	}
	t, err := resolve(target)
	if err != nil {
		return "", false, err
	}
	rel, err := filepath.Rel(d, t)
	if err != nil {
		return "", false, nil
	}
	rel = filepath.ToSlash(rel)
	if rel == ".." || strings.HasPrefix(rel, "../") {
		return "", false, nil
	}
	return rel, true, nil
}

// resolve makes p absolute with symlinks resolved, through its deepest
// existing ancestor when p does not exist yet.
func resolve(p string) (string, error) {
	abs, err := filepath.Abs(p)
	if err != nil {
		return "", err
	}
	cur, rest := abs, ""
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

type uploader struct {
	fsys   fs.FS
	ig     *ignorer
	l      Layout
	needed map[string]bool
	// skip are the folders never walked: excluded, or vendored (judged
	// whole).
	skip map[string]bool
}

// collect finds what cargo needs that .gitignore leaves out.
func (u *uploader) collect(s Settings) error {
	// Vendored sources are checked file by file against their checksums:
	// one file left out and the build fails, so the folder goes whole.
	for _, v := range u.l.Vendored {
		ignored, err := u.anyIgnored(v)
		if err != nil {
			return err
		}
		if ignored {
			u.needed[v+"/"] = true
		}
	}
	// A package folder left out as a whole (a path dependency under an
	// ignored folder) goes whole; its target/ stays excluded.
	whole := map[string]bool{}
	for _, p := range u.l.Packages {
		if p != "." && u.ig.ignored(p, true) {
			u.needed[p+"/"] = true
			whole[p] = true
		}
	}
	inWhole := func(p string) bool {
		for w := range whole {
			if strings.HasPrefix(p, w+"/") {
				return true
			}
		}
		return false
	}
	files := append([]string{}, u.l.Files...)
	if s.SmokeTest != "" {
		files = append(files, path.Clean(s.SmokeTest))
	}
	for _, f := range files {
		if !inWhole(f) && u.ig.ignored(f, false) {
			u.needed[f] = true
		}
	}
	if s.Docs != "" {
		if d := path.Clean(s.Docs); u.ig.ignored(d, true) {
			u.needed[d+"/"] = true
		}
	}
	// The Rust sources: a .rs file .gitignore leaves out (generated code)
	// and a file an include_str!, include_bytes! or include! names. A
	// source folder left out as a whole goes whole.
	for _, d := range u.l.SourceDirs {
		all := inWhole(d) || u.ig.ignored(d, true)
		if all {
			u.needed[d+"/"] = true
		}
		if err := u.walkSources(d, all); err != nil {
			return err
		}
	}
	return nil
}

// walkSources looks at the .rs files under dir and the files they include.
// Unless all (dir goes whole), the folders .gitignore leaves out are not
// entered: they are build output or tools' files far more often than code.
func (u *uploader) walkSources(dir string, all bool) error {
	return fs.WalkDir(u.fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) {
				return nil
			}
			return err
		}
		if d.IsDir() {
			if p != dir && (u.skip[p] || d.Name() == ".git" || !all && u.ig.ignored(p, true)) {
				return fs.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(p, ".rs") || !d.Type().IsRegular() {
			return nil
		}
		if u.ig.ignored(p, false) {
			u.needed[p] = true
		}
		data, err := fs.ReadFile(u.fsys, p)
		if err != nil {
			return err
		}
		for _, q := range IncludedFiles(p, data) {
			if isFile(u.fsys, q) && u.ig.ignored(q, false) {
				u.needed[q] = true
			}
		}
		return nil
	})
}

// anyIgnored reports whether .gitignore leaves out dir or anything in it.
func (u *uploader) anyIgnored(dir string) (bool, error) {
	if u.ig.ignored(dir, true) {
		return true, nil
	}
	found := false
	err := fs.WalkDir(u.fsys, dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if u.ig.ignored(p, d.IsDir()) {
			found = true
			return fs.SkipAll
		}
		return nil
	})
	if err != nil {
		return false, fmt.Errorf("%s: %w", dir, err)
	}
	return found, nil
}

// includeRE finds include_str!("..."), include_bytes!("...") and
// include!("...") with a literal path; paths built with concat! or env!
// (OUT_DIR) are generated in the engine and need no upload.
var includeRE = regexp.MustCompile(`\binclude(?:_str|_bytes)?!\s*\(\s*"([^"\\]+)"`)

func includes(src []byte) []string {
	// Most files name no include: skip the regexp, the costly part of a
	// large project's walk.
	if !bytes.Contains(src, []byte("include")) {
		return nil
	}
	var out []string
	for _, m := range includeRE.FindAllSubmatch(src, -1) {
		out = append(out, string(m[1]))
	}
	return out
}

// IncludedFiles are the files the Rust source file (a path in the
// project) names with a literal include_str!, include_bytes! or include!,
// as paths in the project; those outside it are left out.
func IncludedFiles(file string, src []byte) []string {
	var out []string
	for _, inc := range includes(src) {
		if q, ok := local(path.Dir(file), inc); ok {
			out = append(out, q)
		}
	}
	return out
}

// collapse drops paths inside a folder that is itself listed.
func collapse(paths []string) []string {
	sort.Strings(paths)
	var out []string
	for _, p := range paths {
		covered := false
		for _, q := range out {
			if strings.HasSuffix(q, "/") && strings.HasPrefix(p, q) {
				covered = true
				break
			}
		}
		if !covered {
			out = append(out, p)
		}
	}
	return out
}

// EscapePattern quotes the characters Dagger's patterns treat specially,
// so that a path is matched as written.
func EscapePattern(p string) string {
	var b strings.Builder
	for _, r := range p {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}
