package pipeline

import (
	"fmt"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/target"
)

// ReleaseRustFlags are the flags of every release build: a static binary,
// and build paths remapped so that the binary is byte-identical whatever
// the machine and folder it was built in.
const ReleaseRustFlags = "-C target-feature=+crt-static --remap-path-prefix=/src=. --remap-path-prefix=/cargo=cargo"

// BuildLog is the file, in each target's target/ cache volume, that gets a
// line every time the engine actually runs that target's release build.
const BuildLog = "garage-release-builds.log"

// BuildContainer is the container after the release build of t; the binary
// is at /out/<binary>.
func (p *Pipeline) BuildContainer(t target.Target) *dagger.Container {
	bin := p.cfg.Project.Binary
	args := append([]string{"cargo", "build", "--release", "--target", t.Triple, "--bin", bin}, p.cargoArgs()...)
	// Always passing --target keeps RUSTFLAGS off build scripts and proc
	// macros, which must stay dynamic host programs.
	ctr := p.cargo(p.Toolchain(), t.Triple).
		WithEnvVariable("CARGO_TARGET_"+t.EnvTriple()+"_LINKER", t.Linker).
		WithEnvVariable("CARGO_TARGET_"+t.EnvTriple()+"_RUSTFLAGS", ReleaseRustFlags).
		// A static binary links C libraries' archives: pkg-config then
		// also names what they depend on (Libs.private).
		WithEnvVariable("PKG_CONFIG_ALL_STATIC", "1").
		WithEnvVariable("GIT_VERSION", p.cfg.Version).
		WithEnvVariable("SOURCE_DATE_EPOCH", fmt.Sprint(p.cfg.SourceDateEpoch))
	// The target/ directory is a cache volume, outside the container's
	// result: the binary is copied out so it becomes part of it. The line
	// appended to BuildLog counts the builds the engine really ran (a cached
	// release appends nothing).
	return withCargo(ctr.
		WithEnvVariable("COPY_BINARY", "/target/"+t.Triple+"/release/"+bin).
		WithEnvVariable("BUILD_LOG", "/target/"+BuildLog), "build-"+t.Name, args...)
}

// Build returns the static release binary for t.
func (p *Pipeline) Build(t target.Target) *dagger.File {
	return p.BuildContainer(t).File("/out/" + p.cfg.Project.Binary)
}
