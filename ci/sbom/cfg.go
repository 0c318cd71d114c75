package sbom

import (
	"strings"
)

// A dependency edge's dep_kinds[].target is a cfg(...) expression or a
// triple. `cargo metadata --filter-platform` has already dropped the edges
// that do not hold for the triple; evaluating them again guards against
// metadata made without the filter. The evaluation is three-valued: a
// predicate we cannot decide from the triple alone (target_feature, a
// custom cfg...) is "unknown", and an unknown edge is kept, trusting
// cargo's filter, so that an edge is only dropped when it surely does not
// apply.

type tri int

const (
	triFalse tri = iota
	triTrue
	triUnknown
)

// edgeApplies reports whether a dep_kinds target holds for triple.
func edgeApplies(target, triple string) bool {
	target = strings.TrimSpace(target)
	if !strings.HasPrefix(target, "cfg(") {
		return target == triple
	}
	p := &cfgParser{s: target[len("cfg("):]}
	v, ok := p.expr(tripleCfg(triple))
	if !ok || strings.TrimSpace(p.s) != ")" {
		return true // not parsed: trust cargo's filter
	}
	return v != triFalse
}

type cfgParser struct{ s string }

func (p *cfgParser) skip() { p.s = strings.TrimLeft(p.s, " \t\n") }

func (p *cfgParser) ident() string {
	p.skip()
	i := 0
	for i < len(p.s) && (p.s[i] == '_' || p.s[i] >= 'a' && p.s[i] <= 'z' ||
		p.s[i] >= 'A' && p.s[i] <= 'Z' || p.s[i] >= '0' && p.s[i] <= '9') {
		i++
	}
	id := p.s[:i]
	p.s = p.s[i:]
	return id
}

func (p *cfgParser) eat(c byte) bool {
	p.skip()
	if len(p.s) > 0 && p.s[0] == c {
		p.s = p.s[1:]
		return true
	}
	return false
}

// expr parses one predicate: all(..), any(..), not(..), key or key = "value".
func (p *cfgParser) expr(env map[string][]string) (tri, bool) {
	id := p.ident()
	if id == "" {
		return triUnknown, false
	}
	switch id {
	case "all", "any":
		if !p.eat('(') {
			return triUnknown, false
		}
		res := triTrue
		if id == "any" {
			res = triFalse
		}
		for !p.eat(')') {
			v, ok := p.expr(env)
			if !ok {
				return triUnknown, false
			}
			res = combine(id, res, v)
			if !p.eat(',') {
				if !p.eat(')') {
					return triUnknown, false
				}
				break
			}
		}
		return res, true
	case "not":
		if !p.eat('(') {
			return triUnknown, false
		}
		v, ok := p.expr(env)
		if !ok || !p.eat(')') {
			return triUnknown, false
		}
		switch v {
		case triTrue:
			return triFalse, true
		case triFalse:
			return triTrue, true
		}
		return triUnknown, true
	}
	if !p.eat('=') {
		return lookup(env, id, ""), true
	}
	p.skip()
	if !strings.HasPrefix(p.s, `"`) {
		return triUnknown, false
	}
	end := strings.IndexByte(p.s[1:], '"')
	if end < 0 {
		return triUnknown, false
	}
	val := p.s[1 : 1+end]
	p.s = p.s[2+end:]
	return lookup(env, id, val), true
}

func combine(op string, acc, v tri) tri {
	if op == "all" {
		if acc == triFalse || v == triFalse {
			return triFalse
		}
		if acc == triUnknown || v == triUnknown {
			return triUnknown
		}
		return triTrue
	}
	if acc == triTrue || v == triTrue {
		return triTrue
	}
	if acc == triUnknown || v == triUnknown {
		return triUnknown
	}
	return triFalse
}

// lookup answers key (val "") or key = "val" from the triple's known cfg.
func lookup(env map[string][]string, key, val string) tri {
	vals, known := env[key]
	if !known {
		return triUnknown
	}
	if val == "" {
		if len(vals) == 1 && vals[0] == "" {
			return triTrue // a set flag such as unix
		}
		if len(vals) == 0 {
			return triFalse // a flag we know is unset
		}
		return triUnknown
	}
	for _, v := range vals {
		if v == val {
			return triTrue
		}
	}
	return triFalse
}

// tripleCfg derives the cfg values rustc would set for a triple, only those
// it can be sure of; a key missing from the map is unknown. Flags are
// {""} when set and {} when unset.
func tripleCfg(triple string) map[string][]string {
	parts := strings.Split(triple, "-")
	env := map[string][]string{}
	arch, width, endian := archCfg(parts[0])
	if arch != "" {
		env["target_arch"] = []string{arch}
		env["target_pointer_width"] = []string{width}
		if endian != "" {
			env["target_endian"] = []string{endian}
		}
	}
	if strings.HasSuffix(triple, "x32") { // x86_64 with 32-bit pointers
		delete(env, "target_pointer_width")
	}
	os := ""
	for _, p := range parts[1:] {
		switch {
		case p == "linux" || p == "windows" || p == "freebsd" || p == "netbsd" ||
			p == "openbsd" || p == "android" || p == "ios" || p == "illumos" || p == "none":
			os = p
		case p == "darwin":
			os = "macos"
		case strings.HasPrefix(p, "androideabi"):
			os = "android"
		case strings.HasPrefix(p, "wasi"):
			os = "wasi"
		}
	}
	switch os {
	case "":
		return env
	case "windows":
		env["target_family"] = []string{"windows"}
		env["windows"], env["unix"] = []string{""}, []string{}
	case "none", "wasi":
		env["windows"], env["unix"] = []string{}, []string{}
	default:
		env["target_family"] = []string{"unix"}
		env["unix"], env["windows"] = []string{""}, []string{}
	}
	env["target_os"] = []string{os}
	if os == "linux" || os == "windows" {
		last := parts[len(parts)-1]
		for _, e := range []string{"gnu", "musl", "msvc", "uclibc"} {
			if strings.HasPrefix(last, e) {
				env["target_env"] = []string{e}
			}
		}
	}
	return env
}

// archCfg maps a triple's first component to target_arch, pointer width
// and endianness ("" when unsure).
func archCfg(a string) (arch, width, endian string) {
	switch {
	case a == "x86_64":
		return "x86_64", "64", "little"
	case a == "i386" || a == "i586" || a == "i686":
		return "x86", "32", "little"
	case a == "aarch64" || a == "arm64":
		return "aarch64", "64", "little"
	case a == "aarch64_be":
		return "aarch64", "64", "big"
	case strings.HasPrefix(a, "armeb"):
		return "arm", "32", "big"
	case strings.HasPrefix(a, "arm") || strings.HasPrefix(a, "thumb"):
		return "arm", "32", "little"
	case strings.HasPrefix(a, "riscv64"):
		return "riscv64", "64", "little"
	case strings.HasPrefix(a, "riscv32"):
		return "riscv32", "32", "little"
	case a == "powerpc64le":
		return "powerpc64", "64", "little"
	case a == "powerpc64":
		return "powerpc64", "64", "big"
	case a == "powerpc":
		return "powerpc", "32", "big"
	case a == "s390x":
		return "s390x", "64", "big"
	case a == "loongarch64":
		return "loongarch64", "64", "little"
	case a == "wasm32":
		return "wasm32", "32", "little"
	}
	return "", "", ""
}
