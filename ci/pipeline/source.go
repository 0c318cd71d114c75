package pipeline

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"
	"time"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/project"
)

// DirectoryFromFS turns an fs.FS (such as the embedded example project)
// into a Directory without touching the host. Files are written 0644:
// stages that run a script set its mode themselves.
func DirectoryFromFS(c *dagger.Client, fsys fs.FS) (*dagger.Directory, error) {
	dir := c.Directory()
	err := fs.WalkDir(fsys, ".", func(name string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return err
		}
		dir = dir.WithNewFile(name, string(data))
		return nil
	})
	return dir, err
}

// FilterSource applies the upload rule of project.Upload to a project that
// is already in the engine (the Dagger module receives its source as a
// Directory): it drops what project.Excludes names and what .gitignore
// leaves out, then puts back from src what cargo needs whatever .gitignore
// says: vendored sources whole, every manifest, target path and build
// script, the Rust sources of every package, the files they name with
// include_str! and friends, and the smoke script and docs folder of s. Putting back a file that was not dropped changes nothing,
// so nothing needs to know which files .gitignore matched. It reads the
// manifests (a few queries), hence the context. It also returns what it
// read of the project (its bench targets go into the settings).
func FilterSource(ctx context.Context, src *dagger.Directory, s project.Settings) (*dagger.Directory, project.Layout, error) {
	l, err := project.Scan(DirectoryFS(ctx, src))
	if err != nil {
		return nil, l, err
	}
	excl := project.Excludes(l)
	var include []string
	for _, f := range l.Files {
		include = append(include, project.EscapePattern(f))
	}
	for _, v := range l.Vendored {
		include = append(include, project.EscapePattern(v)+"/")
	}
	for _, d := range l.SourceDirs {
		include = append(include, project.EscapePattern(d)+"/**/*.rs")
	}
	if s.SmokeTest != "" {
		include = append(include, project.EscapePattern(path.Clean(s.SmokeTest)))
	}
	if s.Docs != "" {
		include = append(include, project.EscapePattern(path.Clean(s.Docs))+"/")
	}
	// Files an include_str! names (assets/banner.txt) may lie anywhere: one
	// search in the engine finds the macros, without reading every file.
	if len(l.SourceDirs) > 0 {
		found, err := src.Search(ctx, `\binclude(_str|_bytes)?!\s*\(\s*"`, dagger.DirectorySearchOpts{Paths: l.SourceDirs, Globs: []string{"*.rs"}})
		if err != nil {
			return nil, l, fmt.Errorf("looking for include_str!: %w", err)
		}
		for _, r := range found {
			file, err := r.FilePath(ctx)
			if err != nil {
				return nil, l, err
			}
			lines, err := r.MatchedLines(ctx)
			if err != nil {
				return nil, l, err
			}
			file = strings.TrimPrefix(path.Clean(file), "/")
			for _, f := range project.IncludedFiles(file, []byte(lines)) {
				include = append(include, project.EscapePattern(f))
			}
		}
	}
	kept := src.Filter(dagger.DirectoryFilterOpts{Exclude: excl, Gitignore: true})
	return kept.WithDirectory(".", src, dagger.DirectoryWithDirectoryOpts{Include: include, Exclude: excl}), l, nil
}

// DirectoryFS reads a Directory as an fs.FS, for project.Parse and
// project.Scan on a source that is already in the engine. Each call is a
// query: it suits reading a few manifests, not walking a tree.
func DirectoryFS(ctx context.Context, dir *dagger.Directory) fs.FS {
	return directoryFS{ctx: ctx, dir: dir}
}

type directoryFS struct {
	ctx context.Context
	dir *dagger.Directory
}

func (f directoryFS) exists(name string, t dagger.ExistsType) (bool, error) {
	return f.dir.Exists(f.ctx, name, dagger.DirectoryExistsOpts{ExpectedType: t})
}

func (f directoryFS) Stat(name string) (fs.FileInfo, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrInvalid}
	}
	if name == "." {
		return entryInfo{name: ".", dir: true}, nil
	}
	isDir, err := f.exists(name, dagger.ExistsTypeDirectoryType)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if isDir {
		return entryInfo{name: path.Base(name), dir: true}, nil
	}
	isFile, err := f.exists(name, dagger.ExistsTypeRegularType)
	if err != nil {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: err}
	}
	if !isFile {
		return nil, &fs.PathError{Op: "stat", Path: name, Err: fs.ErrNotExist}
	}
	return entryInfo{name: path.Base(name)}, nil
}

func (f directoryFS) ReadFile(name string) ([]byte, error) {
	info, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return nil, &fs.PathError{Op: "read", Path: name, Err: errors.New("is a directory")}
	}
	text, err := f.dir.File(name).Contents(f.ctx)
	if err != nil {
		return nil, &fs.PathError{Op: "read", Path: name, Err: err}
	}
	return []byte(text), nil
}

func (f directoryFS) ReadDir(name string) ([]fs.DirEntry, error) {
	if !fs.ValidPath(name) {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: fs.ErrInvalid}
	}
	names, err := f.dir.Directory(name).Entries(f.ctx)
	if err != nil {
		return nil, &fs.PathError{Op: "readdir", Path: name, Err: err}
	}
	out := make([]fs.DirEntry, 0, len(names))
	for _, n := range names {
		// The engine marks folders with a trailing slash.
		out = append(out, fs.FileInfoToDirEntry(entryInfo{name: strings.TrimSuffix(n, "/"), dir: strings.HasSuffix(n, "/")}))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name() < out[j].Name() })
	return out, nil
}

func (f directoryFS) Open(name string) (fs.File, error) {
	info, err := f.Stat(name)
	if err != nil {
		return nil, err
	}
	if info.IsDir() {
		return &openDir{fsys: f, name: name, info: info}, nil
	}
	data, err := f.ReadFile(name)
	if err != nil {
		return nil, err
	}
	return &openFile{Reader: bytes.NewReader(data), info: entryInfo{name: info.Name(), size: int64(len(data))}}, nil
}

type entryInfo struct {
	name string
	size int64
	dir  bool
}

func (e entryInfo) Name() string       { return e.name }
func (e entryInfo) Size() int64        { return e.size }
func (e entryInfo) ModTime() time.Time { return time.Time{} }
func (e entryInfo) IsDir() bool        { return e.dir }
func (e entryInfo) Sys() any           { return nil }
func (e entryInfo) Mode() fs.FileMode {
	if e.dir {
		return fs.ModeDir | 0o755
	}
	return 0o644
}

type openFile struct {
	*bytes.Reader
	info fs.FileInfo
}

func (f *openFile) Stat() (fs.FileInfo, error) { return f.info, nil }
func (f *openFile) Close() error               { return nil }

type openDir struct {
	fsys directoryFS
	name string
	info fs.FileInfo
	read bool
}

func (d *openDir) Stat() (fs.FileInfo, error) { return d.info, nil }
func (d *openDir) Close() error               { return nil }
func (d *openDir) Read([]byte) (int, error) {
	return 0, &fs.PathError{Op: "read", Path: d.name, Err: errors.New("is a directory")}
}

// ReadDir returns every entry at the first call (n is ignored beyond
// that), as fs.ReadDir and fs.Glob use it.
func (d *openDir) ReadDir(n int) ([]fs.DirEntry, error) {
	if d.read {
		if n > 0 {
			return nil, io.EOF
		}
		return nil, nil
	}
	d.read = true
	return d.fsys.ReadDir(d.name)
}
