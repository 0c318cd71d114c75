package pipeline

import (
	"path"
	"strings"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/target"
)

// SmokeTest runs the project's smoke script against the release binary of
// t: `<script> /release/<binary> [runner words...]`. Foreign binaries run
// under qemu-user inside the amd64 runner image, never as a foreign-platform
// container, so no binfmt is needed. With no smoke script it runs
// `<binary> --version` (through the runner) and checks it names the version
// (see VersionNames).
func (p *Pipeline) SmokeTest(t target.Target, bin *dagger.File) *dagger.Container {
	binPath := "/release/" + p.cfg.Project.Binary
	ctr := p.Runner().
		WithMountedFile(binPath, bin).
		WithMountedDirectory("/src", p.cfg.Source).
		WithWorkdir("/src").
		WithEnvVariable("RELEASE_VERSION", p.cfg.Version).
		WithEnvVariable("RELEASE_TARGET", t.Name)
	log := logName("smoke", t.Name)
	if s := p.cfg.Project.SmokeTest; s != "" {
		script := "/smoke/" + path.Base(s)
		ctr = ctr.WithFile(script, p.cfg.Source.File(s), dagger.ContainerWithFileOpts{Permissions: 0o755})
		return withLogged(ctr, log, append([]string{script, binPath}, t.Runner...)...)
	}
	cmd := append(append([]string{}, t.Runner...), binPath, "--version")
	check := append([]string{"sh", "-c", versionCheckScript, "check-version", "/tmp/version"}, VersionNames(p.cfg.Version, p.cfg.Project.CargoVersion)...)
	// What --version printed goes to /tmp/version for the check, and to
	// the log.
	version := append([]string{"sh", "-c", `"$@" > /tmp/version; rc=$?; cat /tmp/version; exit $rc`, "version"}, cmd...)
	return withLogged(withLogged(ctr, log, version...), log, check...)
}

// versionCheckScript passes when its first argument, the file holding what
// --version printed, holds one of the others as a whole word: "1.19.0" is
// found in "rg 1.19.0" but not in "rg 11.19.0".
const versionCheckScript = `printed=$1
shift
for v in "$@"; do
  grep -qwF -- "$v" "$printed" && exit 0
done
names=$(printf '%s, ' "$@")
echo "--version printed '$(cat "$printed")', which names none of: ${names%, }" >&2
exit 1
`

// VersionNames are the versions `<binary> --version` may print for a
// release of version: the version itself; for a tag, also without (or
// with) its leading "v", since programs print "rg 1.19.0" for tag v1.19.0;
// and for a development build (a 40-hex commit, or "dev") the package's
// version from Cargo.toml, which is what a binary that does not read
// GIT_VERSION prints.
func VersionNames(version, cargoVersion string) []string {
	names := []string{version}
	add := func(v string) {
		for _, n := range names {
			if n == v {
				return
			}
		}
		names = append(names, v)
	}
	switch {
	case len(version) > 1 && version[0] == 'v' && isDigit(version[1]):
		add(version[1:])
	case len(version) > 0 && isDigit(version[0]) && !isCommit(version):
		add("v" + version)
	}
	if (version == "dev" || isCommit(version)) && cargoVersion != "" {
		add(cargoVersion)
	}
	return names
}

func isDigit(b byte) bool { return b >= '0' && b <= '9' }

// isCommit reports whether v is a 40-hex commit, a development build's name.
func isCommit(v string) bool {
	return len(v) == 40 && strings.Trim(v, "0123456789abcdef") == ""
}
