package sbom

import (
	"fmt"
	"net/url"
	"path/filepath"
	"slices"
	"strings"

	cdx "github.com/CycloneDX/cyclonedx-go"
	"github.com/package-url/packageurl-go"
)

// Property names: one namespace, so they never clash with other tools'.
const (
	propSource   = "garage-release:source"
	propTargets  = "garage-release:targets"
	propExcluded = "garage-release:excluded"
	propRole     = "garage-release:role"
)

// crateID is how a crate is named in the document, the same for every
// target's metadata (no absolute path in it).
type crateID struct {
	ref    string // bom-ref
	purl   string // "" when none fits
	source string // garage-release:source
	kind   string // "registry", "git", "path" or "other"
}

// identify derives a crate's identity from its cargo source.
func identify(p *cargoPkg, wsRoot string) (crateID, error) {
	if p.Source == nil {
		rel, err := filepath.Rel(wsRoot, filepath.Dir(p.ManifestPath))
		if err != nil {
			return crateID{}, fmt.Errorf("cargo metadata: %s: manifest %s: %w", p.Name, p.ManifestPath, err)
		}
		rel = filepath.ToSlash(rel)
		id := crateID{ref: "path:" + rel + "#" + p.Name + "@" + p.Version, source: "path+" + rel, kind: "path"}
		if publishesToCratesIO(p) {
			id.purl = cargoPURL(p, nil)
		}
		return id, nil
	}
	src := *p.Source
	switch {
	case strings.HasPrefix(src, "registry+") || strings.HasPrefix(src, "sparse+"):
		var q packageurl.Qualifiers
		if !isCratesIO(src) {
			q = packageurl.Qualifiers{{Key: "repository_url", Value: src[strings.Index(src, "+")+1:]}}
		}
		purl := cargoPURL(p, q)
		return crateID{ref: purl, purl: purl, source: src, kind: "registry"}, nil
	case strings.HasPrefix(src, "git+"):
		purl := cargoPURL(p, packageurl.Qualifiers{{Key: "vcs_url", Value: gitVCSURL(src)}})
		return crateID{ref: purl, purl: purl, source: src, kind: "git"}, nil
	}
	return crateID{ref: "source:" + src + "#" + p.Name + "@" + p.Version, source: src, kind: "other"}, nil
}

func cargoPURL(p *cargoPkg, q packageurl.Qualifiers) string {
	return packageurl.NewPackageURL(packageurl.TypeCargo, "", p.Name, p.Version, q, "").ToString()
}

// publishesToCratesIO: `publish` unset allows every registry; a list must
// name crates-io; `publish = false` is the empty list.
func publishesToCratesIO(p *cargoPkg) bool {
	return p.Publish == nil || slices.Contains(*p.Publish, "crates-io")
}

// gitVCSURL turns cargo's "git+https://host/repo?branch=x#<commit>" into
// the purl vcs_url form "git+https://host/repo@<commit>".
func gitVCSURL(src string) string {
	base, commit, _ := strings.Cut(src, "#")
	base, _, _ = strings.Cut(base, "?")
	if commit == "" {
		return base
	}
	return base + "@" + commit
}

// licenseExpr turns cargo's license field into an SPDX expression; the
// old "MIT/Apache-2.0" form means OR.
func licenseExpr(s string) string {
	if strings.Contains(s, "/") {
		parts := strings.Split(s, "/")
		for i := range parts {
			parts[i] = strings.TrimSpace(parts[i])
		}
		s = strings.Join(parts, " OR ")
	}
	return strings.Join(strings.Fields(s), " ")
}

// pkgExternalRefs lists the manifest's links that are URLs (the schema
// wants IRI references; a bad value is left out, not made up).
func pkgExternalRefs(p *cargoPkg, id crateID) []cdx.ExternalReference {
	var refs []cdx.ExternalReference
	add := func(s *string, t cdx.ExternalReferenceType) {
		if s != nil && usableURL(*s) {
			refs = append(refs, cdx.ExternalReference{URL: *s, Type: t})
		}
	}
	add(p.Repository, cdx.ERTypeVCS)
	add(p.Homepage, cdx.ERTypeWebsite)
	add(p.Documentation, cdx.ERTypeDocumentation)
	if id.kind == "registry" && isCratesIO(id.source) {
		dl := "https://crates.io/api/v1/crates/" + url.PathEscape(p.Name) + "/" + url.PathEscape(p.Version) + "/download"
		refs = append(refs, cdx.ExternalReference{URL: dl, Type: cdx.ERTypeDistribution})
	}
	if id.kind == "git" {
		if u := strings.TrimPrefix(gitVCSURL(id.source), "git+"); usableURL(u) {
			refs = append(refs, cdx.ExternalReference{URL: u, Type: cdx.ERTypeVCS, Comment: "cargo git source"})
		}
	}
	return refs
}

func usableURL(s string) bool {
	if s == "" || strings.ContainsAny(s, " \t\n\"<>\\^`{|}") {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && u.Scheme != "" && u.Host != ""
}

// crateComponent describes one crate. scope and excluded come from the
// crate's roles; targets is nil when the crate is in every target.
func crateComponent(p *cargoPkg, id crateID, checksum string, scope cdx.Scope, excluded string, targets []string) cdx.Component {
	c := cdx.Component{
		BOMRef:     id.ref,
		Type:       cdx.ComponentTypeLibrary,
		Name:       p.Name,
		Version:    p.Version,
		Scope:      scope,
		PackageURL: id.purl,
	}
	if p.Description != nil {
		c.Description = strings.TrimSpace(*p.Description)
	}
	if checksum != "" {
		c.Hashes = &[]cdx.Hash{{Algorithm: cdx.HashAlgoSHA256, Value: checksum}}
	}
	if p.License != nil && strings.TrimSpace(*p.License) != "" {
		c.Licenses = &cdx.Licenses{{Expression: licenseExpr(*p.License)}}
	}
	if refs := pkgExternalRefs(p, id); len(refs) > 0 {
		c.ExternalReferences = &refs
	}
	props := []cdx.Property{{Name: propSource, Value: id.source}}
	if targets != nil {
		props = append(props, cdx.Property{Name: propTargets, Value: strings.Join(targets, ",")})
	}
	if excluded != "" {
		props = append(props, cdx.Property{Name: propExcluded, Value: excluded})
	}
	c.Properties = sortedProps(props)
	return c
}

func sortedProps(props []cdx.Property) *[]cdx.Property {
	slices.SortStableFunc(props, func(a, b cdx.Property) int {
		return strings.Compare(a.Name+"\x00"+a.Value, b.Name+"\x00"+b.Value)
	})
	return &props
}
