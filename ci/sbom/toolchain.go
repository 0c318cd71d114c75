package sbom

import (
	"cmp"
	"fmt"
	"net/url"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"
)

const (
	roleToolchain = "toolchain"
	propStdTriple = "garage-release:std-triple"
	propStdFile   = "garage-release:std-file"
	propImage     = "garage-release:toolchain-image"
)

// rustcInfo is `rustc -vV` as key: value lines.
type rustcInfo map[string]string

func parseRustcVV(out string) (rustcInfo, error) {
	info := rustcInfo{}
	for _, line := range strings.Split(out, "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok {
			info[strings.TrimSpace(k)] = strings.TrimSpace(v)
		}
	}
	if info["release"] == "" {
		return nil, fmt.Errorf("sbom: toolchain: rustc -vV output has no \"release:\" line: %q", firstLine(out))
	}
	return info, nil
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// rustcComponent describes the compiler; the CPE is NVD's name for Rust,
// which lets scanners match advisories against std, which is linked in.
func rustcComponent(info rustcInfo) cdx.Component {
	props := []cdx.Property{{Name: propRole, Value: roleToolchain}}
	for _, k := range []string{"commit-hash", "commit-date", "host", "LLVM version"} {
		if v := info[k]; v != "" {
			name := "garage-release:rustc:" + strings.ReplaceAll(strings.ToLower(k), " ", "-")
			props = append(props, cdx.Property{Name: name, Value: v})
		}
	}
	return cdx.Component{
		BOMRef:     "toolchain:rustc@" + info["release"],
		Type:       cdx.ComponentTypeApplication,
		Name:       "rustc",
		Version:    info["release"],
		CPE:        "cpe:2.3:a:rust-lang:rust:" + cpeEscape(info["release"]) + ":*:*:*:*:*:*:*",
		Properties: sortedProps(props),
	}
}

// cpeEscape quotes what CPE 2.3 formatted strings reserve in a version
// ("1.85.0-nightly" is fine; "1.85.0+dfsg" needs "\+").
func cpeEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '.' || r == '_' || r == '-') {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

func debPURL(name, version, arch, distro string) string {
	q := packageurl.Qualifiers{{Key: "arch", Value: arch}, {Key: "distro", Value: distro}}
	return packageurl.NewPackageURL(packageurl.TypeDebian, "debian", name, version, q, "").ToString()
}

// parseDebFile splits "name_version_arch.deb"; Debian file names write an
// epoch's colon as %3a.
func parseDebFile(file string) (name, version, arch string, ok bool) {
	base, found := strings.CutSuffix(file, ".deb")
	f := strings.Split(base, "_")
	if !found || len(f) != 3 || f[0] == "" || f[1] == "" || f[2] == "" {
		return "", "", "", false
	}
	v, err := url.PathUnescape(f[1])
	if err != nil {
		return "", "", "", false
	}
	return f[0], v, f[2], true
}

// stripEpoch: file names leave the epoch out, dpkg does not.
func stripEpoch(v string) string {
	if _, rest, ok := strings.Cut(v, ":"); ok {
		return rest
	}
	return v
}

// toolchainFormula puts the toolchain in one formula (see the package doc).
func toolchainFormula(tc Toolchain) (*cdx.Formula, error) {
	if strings.TrimSpace(tc.RustcVV) == "" {
		return nil, fmt.Errorf("sbom: toolchain: no rustc -vV output")
	}
	info, err := parseRustcVV(tc.RustcVV)
	if err != nil {
		return nil, err
	}
	distro := cmp.Or(tc.Distro, "trixie")

	comps := map[string]*cdx.Component{}
	for _, p := range tc.Packages {
		if p.Name == "" || p.Version == "" || p.Arch == "" {
			return nil, fmt.Errorf("sbom: toolchain: Debian package %+v lacks a name, version or architecture", p)
		}
		purl := debPURL(p.Name, p.Version, p.Arch, distro)
		comps[purl] = &cdx.Component{
			BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: p.Name, Version: p.Version, PackageURL: purl,
			Properties: &[]cdx.Property{{Name: propRole, Value: roleToolchain}},
		}
	}
	for _, s := range tc.Std {
		if err := addStd(comps, s, tc.Packages, distro); err != nil {
			return nil, err
		}
	}

	list := []cdx.Component{rustcComponent(info)}
	for _, c := range comps {
		list = append(list, *c)
	}
	slices.SortFunc(list[1:], func(a, b cdx.Component) int { return strings.Compare(a.BOMRef, b.BOMRef) })
	f := &cdx.Formula{BOMRef: "toolchain", Components: &list}
	if tc.Image != "" {
		f.Properties = &[]cdx.Property{{Name: propImage, Value: tc.Image}}
	}
	return f, nil
}

// addStd records a pinned std .deb: on the installed package dpkg lists
// for it when there is one (same name, version and arch), else as its own
// component, so one package is never two components.
func addStd(comps map[string]*cdx.Component, s StdPackage, installed []DebPackage, distro string) error {
	if !sha256Hex.MatchString(s.SHA256) {
		return fmt.Errorf("sbom: toolchain: std package %q: SHA-256 %q is not 64 lowercase hex digits", s.File, s.SHA256)
	}
	if s.File == "" || s.Triple == "" {
		return fmt.Errorf("sbom: toolchain: std package %+v lacks a file name or triple", s)
	}
	name, version, arch, ok := parseDebFile(s.File)
	var c *cdx.Component
	if ok {
		for _, p := range installed {
			if p.Name == name && p.Arch == arch && stripEpoch(p.Version) == version {
				c = comps[debPURL(p.Name, p.Version, p.Arch, distro)]
			}
		}
		if c == nil {
			purl := debPURL(name, version, arch, distro)
			c = &cdx.Component{BOMRef: purl, Type: cdx.ComponentTypeLibrary, Name: name, Version: version, PackageURL: purl}
			comps[purl] = c
		}
	} else {
		ref := "toolchain:std:" + s.Triple + ":" + s.File
		c = &cdx.Component{BOMRef: ref, Type: cdx.ComponentTypeLibrary, Name: s.File}
		comps[ref] = c
	}
	if c.Hashes != nil {
		return fmt.Errorf("sbom: toolchain: std package %q given twice", s.File)
	}
	c.Description = "Rust standard library for " + s.Triple + " (linked into the binary)"
	c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: s.SHA256}}
	c.Properties = sortedProps([]cdx.Property{
		{Name: propRole, Value: roleToolchain},
		{Name: propStdTriple, Value: s.Triple},
		{Name: propStdFile, Value: s.File},
	})
	return nil
}
