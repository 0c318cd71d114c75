package pipeline_test

import (
	"context"
	"fmt"
	"os"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/target"
)

// A custom pipeline from the same stages: only arm64, its smoke test, and
// one extra test container of the maintainer's own that runs the binary
// under qemu with a flag the release does not test.
func Example_customPipeline() {
	ctx := context.Background()
	c, err := dagger.Connect(ctx, dagger.WithLogOutput(os.Stderr))
	if err != nil {
		fmt.Println("no engine:", err)
		return
	}
	defer c.Close()

	data, _ := example.FS.ReadFile("Cargo.toml")
	settings, err := project.Parse(data, example.FS)
	if err != nil {
		panic(err)
	}
	src, err := pipeline.DirectoryFromFS(c, example.FS)
	if err != nil {
		panic(err)
	}
	arm64, _ := target.Lookup("arm64")
	p, err := pipeline.New(c, pipeline.Config{
		Source: src, Project: settings, Targets: []target.Target{arm64}, Version: "v0.0.0-custom",
	})
	if err != nil {
		panic(err)
	}

	bin := p.Build(arm64)
	if _, err := p.Verify(ctx, arm64, bin); err != nil { // static, aarch64
		panic(err)
	}
	help, err := p.Runner().
		WithMountedFile("/kvstore", bin).
		WithExec(append(arm64.Runner, "/kvstore", "--help")).
		Stdout(ctx)
	if err != nil {
		panic(pipeline.Describe(err))
	}
	if _, err := p.SmokeTest(arm64, bin).Sync(ctx); err != nil {
		panic(pipeline.Describe(err))
	}
	fmt.Println(len(help) > 0)
}
