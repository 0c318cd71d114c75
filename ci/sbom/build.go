package sbom

import (
	"bytes"
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	cdx "github.com/CycloneDX/cyclonedx-go"
)

// crateAcc gathers one crate's facts over all targets.
type crateAcc struct {
	pkg      *cargoPkg
	id       crateID
	checksum string
	roles    map[string]role // by target name
}

// release is what Build learns from all targets' metadata.
type release struct {
	app    *cargoPkg
	appID  crateID
	crates map[string]*crateAcc       // by bom-ref
	deps   map[string]map[string]bool // bom-ref -> linked bom-refs
}

// Build returns the CycloneDX JSON SBOM of the release described by in.
func Build(in Input) ([]byte, error) {
	if err := in.check(); err != nil {
		return nil, err
	}
	sums, err := parseLock(in.Lock)
	if err != nil {
		return nil, err
	}
	formula, err := toolchainFormula(in.Toolchain)
	if err != nil {
		return nil, err
	}
	rel := &release{crates: map[string]*crateAcc{}, deps: map[string]map[string]bool{}}
	for _, t := range in.Targets {
		if err := rel.addTarget(in, t, sums); err != nil {
			return nil, fmt.Errorf("sbom: target %q (%s): %w", t.Name, t.Triple, err)
		}
	}

	bom := cdx.NewBOM()
	bom.Version = 1
	app := rel.appComponent(in)
	bom.Metadata = &cdx.Metadata{
		Timestamp:  in.Timestamp.UTC().Format(time.RFC3339),
		Lifecycles: &[]cdx.Lifecycle{{Phase: cdx.LifecyclePhaseBuild}},
		Tools: &cdx.ToolsChoice{Components: &[]cdx.Component{{
			Type: cdx.ComponentTypeApplication, Name: "garage-release", Version: in.ToolVersion,
		}}},
		Component: &app,
	}
	comps := rel.components(in)
	bom.Components = &comps
	deps := rel.dependencies()
	bom.Dependencies = &deps
	bom.Formulation = &[]cdx.Formula{*formula}

	// The serial is a digest of the document without it.
	first, err := encode(bom)
	if err != nil {
		return nil, err
	}
	bom.SerialNumber = serialFor(first)
	return encode(bom)
}

func encode(bom *cdx.BOM) ([]byte, error) {
	var buf bytes.Buffer
	enc := cdx.NewBOMEncoder(&buf, cdx.BOMFileFormatJSON)
	enc.SetPretty(true).SetEscapeHTML(false)
	if err := enc.Encode(bom); err != nil {
		return nil, fmt.Errorf("sbom: encoding: %w", err)
	}
	return buf.Bytes(), nil
}

// addTarget folds one target's metadata into rel.
func (rel *release) addTarget(in Input, t Target, sums map[string]string) error {
	m, err := parseMetadata(t.Metadata)
	if err != nil {
		return err
	}
	root, err := m.binPackage(in.Package, in.Binary)
	if err != nil {
		return err
	}
	rootID, err := identify(root, m.WorkspaceRoot)
	if err != nil {
		return err
	}
	if rel.app == nil {
		rel.app, rel.appID = root, rootID
	} else if rel.appID.ref != rootID.ref {
		return fmt.Errorf("the binary's package is %s here but %s for another target", rootID.ref, rel.appID.ref)
	}
	g, err := analyze(m, root, t.Triple)
	if err != nil {
		return err
	}

	refs := map[string]string{root.ID: rootID.ref}
	for pkgID, r := range g.roles {
		p := g.pkgs[pkgID]
		id, err := identify(p, m.WorkspaceRoot)
		if err != nil {
			return err
		}
		refs[pkgID] = id.ref
		acc := rel.crates[id.ref]
		if acc == nil {
			acc = &crateAcc{pkg: p, id: id, roles: map[string]role{}}
			if id.kind == "registry" {
				sum, ok := lockChecksum(sums, p.Name, p.Version, *p.Source)
				if !ok {
					return fmt.Errorf("Cargo.lock has no entry for %s %s from %s: is it the lock cargo metadata used?", p.Name, p.Version, *p.Source)
				}
				acc.checksum = sum
			}
			rel.crates[id.ref] = acc
		}
		acc.roles[t.Name] = r
	}
	for from, tos := range g.edges {
		set := rel.deps[refs[from]]
		if set == nil {
			set = map[string]bool{}
			rel.deps[refs[from]] = set
		}
		for _, to := range tos {
			set[refs[to]] = true
		}
	}
	return nil
}

// components lists the crates: linked ones with scope required, build-time
// ones with scope excluded and the reason.
func (rel *release) components(in Input) []cdx.Component {
	var out []cdx.Component
	for _, acc := range rel.crates {
		var linked, present []string
		reason := roleBuildOnly
		for name, r := range acc.roles {
			present = append(present, name)
			switch r {
			case roleLinked:
				linked = append(linked, name)
			case roleProcMacro:
				reason = roleProcMacro
			}
		}
		scope, excluded, on := cdx.ScopeRequired, "", linked
		if len(linked) == 0 {
			scope, excluded, on = cdx.ScopeExcluded, reason.String(), present
		}
		var targets []string // nil: every target
		if len(on) < len(in.Targets) {
			targets = slices.Sorted(slices.Values(on))
		}
		out = append(out, crateComponent(acc.pkg, acc.id, acc.checksum, scope, excluded, targets))
	}
	slices.SortFunc(out, func(a, b cdx.Component) int {
		return cmp.Or(strings.Compare(a.Name, b.Name), strings.Compare(a.Version, b.Version), strings.Compare(a.BOMRef, b.BOMRef))
	})
	return out
}

// dependencies is the linked graph: the application and every linked
// crate, each with its sorted linked dependencies (none for a leaf).
func (rel *release) dependencies() []cdx.Dependency {
	refs := []string{rel.appID.ref}
	for ref, acc := range rel.crates {
		if slices.Contains(slices.Collect(maps.Values(acc.roles)), roleLinked) {
			refs = append(refs, ref)
		}
	}
	slices.Sort(refs)
	var out []cdx.Dependency
	for _, ref := range refs {
		d := cdx.Dependency{Ref: ref}
		if set := rel.deps[ref]; len(set) > 0 {
			on := slices.Sorted(maps.Keys(set))
			d.Dependencies = &on
		}
		out = append(out, d)
	}
	return out
}

// appComponent is metadata.component: the released binary.
func (rel *release) appComponent(in Input) cdx.Component {
	p := rel.app
	c := crateComponent(p, rel.appID, "", "", "", nil)
	c.Type = cdx.ComponentTypeApplication
	c.Name = cmp.Or(in.Binary, in.Project)
	c.Version = in.Version
	props := *c.Properties
	props = append(props,
		cdx.Property{Name: "garage-release:cargo-package", Value: p.Name},
		cdx.Property{Name: "garage-release:cargo-version", Value: p.Version},
	)
	if in.Project != "" {
		props = append(props, cdx.Property{Name: "garage-release:project", Value: in.Project})
	}
	for _, t := range in.Targets {
		props = append(props, cdx.Property{Name: "garage-release:target:" + t.Name, Value: t.Triple})
	}
	c.Properties = sortedProps(props)
	return c
}
