package sbom

import (
	"fmt"
	"regexp"
	"strings"

	"github.com/BurntSushi/toml"
)

// lockFile is the part of Cargo.lock we read: the registry crates' SHA-256
// (of the .crate file). Lock format v1 kept them in [metadata] as
// "checksum <name> <version> (<source>)" = "<sha256>"; v2+ in each
// [[package]].
type lockFile struct {
	Package []struct {
		Name     string `toml:"name"`
		Version  string `toml:"version"`
		Source   string `toml:"source"`
		Checksum string `toml:"checksum"`
	} `toml:"package"`
	Metadata map[string]string `toml:"metadata"`
}

var sha256Hex = regexp.MustCompile(`^[0-9a-f]{64}$`)

// lockKey identifies a crate the way both Cargo.lock and cargo metadata do.
func lockKey(name, version, source string) string {
	return name + " " + version + " (" + source + ")"
}

// parseLock maps lockKey to checksum for every registry crate. A crate
// without a checksum (vendored with "package": null) maps to "".
func parseLock(data []byte) (map[string]string, error) {
	var lf lockFile
	if _, err := toml.Decode(string(data), &lf); err != nil {
		return nil, fmt.Errorf("sbom: Cargo.lock: %w", err)
	}
	if len(lf.Package) == 0 {
		return nil, fmt.Errorf("sbom: Cargo.lock: no [[package]] entries")
	}
	sums := map[string]string{}
	for _, p := range lf.Package {
		if p.Name == "" || p.Version == "" {
			return nil, fmt.Errorf("sbom: Cargo.lock: a [[package]] without name or version")
		}
		if p.Source == "" {
			continue // path crates have neither source nor checksum
		}
		sum := p.Checksum
		if sum == "" {
			sum = lf.Metadata["checksum "+lockKey(p.Name, p.Version, p.Source)]
		}
		if sum != "" && !sha256Hex.MatchString(sum) {
			// Cargo accepted it: crates vendored from Debian's
			// librust-*-dev packages carry "Could not get crate
			// checksum". No hash is better than a false one or no SBOM.
			sum = ""
		}
		sums[lockKey(p.Name, p.Version, p.Source)] = sum
	}
	return sums, nil
}

// lockChecksum finds a registry crate's checksum. ok is false when the
// crate is not in Cargo.lock at all, which means the lock does not belong
// to the metadata (both come from one `cargo metadata --locked` run).
func lockChecksum(sums map[string]string, name, version, source string) (string, bool) {
	if sum, ok := sums[lockKey(name, version, source)]; ok {
		return sum, true
	}
	// crates.io is spelled two ways (git index and sparse index).
	if isCratesIO(source) {
		for _, alt := range []string{cratesIOGit, cratesIOSparse} {
			if sum, ok := sums[lockKey(name, version, alt)]; ok {
				return sum, true
			}
		}
	}
	return "", false
}

const (
	cratesIOGit    = "registry+https://github.com/rust-lang/crates.io-index"
	cratesIOSparse = "sparse+https://index.crates.io/"
)

func isCratesIO(source string) bool {
	return source == cratesIOGit || strings.TrimSuffix(source, "/")+"/" == cratesIOSparse
}
