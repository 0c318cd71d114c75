package sbom

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
)

// metadata is the part of `cargo metadata --format-version 1` we read.
type metadata struct {
	Version          int         `json:"version"`
	Packages         []*cargoPkg `json:"packages"`
	WorkspaceMembers []string    `json:"workspace_members"`
	WorkspaceRoot    string      `json:"workspace_root"`
	Resolve          *struct {
		Nodes []resolveNode `json:"nodes"`
		Root  *string       `json:"root"`
	} `json:"resolve"`
}

type cargoPkg struct {
	Name          string    `json:"name"`
	Version       string    `json:"version"`
	ID            string    `json:"id"`
	License       *string   `json:"license"`
	Description   *string   `json:"description"`
	Source        *string   `json:"source"`
	ManifestPath  string    `json:"manifest_path"`
	Repository    *string   `json:"repository"`
	Homepage      *string   `json:"homepage"`
	Documentation *string   `json:"documentation"`
	Publish       *[]string `json:"publish"` // null: anywhere; []: publish = false
	Targets       []struct {
		Name string   `json:"name"`
		Kind []string `json:"kind"`
	} `json:"targets"`
}

type depKind struct {
	Kind   *string `json:"kind"`   // null: normal; "dev"; "build"
	Target *string `json:"target"` // null, a cfg(...) or a triple
}

type resolveNode struct {
	ID   string `json:"id"`
	Deps []struct {
		Pkg      string    `json:"pkg"`
		DepKinds []depKind `json:"dep_kinds"`
	} `json:"deps"`
}

// parseMetadata decodes and sanity-checks cargo's JSON: a document that
// decodes but lacks the resolve graph would give an empty SBOM silently.
func parseMetadata(data []byte) (*metadata, error) {
	var m metadata
	dec := json.NewDecoder(bytes.NewReader(data))
	if err := dec.Decode(&m); err != nil {
		return nil, fmt.Errorf("not cargo metadata JSON: %w", err)
	}
	switch {
	case m.Version != 1:
		return nil, fmt.Errorf("not cargo metadata --format-version 1 output (version %d)", m.Version)
	case len(m.Packages) == 0 || m.WorkspaceRoot == "":
		return nil, errors.New("not cargo metadata output: no packages or workspace_root")
	case m.Resolve == nil:
		return nil, errors.New("cargo metadata has no resolve graph (run without --no-deps)")
	}
	for _, n := range m.Resolve.Nodes {
		for _, d := range n.Deps {
			if len(d.DepKinds) == 0 {
				return nil, fmt.Errorf("cargo metadata: dependency %s of %s has no dep_kinds (cargo older than 1.41?)", d.Pkg, n.ID)
			}
		}
	}
	return &m, nil
}

func (p *cargoPkg) hasTarget(kind, name string) bool {
	for _, t := range p.Targets {
		if slices.Contains(t.Kind, kind) && (name == "" || t.Name == name) {
			return true
		}
	}
	return false
}

// isProcMacro: proc-macro crates run inside rustc and link nothing into
// the binary.
func (p *cargoPkg) isProcMacro() bool { return p.hasTarget("proc-macro", "") }

// binPackage finds the package that builds the released binary.
func (m *metadata) binPackage(pkgName, bin string) (*cargoPkg, error) {
	byID := map[string]*cargoPkg{}
	for _, p := range m.Packages {
		byID[p.ID] = p
	}
	var members []*cargoPkg
	for _, id := range m.WorkspaceMembers {
		if p := byID[id]; p != nil {
			members = append(members, p)
		}
	}
	if pkgName != "" {
		for _, p := range members {
			if p.Name != pkgName {
				continue
			}
			if bin != "" && !p.hasTarget("bin", bin) {
				return nil, fmt.Errorf("package %q has no bin target %q", pkgName, bin)
			}
			return p, nil
		}
		return nil, fmt.Errorf("no workspace member named %q", pkgName)
	}
	if m.Resolve.Root != nil {
		if root := byID[*m.Resolve.Root]; root != nil && (bin == "" || root.hasTarget("bin", bin)) {
			return root, nil
		}
	}
	if bin == "" {
		return nil, errors.New("no binary name, no package name, and the workspace has no root package")
	}
	var found []*cargoPkg
	for _, p := range members {
		if p.hasTarget("bin", bin) {
			found = append(found, p)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("no workspace package has a bin target %q", bin)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("bin target %q is in several packages (%s, %s): set the package", bin, found[0].Name, found[1].Name)
}
