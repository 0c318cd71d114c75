package main

import (
	"context"
	"path/filepath"
	"slices"
	"testing"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/project"
)

// TestE2EGuideBuilds: the guide in docs/ is an mdBook that garage-release's
// own docs stage builds, every page of its summary included.
func TestE2EGuideBuilds(t *testing.T) {
	requireEngine(t)
	ctx := context.Background()
	c, err := dagger.Connect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	p, err := pipeline.New(c, pipeline.Config{
		Source:  c.Host().Directory(root, dagger.HostDirectoryOpts{Include: []string{"docs/"}}),
		Project: project.Settings{Name: "garage-release", Binary: "garage-release", Docs: "docs", Checks: project.DefaultChecks()},
	})
	if err != nil {
		t.Fatal(err)
	}
	entries, err := p.Docs().Entries(ctx)
	if err != nil {
		t.Fatalf("the docs stage failed on docs/: %s", pipeline.Describe(err))
	}
	for _, page := range []string{"index.html", "adopt.html", "settings.html", "commands.html", "engine.html", "performance.html"} {
		if !slices.Contains(entries, page) {
			t.Errorf("the built guide lacks %s: %v", page, entries)
		}
	}
}
