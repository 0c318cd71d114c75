// Package manifest describes one release build: the manifest.json written
// next to the binaries and the SHA256SUMS file. The pipeline writes them, the
// publisher uploads them and the release page reads them back, so the format
// lives here, apart from all three.
package manifest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// FileName and SumsName are the names of the two files in dist/ and in each
// release's folder in the bucket.
const (
	FileName = "manifest.json"
	SumsName = "SHA256SUMS"
)

// Manifest is the record of one build.
type Manifest struct {
	// Version is the tag, or the 40-hex commit of a development build.
	Version string `json:"version"`
	// Class is "stable", "extra" or "development".
	Class  string    `json:"class"`
	Commit string    `json:"commit,omitempty"`
	Date   time.Time `json:"date"`
	// Binary is the name of the released program.
	Binary  string     `json:"binary"`
	Targets []Artifact `json:"targets"`
	// Image is set once the image is pushed to a registry.
	Image *Image `json:"image,omitempty"`
	// Docs is the docs folder relative to the release root ("docs/"), when built.
	Docs string `json:"docs,omitempty"`
	// Logs are the stages' full outputs, relative to the release root
	// ("logs/build-amd64.log").
	Logs []string `json:"logs,omitempty"`
	// Warnings are check findings the project reports rather than fails on.
	Warnings []string `json:"warnings,omitempty"`
	// SBOM is the CycloneDX SBOM, relative to the release root (SBOMName).
	SBOM string `json:"sbom,omitempty"`
	// Provenance is the in-toto statement (SLSA provenance v1), unsigned,
	// relative to the release root (ProvenanceName).
	Provenance string `json:"provenance,omitempty"`
	// Build records what a rebuild needs to reproduce the binaries.
	Build *Build `json:"build,omitempty"`
	// Signatures is set when the release is signed; nil means unsigned.
	Signatures *Signatures `json:"signatures,omitempty"`
}

// Names of the supply-chain files in dist/ and in each release's folder.
const (
	SBOMName       = "sbom.cdx.json"
	ProvenanceName = "provenance.intoto.json"
	// EnvelopeName is the provenance statement signed as a DSSE envelope,
	// the file cosign verify-blob-attestation takes as --signature.
	EnvelopeName  = "provenance.intoto.jsonl"
	PublicKeyName = "cosign.pub"
	// ImageSignatureName holds the image index's cosign signature and the
	// signed provenance, made at release time and attached to the
	// registry at publish time (so publishing needs no key).
	ImageSignatureName = "image.sig.json"
	// SignatureSuffix is appended to a signed file's path for its cosign
	// signature (base64, as cosign sign-blob writes it).
	SignatureSuffix = ".sig"
)

// Build is how the binaries were built, for `verify` and the provenance.
type Build struct {
	// SourceDateEpoch is the SOURCE_DATE_EPOCH of the build (the commit's
	// time, or 0 without a commit).
	SourceDateEpoch int64 `json:"source_date_epoch"`
	// Toolchain identifies the toolchain: "<ref>@sha256:..." for a pulled
	// toolchain image, else "recipe:sha256:<digest of the recipe>" on the
	// base image named in BaseImage.
	Toolchain string `json:"toolchain"`
	// BaseImage is the base image with its digest when known.
	BaseImage string `json:"base_image,omitempty"`
	// Rustc is `rustc --version` in the toolchain.
	Rustc string `json:"rustc,omitempty"`
	// Package and Features are the cargo selection of the release build.
	Package  string   `json:"package,omitempty"`
	Features []string `json:"features,omitempty"`
	// ImageDigest is the image index's digest as pushed (it is known
	// before the push: the push keeps dist/image.tar's bytes).
	ImageDigest string `json:"image_digest,omitempty"`
}

// SignedFiles are the files a signed release has a signature of:
// SHA256SUMS and every binary, sorted.
func (m *Manifest) SignedFiles() []string {
	files := []string{SumsName}
	for _, a := range m.Targets {
		files = append(files, a.Path)
	}
	sort.Strings(files)
	return files
}

// Signatures lists a signed release's signature files, relative to the
// release root.
type Signatures struct {
	// PublicKey is the PEM public key that verifies every signature.
	PublicKey string `json:"public_key"`
	// Files maps each signed file to its signature file.
	Files map[string]string `json:"files"`
	// Provenance is the DSSE envelope of the provenance statement.
	Provenance string `json:"provenance"`
	// Image is the image signature file, when the release has an image.
	Image string `json:"image,omitempty"`
}

// Artifact is one target's binary.
type Artifact struct {
	Target   string `json:"target"`
	Triple   string `json:"triple"`
	Platform string `json:"platform"`
	// Path is relative to the release root: "<triple>/<binary>".
	Path   string `json:"path"`
	Size   int64  `json:"size"`
	SHA256 string `json:"sha256"`
}

// Image is the multi-platform image pushed for the build.
type Image struct {
	// Ref is "<repository>:<version>".
	Ref string `json:"ref"`
	// Digest is the digest of the image index.
	Digest    string   `json:"digest"`
	Platforms []string `json:"platforms"`
	// Tags lists every tag that pointed at the digest when it was pushed.
	Tags []string `json:"tags,omitempty"`
}

var hexSHA256 = regexp.MustCompile(`^[0-9a-f]{64}$`)

// Validate checks what the release page and the publisher rely on.
func (m *Manifest) Validate() error {
	if m.Version == "" {
		return fmt.Errorf("manifest: version is empty")
	}
	switch m.Class {
	case "stable", "extra", "development":
	default:
		return fmt.Errorf("manifest %s: class %q is not stable, extra or development", m.Version, m.Class)
	}
	if m.Binary == "" {
		return fmt.Errorf("manifest %s: binary is empty", m.Version)
	}
	if len(m.Targets) == 0 {
		return fmt.Errorf("manifest %s: no targets", m.Version)
	}
	for _, a := range m.Targets {
		if a.Path == "" || strings.HasPrefix(a.Path, "/") || strings.Contains(a.Path, "..") {
			return fmt.Errorf("manifest %s: target %s has bad path %q", m.Version, a.Target, a.Path)
		}
		if !hexSHA256.MatchString(a.SHA256) {
			return fmt.Errorf("manifest %s: target %s has bad sha256 %q", m.Version, a.Target, a.SHA256)
		}
	}
	for _, l := range m.Logs {
		// A log is a file of the release folder: logs/<name>.log.
		if !logPath.MatchString(l) {
			return fmt.Errorf("manifest %s: bad log path %q", m.Version, l)
		}
	}
	return nil
}

var logPath = regexp.MustCompile(`^logs/[A-Za-z0-9][A-Za-z0-9_.-]*\.log$`)

// Marshal returns the manifest as indented JSON with a final newline.
func (m *Manifest) Marshal() ([]byte, error) {
	b, err := json.MarshalIndent(m, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

// Parse reads and validates a manifest.
func Parse(data []byte) (*Manifest, error) {
	var m Manifest
	if err := json.Unmarshal(data, &m); err != nil {
		return nil, fmt.Errorf("manifest: %w", err)
	}
	if err := m.Validate(); err != nil {
		return nil, err
	}
	return &m, nil
}

// Sums maps a path relative to the release root to its hex sha256.
type Sums map[string]string

// Format writes sums in `sha256sum -c` format, sorted by path.
func (s Sums) Format() []byte {
	paths := make([]string, 0, len(s))
	for p := range s {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	var b bytes.Buffer
	for _, p := range paths {
		// Like sha256sum: a name with a backslash or a line break is escaped
		// and its line starts with a backslash.
		name := p
		if strings.ContainsAny(p, "\\\n\r") {
			b.WriteByte('\\')
			name = nameEscaper.Replace(p)
		}
		fmt.Fprintf(&b, "%s  %s\n", s[p], name)
	}
	return b.Bytes()
}

var (
	nameEscaper   = strings.NewReplacer("\\", "\\\\", "\n", "\\n", "\r", "\\r")
	nameUnescaper = strings.NewReplacer("\\\\", "\\", "\\n", "\n", "\\r", "\r")
)

// ParseSums reads `sha256sum` output: "<sha256>  <path>" (text mode) or
// "<sha256> *<path>" (binary mode), with sha256sum's escaping of names that
// hold a backslash or a line break. A path listed twice with different sums
// is an error.
func ParseSums(data []byte) (Sums, error) {
	sums := Sums{}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		escaped := strings.HasPrefix(line, "\\")
		if escaped {
			line = line[1:]
		}
		sum, rest, _ := strings.Cut(line, " ")
		if !hexSHA256.MatchString(sum) || len(rest) < 2 || (rest[0] != ' ' && rest[0] != '*') {
			return nil, fmt.Errorf("SHA256SUMS line %d: not \"<sha256>  <path>\": %q", n, line)
		}
		path := rest[1:]
		if escaped {
			path = nameUnescaper.Replace(path)
		}
		path = strings.TrimPrefix(path, "./")
		if old, dup := sums[path]; dup && old != sum {
			return nil, fmt.Errorf("SHA256SUMS line %d: %s is listed twice with different sums", n, path)
		}
		sums[path] = sum
	}
	return sums, sc.Err()
}
