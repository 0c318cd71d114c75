// Package attest completes an exported dist/ with what makes a release
// verifiable: the image digest it will be pushed as, the provenance
// statement, and, with a key, the cosign signatures of SHA256SUMS, of every
// binary, of the provenance and of the image. It runs where dist/ is on
// disk (the CLI's host, the module's container), after the engine built
// everything and before anything is published: the key never enters a
// build, and publishing needs no key.
package attest

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/provenance"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/signing"
	"github.com/garage-release/garage-release/ci/target"
)

// Options say how to complete dist/.
type Options struct {
	// Signer signs; nil leaves the release unsigned (and says so).
	Signer *signing.Signer
	// ImageRepo is the repository the image is pushed to, when known; it
	// is the image subject's name and the signature's docker-reference.
	ImageRepo string
	// Provenance inputs: see provenance.Input.
	SourceURI      string
	Command        []string
	Parameters     map[string]string
	BuilderVersion string
}

// BuilderID names garage-release as the builder in the provenance.
const BuilderID = "https://github.com/garage-release/garage-release/releaser@v1"

// Complete reads the release in dist and returns the files to write into
// it (path relative to dist → content): the manifest with the image digest,
// the provenance and signatures listed, the provenance statement, the
// signatures and public key when signing, and the page when dist has one.
func Complete(dist string, opts Options) (map[string][]byte, error) {
	data, err := os.ReadFile(filepath.Join(dist, manifest.FileName))
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	m, err := manifest.Parse(data)
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	if m.Build == nil {
		m.Build = &manifest.Build{}
	}
	tarball := filepath.Join(dist, publish.ImageTarball)
	if _, err := os.Stat(tarball); err == nil {
		digest, _, err := publish.TarballDigest(tarball)
		if err != nil {
			return nil, fmt.Errorf("attest: the image's digest: %w", err)
		}
		m.Build.ImageDigest = digest
	}
	statement, err := provenance.Statement(provenance.Input{
		Manifest: m, ImageRepo: opts.ImageRepo, SourceURI: opts.SourceURI,
		Command: opts.Command, Parameters: opts.Parameters,
		BuilderID: BuilderID, BuilderVersion: opts.BuilderVersion,
	})
	if err != nil {
		return nil, fmt.Errorf("attest: provenance: %w", err)
	}
	out := map[string][]byte{manifest.ProvenanceName: statement}
	m.Provenance = manifest.ProvenanceName
	m.Signatures = nil
	if opts.Signer != nil {
		sigs, files, err := sign(dist, m, statement, opts)
		if err != nil {
			return nil, err
		}
		m.Signatures = sigs
		for k, v := range files {
			out[k] = v
		}
	}
	mdata, err := m.Marshal()
	if err != nil {
		return nil, fmt.Errorf("attest: %w", err)
	}
	out[manifest.FileName] = mdata
	// The page shows the signatures and the verify commands: rebuilt
	// from the completed manifest.
	if _, err := os.Stat(filepath.Join(dist, index.LocalHTMLName)); err == nil {
		idx := index.Build([]*manifest.Manifest{m})
		if out[index.LocalHTMLName], err = idx.LocalHTML(); err != nil {
			return nil, fmt.Errorf("attest: page: %w", err)
		}
		if out[index.LocalJSONName], err = idx.LocalJSON(); err != nil {
			return nil, fmt.Errorf("attest: page: %w", err)
		}
	}
	return out, nil
}

// sign signs SHA256SUMS and every binary (cosign sign-blob's format), the
// provenance (a DSSE envelope) and the image index (simple signing, kept
// in a file until publish attaches it).
func sign(dist string, m *manifest.Manifest, statement []byte, opts Options) (*manifest.Signatures, map[string][]byte, error) {
	s := opts.Signer
	pub, err := s.PublicKeyPEM()
	if err != nil {
		return nil, nil, fmt.Errorf("sign: public key: %w", err)
	}
	files := map[string][]byte{manifest.PublicKeyName: pub}
	sigs := &manifest.Signatures{PublicKey: manifest.PublicKeyName, Files: map[string]string{}}
	for _, p := range m.SignedFiles() {
		data, err := os.ReadFile(filepath.Join(dist, filepath.FromSlash(p)))
		if err != nil {
			return nil, nil, fmt.Errorf("sign %s: %w", p, err)
		}
		sig, err := s.SignBlob(data)
		if err != nil {
			return nil, nil, fmt.Errorf("sign %s: %w", p, err)
		}
		files[p+manifest.SignatureSuffix] = sig
		sigs.Files[p] = p + manifest.SignatureSuffix
	}
	envelope, err := s.SignStatement(statement)
	if err != nil {
		return nil, nil, fmt.Errorf("sign the provenance: %w", err)
	}
	files[manifest.EnvelopeName] = envelope
	sigs.Provenance = manifest.EnvelopeName
	if m.Build.ImageDigest != "" {
		repo := opts.ImageRepo
		if repo == "" {
			repo = m.Binary
		}
		is, err := s.SignImage(repo, m.Build.ImageDigest, envelope)
		if err != nil {
			return nil, nil, fmt.Errorf("sign the image %s: %w", m.Build.ImageDigest, err)
		}
		data, err := is.Marshal()
		if err != nil {
			return nil, nil, err
		}
		files[manifest.ImageSignatureName] = data
		sigs.Image = manifest.ImageSignatureName
	}
	return sigs, files, nil
}

// Finish completes dist in place: Complete, then Write. It returns the
// files written and the completed manifest (what publish reads).
func Finish(dist string, opts Options) (map[string][]byte, *manifest.Manifest, error) {
	files, err := Complete(dist, opts)
	if err != nil {
		return nil, nil, err
	}
	if err := Write(dist, files); err != nil {
		return nil, nil, err
	}
	m, err := manifest.Parse(files[manifest.FileName])
	return files, m, err
}

// Parameters are a release's settings as the provenance records them,
// the same from either front end.
func Parameters(s project.Settings, targets []target.Target) map[string]string {
	names := make([]string, len(targets))
	for i, t := range targets {
		names[i] = t.Name
	}
	params := map[string]string{
		"targets": strings.Join(names, ","),
		"binary":  s.Binary,
		"checks": fmt.Sprintf("fmt=%t clippy=%t clippy-args=%q warn=%t",
			s.Checks.Fmt, s.Checks.Clippy, strings.Join(s.Checks.ClippyArgs, " "), s.Checks.Warn),
	}
	if s.Package != "" {
		params["package"] = s.Package
	}
	if len(s.Features) > 0 {
		params["features"] = strings.Join(s.Features, ",")
	}
	return params
}

// Write writes Complete's files into dist (a folder garage-release is
// filling: nothing of the user's).
func Write(dist string, files map[string][]byte) error {
	for name, data := range files {
		p := filepath.Join(dist, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			return fmt.Errorf("attest: %w", err)
		}
	}
	return nil
}
