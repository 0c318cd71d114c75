// Package sbom writes the CycloneDX JSON SBOM (sbom.cdx.json) of one
// release of a Rust project. It is pure: the pipeline gathers cargo
// metadata, Cargo.lock and the toolchain's facts inside the engine and hands
// them to Build, which returns the document's bytes.
//
// The BOM is built with github.com/CycloneDX/cyclonedx-go's types and
// encoded with its encoder, in the library's default spec version
// (CycloneDX 1.6). Identical inputs give identical bytes: every list is
// sorted, absolute paths never reach the document, metadata.timestamp is the
// build's SOURCE_DATE_EPOCH and serialNumber is a name-based (v5) UUID of
// the SHA-256 of the document encoded without it.
//
// What the document says, and why:
//
//   - metadata.component is the released application: named after the
//     binary, versioned with the release version (the tag or commit), with
//     the cargo package's purl when that package may be published to
//     crates.io (see below) and its cargo version in the purl.
//
//   - components holds the crates the binary links, per cargo metadata's
//     resolve graph: from the binary's package, follow only edges with a
//     normal dep_kind (kind null) whose `target`, when present, holds for
//     the release target's triple (see cfg.go), never dev- or
//     build-dependency edges, and never into a proc-macro crate. They have
//     scope "required".
//
//   - Crates the build needs but the binary does not link (proc-macros,
//     build-dependencies and whatever only they pull in) are listed too,
//     with scope "excluded" and the property garage-release:excluded =
//     "proc-macro" or "build-only": they run at build time and can shape the
//     code (a proc-macro writes some of it), so an auditor wants them, while
//     a vulnerability scanner that honours scope skips them. Dev-dependencies
//     are left out entirely: the release build never compiles them.
//
//   - Per-target differences: each release target (Input.Targets) has its
//     own cargo metadata. A crate present for every target carries no
//     garage-release:targets property; one present for only some carries
//     garage-release:targets = their names, comma-separated, sorted (e.g.
//     "arm64"). No property means "all targets", so the common case stays
//     uncluttered and the property always marks an exception.
//
//   - purls and bom-refs: a crates.io crate is pkg:cargo/name@version; a
//     crate from another registry adds ?repository_url=<index>; a git crate
//     adds ?vcs_url=git+<url>@<commit> (the purl spec's qualifiers for
//     "not the default repository"). Their bom-ref is the purl. A path crate
//     has a bom-ref made of its path relative to the workspace root
//     ("path:crates/foo#foo@0.1.0"), and a pkg:cargo purl only when its
//     manifest allows publishing to crates.io (publish unset or listing
//     "crates-io"): then it is, or will be, that crates.io package; a
//     `publish = false` crate gets none, so it cannot be confused with an
//     unrelated crates.io crate of the same name.
//
//   - hashes: registry crates carry the SHA-256 of their .crate, the
//     Cargo.lock checksum. licenses: the manifest's `license`, an SPDX
//     expression, as a CycloneDX expression (the old "MIT/Apache-2.0" form
//     is rewritten with OR). The source is the garage-release:source
//     property; repository, homepage and documentation become external
//     references.
//
//   - dependencies: the graph between the application and the linked
//     crates (union over targets); excluded crates are not in it, as
//     CycloneDX edges carry no kind and would read as "links".
//
//   - The toolchain is in formulation (CycloneDX 1.5+: "how the component
//     was manufactured"): one formula whose components are rustc (version
//     from `rustc -vV`, commit hash, commit date, host and LLVM version as
//     properties, and the NVD CPE of rust-lang:rust), every Debian package
//     of the toolchain image (pkg:deb/debian/...?arch=&distro=trixie) and
//     the pinned Rust std .debs with their SHA-256 (merged into the
//     matching installed package when dpkg lists it). It is not in
//     components: it is not shipped, and listing hundreds of image packages
//     there would bury the crates and flood scanners with findings about
//     the build machine. Each toolchain component also carries
//     garage-release:role = toolchain, for tools that flatten the BOM.
package sbom
