package pipeline

import (
	"path"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/target"
)

// SmokeTest runs the project's smoke script against the release binary of
// t: `<script> /release/<binary> [runner words...]`. Foreign binaries run
// under qemu-user inside the amd64 runner image, never as a foreign-platform
// container, so no binfmt is needed. With no smoke script it runs
// `<binary> --version` (through the runner) and checks it names the version.
func (p *Pipeline) SmokeTest(t target.Target, bin *dagger.File) *dagger.Container {
	binPath := "/release/" + p.cfg.Project.Binary
	ctr := p.Runner().
		WithMountedFile(binPath, bin).
		WithMountedDirectory("/src", p.cfg.Source).
		WithWorkdir("/src").
		WithEnvVariable("RELEASE_VERSION", p.cfg.Version).
		WithEnvVariable("RELEASE_TARGET", t.Name)
	if s := p.cfg.Project.SmokeTest; s != "" {
		script := "/smoke/" + path.Base(s)
		ctr = ctr.WithFile(script, p.cfg.Source.File(s), dagger.ContainerWithFileOpts{Permissions: 0o755})
		return ctr.WithExec(append([]string{script, binPath}, t.Runner...))
	}
	cmd := append(append([]string{}, t.Runner...), binPath, "--version")
	return ctr.
		WithExec(cmd, dagger.ContainerWithExecOpts{RedirectStdout: "/tmp/version"}).
		WithExec([]string{"sh", "-c", `grep -qF -- "$1" /tmp/version || { echo "--version printed '$(cat /tmp/version)', which does not name $1" >&2; exit 1; }`, "check-version", p.cfg.Version})
}
