package pipeline

import "dagger.io/dagger"

// Check runs `cargo fmt --check` and `cargo clippy -D warnings` on every
// target of the project (lib, bins, tests, examples) for the host.
func (p *Pipeline) Check() *dagger.Container {
	clippy := append([]string{"cargo", "clippy", "--all-targets"}, p.workspaceArgs()...)
	clippy = append(clippy, "--", "-D", "warnings")
	ctr := p.cargo(p.Toolchain(), "check").WithExec([]string{"cargo", "fmt", "--all", "--check"})
	return withCargo(ctr, clippy...)
}
