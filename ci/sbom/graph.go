package sbom

import (
	"fmt"
)

// role is what a crate is to one target's binary.
type role int

const (
	roleLinked    role = iota // compiled for the target and linked into the binary
	roleProcMacro             // a proc-macro: runs inside rustc
	roleBuildOnly             // a build-dependency, or needed only by build-time crates
)

func (r role) String() string {
	switch r {
	case roleProcMacro:
		return "proc-macro"
	case roleBuildOnly:
		return "build-only"
	}
	return "linked"
}

// targetGraph is one target's view: the role of every crate the build
// needs (the binary's package excluded) and the edges between linked ones.
type targetGraph struct {
	pkgs  map[string]*cargoPkg // by cargo package id
	roles map[string]role      // by package id
	edges map[string][]string  // linked (or root) id -> linked dep ids
}

// analyze walks the resolve graph from root for triple.
func analyze(m *metadata, root *cargoPkg, triple string) (*targetGraph, error) {
	g := &targetGraph{pkgs: map[string]*cargoPkg{}, roles: map[string]role{}, edges: map[string][]string{}}
	for _, p := range m.Packages {
		g.pkgs[p.ID] = p
	}
	nodes := map[string]*resolveNode{}
	for i := range m.Resolve.Nodes {
		nodes[m.Resolve.Nodes[i].ID] = &m.Resolve.Nodes[i]
	}
	node := func(id string) (*resolveNode, error) {
		n := nodes[id]
		if n == nil || g.pkgs[id] == nil {
			return nil, fmt.Errorf("cargo metadata: package %s is not in both packages and resolve", id)
		}
		return n, nil
	}

	// Linked set: normal edges that hold for the triple, never into a
	// proc-macro (it and its own dependencies run in the compiler).
	queue := []string{root.ID}
	linked := map[string]bool{root.ID: true}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		n, err := node(id)
		if err != nil {
			return nil, err
		}
		for _, d := range n.Deps {
			if !normalEdge(d.DepKinds, triple) {
				continue
			}
			p := g.pkgs[d.Pkg]
			if p == nil {
				return nil, fmt.Errorf("cargo metadata: dependency %s of %s is not in packages", d.Pkg, id)
			}
			if p.isProcMacro() {
				continue
			}
			g.edges[id] = append(g.edges[id], d.Pkg)
			if !linked[d.Pkg] {
				linked[d.Pkg] = true
				g.roles[d.Pkg] = roleLinked
				queue = append(queue, d.Pkg)
			}
		}
	}

	// Build-time set: whatever else non-dev edges reach from the linked
	// crates (build scripts' dependencies, proc-macros and theirs), as
	// cargo's platform filter left them: these run on the build host.
	seen := map[string]bool{}
	for id := range linked {
		seen[id] = true
		queue = append(queue, id)
	}
	for len(queue) > 0 {
		id := queue[0]
		queue = queue[1:]
		n, err := node(id)
		if err != nil {
			return nil, err
		}
		for _, d := range n.Deps {
			if seen[d.Pkg] || !buildTimeEdge(d.DepKinds) {
				continue
			}
			p := g.pkgs[d.Pkg]
			if p == nil {
				return nil, fmt.Errorf("cargo metadata: dependency %s of %s is not in packages", d.Pkg, id)
			}
			seen[d.Pkg] = true
			g.roles[d.Pkg] = roleBuildOnly
			if p.isProcMacro() {
				g.roles[d.Pkg] = roleProcMacro
			}
			queue = append(queue, d.Pkg)
		}
	}
	return g, nil
}

// normalEdge: a normal (kind null) dependency that applies to triple.
func normalEdge(kinds []depKind, triple string) bool {
	for _, k := range kinds {
		if k.Kind == nil && (k.Target == nil || edgeApplies(*k.Target, triple)) {
			return true
		}
	}
	return false
}

// buildTimeEdge: anything but a dev-dependency.
func buildTimeEdge(kinds []depKind) bool {
	for _, k := range kinds {
		if k.Kind == nil || *k.Kind == "build" {
			return true
		}
	}
	return false
}
