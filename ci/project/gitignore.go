package project

import (
	"bufio"
	"bytes"
	"os"
	"path"
	"path/filepath"
	"strings"
)

// ignorer answers "does the engine's Gitignore filter drop this path?" on
// the host, so that what cargo needs can be uploaded again explicitly.
//
// It follows the engine's rules exactly (Dagger v0.21.8, which uses go-git's
// gitignore matcher): the root is the nearest folder at or above the project
// holding a .git entry (else the project itself); every .gitignore from that
// root down to a path's folder applies, each with its own folder as domain;
// the last matching pattern wins; .git/info/exclude and global excludes are
// not read. Each path is judged on its own: a file under an ignored folder
// matches that folder's pattern through its path components.
type ignorer struct {
	root   string   // the folder the engine reads .gitignore files from
	prefix []string // the project folder, relative to root, as components
	cache  map[string][]ignorePattern
}

func newIgnorer(dir string) (*ignorer, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	root := abs
	for cur := abs; ; {
		if _, err := os.Lstat(filepath.Join(cur, ".git")); err == nil {
			root = cur
			break
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			break
		}
		cur = parent
	}
	rel, err := filepath.Rel(root, abs)
	if err != nil {
		return nil, err
	}
	g := &ignorer{root: root, cache: map[string][]ignorePattern{}}
	if rel != "." {
		g.prefix = strings.Split(filepath.ToSlash(rel), "/")
	}
	return g, nil
}

// ignored reports whether the engine leaves out rel (slash-separated,
// relative to the project folder).
func (g *ignorer) ignored(rel string, isDir bool) bool {
	rel = path.Clean(rel)
	if rel == "." {
		return false
	}
	parts := append(append([]string{}, g.prefix...), strings.Split(rel, "/")...)
	dir := parts
	if !isDir {
		dir = parts[:len(parts)-1]
	}
	patterns := g.patterns(dir)
	for i := len(patterns) - 1; i >= 0; i-- {
		switch patterns[i].match(parts, isDir) {
		case ignoreExclude:
			return true
		case ignoreInclude:
			return false
		}
	}
	return false
}

// patterns returns the patterns that apply inside dir (components relative
// to root): those of every .gitignore from root down to dir, in order.
func (g *ignorer) patterns(dir []string) []ignorePattern {
	key := strings.Join(dir, "/")
	if ps, ok := g.cache[key]; ok {
		return ps
	}
	var ps []ignorePattern
	if len(dir) > 0 {
		ps = append(ps, g.patterns(dir[:len(dir)-1])...)
	}
	data, err := os.ReadFile(filepath.Join(append([]string{g.root}, dir...)...) + string(filepath.Separator) + ".gitignore")
	if err == nil {
		sc := bufio.NewScanner(bytes.NewReader(data))
		for sc.Scan() {
			line := strings.TrimSpace(sc.Text())
			if line == "" || strings.HasPrefix(line, "#") {
				continue
			}
			ps = append(ps, parseIgnorePattern(line, dir))
		}
	}
	g.cache[key] = ps
	return ps
}

type ignoreResult int

const (
	ignoreNoMatch ignoreResult = iota
	ignoreExclude
	ignoreInclude
)

// ignorePattern is one .gitignore line, with the folder it came from.
type ignorePattern struct {
	domain  []string
	parts   []string
	negate  bool // "!pattern": puts back what an earlier pattern left out
	dirOnly bool // "pattern/": folders only
	anchor  bool // the pattern holds a "/": matched from the domain down
}

func parseIgnorePattern(line string, domain []string) ignorePattern {
	p := ignorePattern{domain: append([]string(nil), domain...)}
	if strings.HasPrefix(line, "!") {
		p.negate = true
		line = line[1:]
	}
	if !strings.HasSuffix(line, `\ `) {
		line = strings.TrimRight(line, " ")
	}
	if strings.HasSuffix(line, "/") {
		p.dirOnly = true
		line = line[:len(line)-1]
	}
	p.anchor = strings.Contains(line, "/")
	p.parts = strings.Split(line, "/")
	return p
}

func (p ignorePattern) match(parts []string, isDir bool) ignoreResult {
	if len(parts) <= len(p.domain) {
		return ignoreNoMatch
	}
	for i, d := range p.domain {
		if parts[i] != d {
			return ignoreNoMatch
		}
	}
	rest := parts[len(p.domain):]
	var ok bool
	if p.anchor {
		ok = p.matchAnchored(rest, isDir)
	} else {
		ok = p.matchName(rest, isDir)
	}
	switch {
	case !ok:
		return ignoreNoMatch
	case p.negate:
		return ignoreInclude
	default:
		return ignoreExclude
	}
}

// matchName: a pattern without "/" matches any component of the path; a
// folder-only pattern matches the last component only when it is a folder.
func (p ignorePattern) matchName(rest []string, isDir bool) bool {
	for i, name := range rest {
		m, err := filepath.Match(p.parts[0], name)
		if err != nil {
			return false
		}
		if !m {
			continue
		}
		return !(p.dirOnly && !isDir && i == len(rest)-1)
	}
	return false
}

// matchAnchored: a pattern with "/" matches component by component from
// the domain, "**" standing for any number of folders. Like go-git, it also
// matches everything below what it names.
func (p ignorePattern) matchAnchored(rest []string, isDir bool) bool {
	matched, traverse := false, false
	for i, part := range p.parts {
		switch {
		case part == "":
			traverse = false
			continue
		case part == "**":
			if i == len(p.parts)-1 {
				return matched && p.dirOK(rest, isDir)
			}
			traverse = true
			continue
		case strings.Contains(part, "**"):
			return false
		case len(rest) == 0:
			return false
		}
		if traverse {
			traverse = false
			found := false
			for len(rest) > 0 {
				name := rest[0]
				rest = rest[1:]
				m, err := filepath.Match(part, name)
				if err != nil {
					return false
				}
				if m {
					found = true
					break
				}
			}
			matched = found
			if !found {
				return false
			}
			continue
		}
		m, err := filepath.Match(part, rest[0])
		if err != nil || !m {
			return false
		}
		matched = true
		rest = rest[1:]
	}
	return matched && p.dirOK(rest, isDir)
}

func (p ignorePattern) dirOK(rest []string, isDir bool) bool {
	return !(p.dirOnly && !isDir && len(rest) == 0)
}
