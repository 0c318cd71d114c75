package pipeline

import "dagger.io/dagger"

// Test builds the project in debug mode and runs its tests on the host, in
// the runner image (toolchain plus test packages). See testCommands.
// A failing test fails the release, whatever the check policy says.
func (p *Pipeline) Test() *dagger.Container {
	ctr := p.cargo(p.Runner(), "test")
	cmds := p.testCommands()
	for i, cmd := range cmds {
		ctr = withCargoStep(ctr, "test", i == len(cmds)-1, cmd...)
	}
	return ctr
}

// testCommands are what the project's own CI builds and runs: `cargo
// build` then `cargo test` of the whole workspace (libraries, binaries,
// tests, examples, doc tests). Benches are left out, as `cargo test` leaves
// them: those written for libtest's #[bench] need a nightly compiler. The
// project's test-args widen it (--all-targets, --all-features).
func (p *Pipeline) testCommands() [][]string {
	build := append([]string{"cargo", "build"}, p.workspaceArgs()...)
	test := append(append([]string{"cargo", "test"}, p.workspaceArgs()...), p.cfg.Project.TestArgs...)
	return [][]string{build, test}
}
