package sbom

import (
	"errors"
	"fmt"
	"time"
)

// DebPackage is one Debian package installed in the toolchain image.
type DebPackage struct{ Name, Version, Arch string }

// StdPackage is a pinned Rust std .deb fetched by the toolchain recipe.
// File is the .deb's file name (name_version_arch.deb), SHA256 its pinned
// digest in hex, Triple the Rust target it provides std for.
type StdPackage struct{ File, SHA256, Triple string }

// Toolchain is what built the release.
type Toolchain struct {
	RustcVV  string       // `rustc -vV` output (release:, commit-hash:, host:, LLVM version:)
	Packages []DebPackage // ParseDpkg of the dpkg-query output
	Std      []StdPackage
	Image    string // how the toolchain is identified, e.g. "recipe:sha256:..." or "ref@sha256:..."
	// Distro is the Debian codename in the deb purls; "" means "trixie".
	Distro string
}

// Target is one release target and cargo's view of the project for it.
type Target struct {
	Name, Triple string
	Metadata     []byte // `cargo metadata --format-version 1 --filter-platform <Triple>` JSON
}

// Input is everything Build needs.
type Input struct {
	Project, Version string // release name (the project's name) and version (a tag like v1.2.3, or a 40-hex commit)
	Binary           string // the released binary's name (a [[bin]] target name); "" names the application after Project
	// Package is the cargo package that has the binary; "" means the
	// workspace's root package if it has the bin, else the one workspace
	// member whose targets contain a bin named Binary.
	Package   string
	Lock      []byte // Cargo.lock (for the registry crates' sha256 "checksum")
	Targets   []Target
	Toolchain Toolchain
	Timestamp time.Time // the build's SOURCE_DATE_EPOCH
	// ToolVersion is garage-release's own version for metadata.tools; ""
	// leaves the version out.
	ToolVersion string
}

// check rejects inputs Build cannot make sense of, before any parsing.
func (in *Input) check() error {
	if in.Project == "" && in.Binary == "" {
		return errors.New("sbom: no project name and no binary name")
	}
	if in.Version == "" {
		return errors.New("sbom: no release version")
	}
	if in.Timestamp.IsZero() {
		return errors.New("sbom: no timestamp (SOURCE_DATE_EPOCH)")
	}
	if len(in.Lock) == 0 {
		return errors.New("sbom: no Cargo.lock")
	}
	if len(in.Targets) == 0 {
		return errors.New("sbom: no release targets")
	}
	seen := map[string]bool{}
	for i, t := range in.Targets {
		switch {
		case t.Name == "":
			return fmt.Errorf("sbom: target #%d has no name", i+1)
		case seen[t.Name]:
			return fmt.Errorf("sbom: target %q given twice", t.Name)
		case t.Triple == "":
			return fmt.Errorf("sbom: target %q has no triple", t.Name)
		case len(t.Metadata) == 0:
			return fmt.Errorf("sbom: target %q (%s) has no cargo metadata", t.Name, t.Triple)
		}
		seen[t.Name] = true
	}
	return nil
}
