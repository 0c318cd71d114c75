package pipeline

import "dagger.io/dagger"

// Test builds the project in debug mode and runs its unit and integration
// tests on the host, in the runner image (toolchain plus test packages).
// A failing test fails the release, whatever the check policy says.
func (p *Pipeline) Test() *dagger.Container {
	build := append([]string{"cargo", "build", "--all-targets"}, p.workspaceArgs()...)
	test := append([]string{"cargo", "test"}, p.workspaceArgs()...)
	return withCargo(withCargo(p.cargo(p.Runner(), "test"), "test", build...), "test", test...)
}
