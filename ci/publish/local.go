package publish

import (
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/version"
)

// docsDir is the docs site inside dist/.
const docsDir = "docs"

// release is what one publish writes, in upload order: Files (binaries, their
// .sha256 files, SHA256SUMS, docs) first, Manifest last.
type release struct {
	Files    []object
	Manifest object
}

// checkManifest makes sure m can name keys and be listed: a valid manifest,
// a version usable as a folder name and a class that matches the version
// (the class decides whether an existing release may be overwritten).
func checkManifest(m *manifest.Manifest) error {
	if m == nil {
		return fmt.Errorf("no manifest given")
	}
	if err := m.Validate(); err != nil {
		return err
	}
	if err := version.ValidateTag(m.Version); err != nil {
		return fmt.Errorf("manifest version: %w", err)
	}
	if want := string(version.Classify(m.Version)); m.Class != want {
		return fmt.Errorf("manifest %s says class %q but the version is %s", m.Version, m.Class, want)
	}
	return nil
}

// readDist verifies every binary of m in distDir against dist's SHA256SUMS
// and the manifest, and returns the objects to upload. Nothing is uploaded
// when it fails: a mismatch means dist/ is not the build m describes.
func readDist(cfg Config, distDir string, m *manifest.Manifest) (release, error) {
	if err := checkManifest(m); err != nil {
		return release{}, err
	}
	sumsPath := filepath.Join(distDir, manifest.SumsName)
	sumsData, err := os.ReadFile(sumsPath)
	if err != nil {
		return release{}, fmt.Errorf("reading dist: %w", err)
	}
	sums, err := manifest.ParseSums(sumsData)
	if err != nil {
		return release{}, fmt.Errorf("%s: %w", sumsPath, err)
	}
	prefix := cfg.key(index.ReleasePrefix(m.Version))
	var rel release
	for _, a := range m.Targets {
		file := filepath.Join(distDir, filepath.FromSlash(a.Path))
		sum, size, err := HashFile(file)
		if err != nil {
			return release{}, fmt.Errorf("target %s: %w", a.Target, err)
		}
		switch {
		case sums[a.Path] == "":
			return release{}, fmt.Errorf("target %s: %s has no line for %s", a.Target, sumsPath, a.Path)
		case sums[a.Path] != sum:
			return release{}, fmt.Errorf("target %s: %s has sha256 %s but %s says %s: dist/ was changed after the build", a.Target, file, sum, manifest.SumsName, sums[a.Path])
		case a.SHA256 != sum:
			return release{}, fmt.Errorf("target %s: %s has sha256 %s but the manifest says %s: dist/ was changed after the build", a.Target, file, sum, a.SHA256)
		case a.Size != size:
			return release{}, fmt.Errorf("target %s: %s is %d bytes but the manifest says %d", a.Target, file, size, a.Size)
		}
		key := prefix + a.Path
		rel.Files = append(rel.Files,
			object{Key: key, File: file, SHA256: sum, Size: size, ContentType: contentType(key)},
			dataObject(key+index.ChecksumSuffix, fmt.Appendf(nil, "%s  %s\n", sum, path.Base(a.Path)), ""),
		)
	}
	rel.Files = append(rel.Files, dataObject(prefix+manifest.SumsName, sumsData, ""))
	for _, l := range m.Logs {
		file := filepath.Join(distDir, filepath.FromSlash(l))
		sum, size, err := HashFile(file)
		if err != nil {
			return release{}, fmt.Errorf("the manifest lists the log %s: %w", l, err)
		}
		rel.Files = append(rel.Files, object{Key: prefix + l, File: file, SHA256: sum, Size: size, ContentType: contentType(l)})
	}

	chain, err := supplyChainFiles(distDir, prefix, m)
	if err != nil {
		return release{}, err
	}
	rel.Files = append(rel.Files, chain...)

	docs, err := readDocs(filepath.Join(distDir, docsDir), cfg.key(index.DocsPrefix(m.Version)))
	if err != nil {
		return release{}, err
	}
	if m.Docs != "" && len(docs) == 0 {
		return release{}, fmt.Errorf("the manifest lists docs (%q) but %s is empty or missing", m.Docs, filepath.Join(distDir, docsDir))
	}
	rel.Files = append(rel.Files, docs...)

	mdata, err := m.Marshal()
	if err != nil {
		return release{}, fmt.Errorf("manifest %s: %w", m.Version, err)
	}
	rel.Manifest = dataObject(prefix+manifest.FileName, mdata, "no-cache")
	return rel, nil
}

// readDocs lists the docs site under dir as objects under keyPrefix. A
// missing dir is no docs.
func readDocs(dir, keyPrefix string) ([]object, error) {
	var out []object
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && p == dir {
				return fs.SkipAll
			}
			return err
		}
		if d.IsDir() {
			return nil
		}
		if !d.Type().IsRegular() {
			return fmt.Errorf("%s is not a regular file (symlinks are not published)", p)
		}
		rel, err := filepath.Rel(dir, p)
		if err != nil {
			return err
		}
		sum, size, err := HashFile(p)
		if err != nil {
			return err
		}
		key := keyPrefix + filepath.ToSlash(rel)
		out = append(out, object{Key: key, File: p, SHA256: sum, Size: size, ContentType: contentType(key)})
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("reading docs: %w", err)
	}
	return out, nil
}

// dataObject is an in-memory object with its checksum computed.
func dataObject(key string, data []byte, cacheControl string) object {
	sum := sha256.Sum256(data)
	return object{
		Key: key, Data: data, Size: int64(len(data)),
		SHA256: hex.EncodeToString(sum[:]), ContentType: contentType(key), CacheControl: cacheControl,
	}
}

// HashFile returns a file's hex sha256 and size.
func HashFile(p string) (string, int64, error) {
	f, err := os.Open(p)
	if err != nil {
		return "", 0, err
	}
	defer f.Close()
	h := sha256.New()
	n, err := io.Copy(h, f)
	if err != nil {
		return "", 0, fmt.Errorf("reading %s: %w", p, err)
	}
	return hex.EncodeToString(h.Sum(nil)), n, nil
}
