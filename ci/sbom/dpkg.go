package sbom

import (
	"fmt"
	"strings"
)

// ParseDpkg reads the output of
// `dpkg-query -W -f='${Package}\t${Version}\t${Architecture}\n'`.
// Lines with an empty version are skipped: dpkg-query lists packages it
// knows of but that are not installed that way.
func ParseDpkg(out string) ([]DebPackage, error) {
	var pkgs []DebPackage
	for i, line := range strings.Split(out, "\n") {
		line = strings.TrimRight(line, "\r")
		if strings.TrimSpace(line) == "" {
			continue
		}
		f := strings.Split(line, "\t")
		if len(f) != 3 {
			return nil, fmt.Errorf("sbom: dpkg-query line %d: %q: want package<TAB>version<TAB>architecture", i+1, line)
		}
		if f[0] == "" {
			return nil, fmt.Errorf("sbom: dpkg-query line %d: %q: no package name", i+1, line)
		}
		if f[1] == "" {
			continue
		}
		if f[2] == "" {
			return nil, fmt.Errorf("sbom: dpkg-query line %d: package %s has no architecture", i+1, f[0])
		}
		pkgs = append(pkgs, DebPackage{Name: f[0], Version: f[1], Arch: f[2]})
	}
	return pkgs, nil
}
