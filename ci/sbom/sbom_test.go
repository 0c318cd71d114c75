package sbom

import (
	"bytes"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

const (
	amd64Triple = "x86_64-unknown-linux-gnu"
	arm64Triple = "aarch64-unknown-linux-gnu"
	stdSHA      = "5b1c3a0f9a3c2d4e8f7a6b5c4d3e2f1a0b9c8d7e6f5a4b3c2d1e0f9a8b7c6d5e"
	rustcVV     = `rustc 1.85.0 (4d91de4e4 2025-02-17) (built from a source tarball)
binary: rustc
commit-hash: 4d91de4e48198da2e33413efdcd9cd2cc0c46688
commit-date: 2025-02-17
host: x86_64-unknown-linux-gnu
release: 1.85.0
LLVM version: 19.1.7
`
)

func readTestdata(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// fixtureInput is a two-target release of testdata/project, with the
// metadata real cargo wrote for it (see testdata/README.md).
func fixtureInput(t *testing.T) Input {
	t.Helper()
	pkgs, err := ParseDpkg("rustc\t1.85.0+dfsg3-1\tamd64\nlibstd-rust-dev\t1.85.0+dfsg3-1\tamd64\nlibc6\t2.41-12\tamd64\n")
	if err != nil {
		t.Fatal(err)
	}
	return Input{
		Project: "relproj", Version: "v0.4.2", Binary: "relbin",
		Lock: readTestdata(t, "project/Cargo.lock"),
		Targets: []Target{
			{Name: "amd64", Triple: amd64Triple, Metadata: readTestdata(t, "metadata/"+amd64Triple+".json")},
			{Name: "arm64", Triple: arm64Triple, Metadata: readTestdata(t, "metadata/"+arm64Triple+".json")},
		},
		Toolchain: Toolchain{
			RustcVV:  rustcVV,
			Packages: pkgs,
			Std:      []StdPackage{{File: "libstd-rust-dev_1.85.0+dfsg3-1_arm64.deb", SHA256: stdSHA, Triple: arm64Triple}},
			Image:    "recipe:sha256:0f0e",
		},
		Timestamp:   time.Unix(1700000000, 0),
		ToolVersion: "0.9.0",
	}
}

func buildBOM(t *testing.T, in Input) (*cdx.BOM, []byte) {
	t.Helper()
	out, err := Build(in)
	if err != nil {
		t.Fatalf("Build: %v", err)
	}
	var bom cdx.BOM
	if err := cdx.NewBOMDecoder(bytes.NewReader(out), cdx.BOMFileFormatJSON).Decode(&bom); err != nil {
		t.Fatalf("decoding the SBOM: %v", err)
	}
	return &bom, out
}

func prop(c cdx.Component, name string) (string, bool) {
	if c.Properties == nil {
		return "", false
	}
	for _, p := range *c.Properties {
		if p.Name == name {
			return p.Value, true
		}
	}
	return "", false
}

func byName(bom *cdx.BOM) map[string]cdx.Component {
	m := map[string]cdx.Component{}
	for _, c := range *bom.Components {
		m[c.Name] = c
	}
	return m
}

func TestLinkedCrates(t *testing.T) {
	full := fixtureInput(t)
	amd64Only := fixtureInput(t)
	amd64Only.Targets = amd64Only.Targets[:1]
	tests := []struct {
		name     string
		in       Input
		linked   []string          // scope required
		excluded map[string]string // scope excluded, with the reason
		targets  map[string]string // garage-release:targets; absent = every target
	}{
		{
			name:     "amd64 and arm64",
			in:       full,
			linked:   []string{"applib", "armonly", "itoa", "static_assertions"},
			excluded: map[string]string{"autocfg": "build-only", "buildinfo": "build-only", "hello-macro": "proc-macro", "macro-support": "build-only"},
			targets:  map[string]string{"armonly": "arm64", "static_assertions": "arm64"},
		},
		{
			name:     "amd64 alone",
			in:       amd64Only,
			linked:   []string{"applib", "itoa"},
			excluded: map[string]string{"autocfg": "build-only", "buildinfo": "build-only", "hello-macro": "proc-macro", "macro-support": "build-only"},
			targets:  map[string]string{},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bom, _ := buildBOM(t, tt.in)
			var linked []string
			excluded := map[string]string{}
			targets := map[string]string{}
			for _, c := range *bom.Components {
				switch c.Scope {
				case cdx.ScopeRequired:
					linked = append(linked, c.Name)
				case cdx.ScopeExcluded:
					excluded[c.Name], _ = prop(c, propExcluded)
				default:
					t.Errorf("%s: scope %q", c.Name, c.Scope)
				}
				if v, ok := prop(c, propTargets); ok {
					targets[c.Name] = v
				}
			}
			if !slices.Equal(linked, tt.linked) {
				t.Errorf("linked crates = %v, want %v", linked, tt.linked)
			}
			if !maps.Equal(excluded, tt.excluded) {
				t.Errorf("excluded crates = %v, want %v", excluded, tt.excluded)
			}
			if !maps.Equal(targets, tt.targets) {
				t.Errorf("per-target crates = %v, want %v", targets, tt.targets)
			}
			for _, absent := range []string{"testutil", "winonly", "relapp"} {
				if _, ok := byName(bom)[absent]; ok {
					t.Errorf("%s is a component; dev-only, windows-only and the app itself must not be", absent)
				}
			}
		})
	}
}

func TestCrateIdentity(t *testing.T) {
	bom, _ := buildBOM(t, fixtureInput(t))
	comps := byName(bom)
	tests := []struct {
		name, ref, purl, sha256, license, source string
	}{
		{"itoa", "pkg:cargo/itoa@1.0.1", "pkg:cargo/itoa@1.0.1", "1aab8fc367588b89dcee83ab0fd66b72b50b72fa1904d7095045ace2b0c81c35", "MIT OR Apache-2.0", cratesIOGit},
		{"static_assertions", "pkg:cargo/static_assertions@1.1.0", "pkg:cargo/static_assertions@1.1.0", "a2eb9349b6444b326872e140eb1cf5e7c522154d69e7a0ffb0fb81c06b37543f", "MIT OR Apache-2.0", cratesIOGit},
		{"autocfg", "pkg:cargo/autocfg@1.1.0", "pkg:cargo/autocfg@1.1.0", "d468802bab17cbc0cc575e9b053f41e72aa36bfa6b7f55e3529ffa43161b97fa", "Apache-2.0 OR MIT", cratesIOGit},
		// publish = false: no purl that could be mistaken for a crates.io crate.
		{"applib", "path:crates/applib#applib@0.1.0", "", "", "MIT", "path+crates/applib"},
		{"armonly", "path:crates/armonly#armonly@0.3.0", "pkg:cargo/armonly@0.3.0", "", "Apache-2.0", "path+crates/armonly"},
		{"buildinfo", "path:libs/buildinfo#buildinfo@0.1.0", "pkg:cargo/buildinfo@0.1.0", "", "MIT", "path+libs/buildinfo"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, ok := comps[tt.name]
			if !ok {
				t.Fatalf("no component %s", tt.name)
			}
			if c.BOMRef != tt.ref || c.PackageURL != tt.purl {
				t.Errorf("bom-ref, purl = %q, %q; want %q, %q", c.BOMRef, c.PackageURL, tt.ref, tt.purl)
			}
			var sum string
			if c.Hashes != nil {
				for _, h := range *c.Hashes {
					if h.Algorithm == cdx.HashAlgoSHA256 {
						sum = h.Value
					}
				}
			}
			if sum != tt.sha256 {
				t.Errorf("SHA-256 = %q, want the Cargo.lock checksum %q", sum, tt.sha256)
			}
			if c.Licenses == nil || len(*c.Licenses) != 1 || (*c.Licenses)[0].Expression != tt.license {
				t.Errorf("licenses = %+v, want expression %q", c.Licenses, tt.license)
			}
			if src, _ := prop(c, propSource); src != tt.source {
				t.Errorf("source = %q, want %q", src, tt.source)
			}
			if c.Type != cdx.ComponentTypeLibrary || c.Version == "" || c.Description == "" {
				t.Errorf("type, version, description = %q, %q, %q", c.Type, c.Version, c.Description)
			}
		})
	}
}

func TestApplicationAndGraph(t *testing.T) {
	bom, out := buildBOM(t, fixtureInput(t))
	app := bom.Metadata.Component
	if app.Type != cdx.ComponentTypeApplication || app.Name != "relbin" || app.Version != "v0.4.2" || app.PackageURL != "pkg:cargo/relapp@0.4.2" {
		t.Errorf("application = %s %s %s %s", app.Type, app.Name, app.Version, app.PackageURL)
	}
	if bom.Metadata.Timestamp != "2023-11-14T22:13:20Z" {
		t.Errorf("timestamp = %q", bom.Metadata.Timestamp)
	}
	tools := *bom.Metadata.Tools.Components
	if len(tools) != 1 || tools[0].Name != "garage-release" || tools[0].Version != "0.9.0" {
		t.Errorf("tools = %+v", tools)
	}
	if !strings.HasPrefix(bom.SerialNumber, "urn:uuid:") {
		t.Errorf("serialNumber = %q", bom.SerialNumber)
	}
	want := map[string][]string{
		app.BOMRef:                          {"path:crates/applib#applib@0.1.0", "path:crates/armonly#armonly@0.3.0"},
		"path:crates/applib#applib@0.1.0":   {"pkg:cargo/itoa@1.0.1"},
		"path:crates/armonly#armonly@0.3.0": {"pkg:cargo/static_assertions@1.1.0"},
		"pkg:cargo/itoa@1.0.1":              nil,
		"pkg:cargo/static_assertions@1.1.0": nil,
	}
	got := map[string][]string{}
	for _, d := range *bom.Dependencies {
		got[d.Ref] = nil
		if d.Dependencies != nil {
			got[d.Ref] = *d.Dependencies
		}
	}
	if len(got) != len(want) {
		t.Errorf("dependencies cover %d refs, want %d: %v", len(got), len(want), got)
	}
	for ref, deps := range want {
		if g, ok := got[ref]; !ok || !slices.Equal(g, deps) {
			t.Errorf("%s depends on %v, want %v", ref, g, deps)
		}
	}
	// No absolute path of the machine that ran cargo.
	if bytes.Contains(out, []byte("/tmp/relproj")) {
		t.Error("the SBOM contains the workspace's absolute path")
	}
}

func TestToolchain(t *testing.T) {
	bom, _ := buildBOM(t, fixtureInput(t))
	if bom.Formulation == nil || len(*bom.Formulation) != 1 {
		t.Fatalf("formulation = %+v", bom.Formulation)
	}
	comps := map[string]cdx.Component{}
	for _, c := range *(*bom.Formulation)[0].Components {
		comps[c.BOMRef] = c
		if role, _ := prop(c, propRole); role != roleToolchain {
			t.Errorf("%s: role %q", c.BOMRef, role)
		}
	}
	rustc, ok := comps["toolchain:rustc@1.85.0"]
	if !ok || rustc.Version != "1.85.0" {
		t.Fatalf("no rustc 1.85.0 in %v", comps)
	}
	for name, want := range map[string]string{
		"garage-release:rustc:commit-hash":  "4d91de4e48198da2e33413efdcd9cd2cc0c46688",
		"garage-release:rustc:llvm-version": "19.1.7",
		"garage-release:rustc:host":         amd64Triple,
	} {
		if v, _ := prop(rustc, name); v != want {
			t.Errorf("rustc %s = %q, want %q", name, v, want)
		}
	}
	libc := "pkg:deb/debian/libc6@2.41-12?arch=amd64&distro=trixie"
	if c, ok := comps[libc]; !ok || c.PackageURL != libc || c.Version != "2.41-12" {
		t.Errorf("no Debian component %s", libc)
	}
	std := "pkg:deb/debian/libstd-rust-dev@1.85.0%2Bdfsg3-1?arch=arm64&distro=trixie"
	c, ok := comps[std]
	if !ok || c.Hashes == nil || (*c.Hashes)[0] != (cdx.Hash{Algorithm: cdx.HashAlgoSHA256, Value: stdSHA}) {
		t.Errorf("std package %s: %+v, want SHA-256 %s", std, c, stdSHA)
	}
	if v, _ := prop(c, propStdTriple); v != arm64Triple {
		t.Errorf("std triple = %q", v)
	}
	for _, cc := range *bom.Components {
		if _, ok := comps[cc.BOMRef]; ok {
			t.Errorf("toolchain component %s is in components too", cc.BOMRef)
		}
	}
}

// A std .deb that dpkg also lists is one component, with the hash.
func TestStdMergesWithInstalledPackage(t *testing.T) {
	in := fixtureInput(t)
	in.Toolchain.Std = []StdPackage{{File: "libstd-rust-dev_1.85.0+dfsg3-1_amd64.deb", SHA256: stdSHA, Triple: amd64Triple}}
	bom, _ := buildBOM(t, in)
	n := 0
	for _, c := range *(*bom.Formulation)[0].Components {
		if c.Name == "libstd-rust-dev" {
			n++
			if c.Hashes == nil || (*c.Hashes)[0].Value != stdSHA {
				t.Errorf("merged std component has no hash: %+v", c)
			}
		}
	}
	if n != 1 {
		t.Errorf("%d libstd-rust-dev components, want 1", n)
	}
}

func TestReproducible(t *testing.T) {
	a, err := Build(fixtureInput(t))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Build(fixtureInput(t))
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, b) {
		t.Fatal("two builds of the same input differ")
	}
	// Where cargo ran does not matter: paths are relative in the SBOM.
	moved := fixtureInput(t)
	for i := range moved.Targets {
		moved.Targets[i].Metadata = bytes.ReplaceAll(moved.Targets[i].Metadata, []byte("/tmp/relproj"), []byte("/build/src/x"))
	}
	c, err := Build(moved)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(a, c) {
		t.Error("moving the workspace changed the SBOM")
	}
}

func TestSerialNumberFollowsContent(t *testing.T) {
	base, _ := buildBOM(t, fixtureInput(t))
	tests := []struct {
		name   string
		change func(*Input)
	}{
		{"timestamp", func(in *Input) { in.Timestamp = in.Timestamp.Add(time.Second) }},
		{"version", func(in *Input) { in.Version = "v0.4.3" }},
		{"targets", func(in *Input) { in.Targets = in.Targets[:1] }},
		{"toolchain image", func(in *Input) { in.Toolchain.Image = "recipe:sha256:0f0f" }},
		{"std hash", func(in *Input) { in.Toolchain.Std[0].SHA256 = strings.Repeat("a", 64) }},
	}
	seen := map[string]string{base.SerialNumber: "base"}
	for _, tt := range tests {
		in := fixtureInput(t)
		tt.change(&in)
		bom, _ := buildBOM(t, in)
		if prev, dup := seen[bom.SerialNumber]; dup {
			t.Errorf("changing the %s gives the serialNumber of %s: %s", tt.name, prev, bom.SerialNumber)
		}
		seen[bom.SerialNumber] = tt.name
	}
}

// Metadata made without --filter-platform still gives the right set: the
// dep_kinds target cfgs are evaluated for the triple.
func TestUnfilteredMetadata(t *testing.T) {
	unfiltered := readTestdata(t, "metadata/unfiltered.json")
	tests := []struct {
		triple string
		linked []string
	}{
		{amd64Triple, []string{"applib", "itoa"}},
		{arm64Triple, []string{"applib", "armonly", "itoa", "static_assertions"}},
		{"x86_64-pc-windows-msvc", []string{"applib", "itoa", "winonly"}},
	}
	for _, tt := range tests {
		t.Run(tt.triple, func(t *testing.T) {
			in := fixtureInput(t)
			in.Targets = []Target{{Name: "t", Triple: tt.triple, Metadata: unfiltered}}
			bom, _ := buildBOM(t, in)
			var linked []string
			for _, c := range *bom.Components {
				if c.Scope == cdx.ScopeRequired {
					linked = append(linked, c.Name)
				}
			}
			if !slices.Equal(linked, tt.linked) {
				t.Errorf("linked = %v, want %v", linked, tt.linked)
			}
		})
	}
}

func TestPackageSelection(t *testing.T) {
	tests := []struct{ pkg, bin, wantName string }{
		{"", "relbin", "relbin"},       // found by its bin target
		{"relapp", "relbin", "relbin"}, // named
		{"relapp", "", "relproj"},      // no binary name: the project's
	}
	for _, tt := range tests {
		in := fixtureInput(t)
		in.Package, in.Binary = tt.pkg, tt.bin
		bom, _ := buildBOM(t, in)
		if c := bom.Metadata.Component; c.Name != tt.wantName || c.PackageURL != "pkg:cargo/relapp@0.4.2" {
			t.Errorf("Package %q Binary %q: application %s %s", tt.pkg, tt.bin, c.Name, c.PackageURL)
		}
	}
}
