package publish

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"sort"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/signing"
)

// supplyChainFiles returns the SBOM, the provenance and, for a signed
// release, the public key, every signature, the signed provenance and the
// image signature of m in distDir, as objects under prefix. Every signature
// is checked first against the public key in dist/: a dist/ whose files
// were changed after signing (or a signature file damaged) is refused
// before anything is written.
func supplyChainFiles(distDir, prefix string, m *manifest.Manifest) ([]object, error) {
	var names []string
	for _, n := range []string{m.SBOM, m.Provenance} {
		if n != "" {
			names = append(names, n)
		}
	}
	if s := m.Signatures; s != nil {
		if err := checkSignatures(distDir, m); err != nil {
			return nil, err
		}
		names = append(names, s.PublicKey, s.Provenance)
		for _, sig := range s.Files {
			names = append(names, sig)
		}
		if s.Image != "" {
			names = append(names, s.Image)
		}
	}
	sort.Strings(names)
	var out []object
	for _, n := range names {
		if !safeRelative(n) {
			return nil, fmt.Errorf("the manifest names %q: not a file of the release folder", n)
		}
		file := filepath.Join(distDir, filepath.FromSlash(n))
		sum, size, err := HashFile(file)
		if err != nil {
			return nil, fmt.Errorf("the manifest lists %s: %w", n, err)
		}
		out = append(out, object{Key: prefix + n, File: file, SHA256: sum, Size: size, ContentType: contentType(n)})
	}
	return out, nil
}

// checkSignatures verifies each signature of a signed dist/ with its
// public key, as cosign would.
func checkSignatures(distDir string, m *manifest.Manifest) error {
	s := m.Signatures
	read := func(n string) ([]byte, error) {
		if !safeRelative(n) {
			return nil, fmt.Errorf("the manifest names %q: not a file of the release folder", n)
		}
		return os.ReadFile(filepath.Join(distDir, filepath.FromSlash(n)))
	}
	pub, err := read(s.PublicKey)
	if err != nil {
		return fmt.Errorf("signed release: the public key: %w", err)
	}
	for _, f := range m.SignedFiles() {
		if s.Files[f] == "" {
			return fmt.Errorf("signed release: %s has no signature in the manifest", f)
		}
	}
	for f, sigName := range s.Files {
		data, err := read(f)
		if err != nil {
			return fmt.Errorf("signed release: %w", err)
		}
		sig, err := read(sigName)
		if err != nil {
			return fmt.Errorf("signed release: %w", err)
		}
		if err := signing.VerifyBlob(pub, data, sig); err != nil {
			return fmt.Errorf("signed release: %s does not match its signature %s (changed after signing?): %w", f, sigName, err)
		}
	}
	env, err := read(s.Provenance)
	if err != nil {
		return fmt.Errorf("signed release: %w", err)
	}
	if _, err := signing.VerifyEnvelope(pub, env); err != nil {
		return fmt.Errorf("signed release: %s: %w", s.Provenance, err)
	}
	return nil
}

// imageSignatures reads a signed release's image signatures, nil when the
// release has none.
func imageSignatures(distDir string, m *manifest.Manifest) (*signing.ImageSignatures, error) {
	if m.Signatures == nil || m.Signatures.Image == "" {
		return nil, nil
	}
	data, err := os.ReadFile(filepath.Join(distDir, filepath.FromSlash(m.Signatures.Image)))
	if err != nil {
		return nil, fmt.Errorf("the image signature: %w", err)
	}
	is, err := signing.ParseImageSignatures(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", m.Signatures.Image, err)
	}
	return is, nil
}

// attachSignatures puts the image's signature and attestation where cosign
// looks for them, for the digest just pushed.
func (r *Registry) attachSignatures(ctx context.Context, is *signing.ImageSignatures, digest string) error {
	if is.Digest != digest {
		return fmt.Errorf("the image signature is for %s but the image pushed is %s: dist/ was changed after signing", is.Digest, digest)
	}
	if err := signing.Attach(ctx, r.Repo, r.Insecure, is, r.options(ctx)...); err != nil {
		return registryError("attaching the image's signatures", r.Repo, err)
	}
	return nil
}

// safeRelative reports whether p names a file inside the release folder.
func safeRelative(p string) bool {
	return p != "" && filepath.IsLocal(filepath.FromSlash(p))
}
