package pipeline

import (
	"context"

	"dagger.io/dagger"
	"golang.org/x/sync/errgroup"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
)

// Stages selects what Run does. Smoke and Image imply Build.
type Stages struct {
	Check bool // cargo fmt --check, cargo clippy -D warnings
	Test  bool // debug build, unit and integration tests
	Build bool // static release binaries, verified, with SHA256SUMS and manifest.json
	Smoke bool // the smoke script on every release binary
	Image bool // the multi-platform image as dist/image.tar
	Docs  bool // the mdBook site as dist/docs/
	Page  bool // index.html and releases.json for this build
}

// Exports reports whether the stages produce files for dist/: checks and
// tests alone produce none.
func (s Stages) Exports() bool { return s.Build || s.Image || s.Docs || s.Page }

// AllStages is a whole release.
var AllStages = Stages{Check: true, Test: true, Build: true, Smoke: true, Image: true, Docs: true, Page: true}

// Result is what Run produced. Dist is nil when a stage failed: nothing that
// looks complete is handed out after a failure.
type Result struct {
	// Dist holds everything for dist/: <triple>/<binary>, SHA256SUMS,
	// manifest.json, image.tar, docs/, index.html, releases.json.
	Dist *dagger.Directory
	// Manifest describes the binaries (no image digest: that exists only
	// once the image is pushed).
	Manifest *manifest.Manifest
	// Images are the per-platform images, in target order, ready to be
	// published as one multi-platform index.
	Images []*dagger.Container
	// Report has every stage's outcome and time.
	Report *Report
}

// Run runs the selected stages as one DAG. Checks, tests, docs and every
// target's build start together; each target's verification, smoke test and
// image follow its build. The first failure cancels the rest; the returned
// error is a *StageError naming the stage and target that failed first,
// and Result.Report names every outcome.
func (p *Pipeline) Run(ctx context.Context, st Stages) (*Result, error) {
	if st.Smoke || st.Image || st.Page {
		st.Build = true
	}
	rep := newReport(p.cfg.Progress)
	res := &Result{Report: rep}
	var slots chan struct{}
	if p.cfg.Jobs > 0 {
		slots = make(chan struct{}, p.cfg.Jobs)
	}
	g, gctx := errgroup.WithContext(ctx)
	docs := p.Docs()
	if st.Docs && docs != nil {
		g.Go(func() error {
			return rep.stage(gctx, nil, "docs", "", func(ctx context.Context) error {
				_, err := docs.Sync(ctx)
				return err
			})
		})
	}
	targets := p.cfg.Targets
	arts := make([]manifest.Artifact, len(targets))
	bins := make([]*dagger.File, len(targets))
	images := make([]*dagger.Container, len(targets))
	if st.Check || st.Test || st.Build {
		// Everything else needs the toolchain: build it as a stage of its own
		// so its time shows apart, then fan out.
		g.Go(func() error {
			if err := rep.stage(gctx, nil, "toolchain", "", func(ctx context.Context) error {
				_, err := p.Runner().Sync(ctx)
				return err
			}); err != nil {
				return err
			}
			if st.Check {
				g.Go(func() error {
					return rep.stage(gctx, slots, "check", "", func(ctx context.Context) error {
						_, err := p.Check().Sync(ctx)
						return err
					})
				})
			}
			if st.Test {
				g.Go(func() error {
					return rep.stage(gctx, slots, "test", "", func(ctx context.Context) error {
						_, err := p.Test().Sync(ctx)
						return err
					})
				})
			}
			if st.Build {
				for i, t := range targets {
					g.Go(func() error {
						art, bin, img, err := p.runTarget(gctx, rep, slots, t, st)
						arts[i], bins[i], images[i] = art, bin, img
						return err
					})
				}
			}
			return nil
		})
	}
	if err := g.Wait(); err != nil {
		return res, err
	}

	dist := p.c.Directory()
	if st.Build {
		m := &manifest.Manifest{
			Version: p.cfg.Version, Class: p.cfg.Class, Commit: p.cfg.Commit,
			Date: p.cfg.Date, Binary: p.cfg.Project.Binary, Targets: arts,
		}
		if st.Docs && docs != nil {
			m.Docs = "docs/"
		}
		if err := m.Validate(); err != nil {
			return res, &StageError{Stage: "assemble", Err: err}
		}
		data, err := m.Marshal()
		if err != nil {
			return res, &StageError{Stage: "assemble", Err: err}
		}
		sums := manifest.Sums{}
		for i, a := range arts {
			sums[a.Path] = a.SHA256
			dist = dist.WithFile(a.Path, bins[i], dagger.DirectoryWithFileOpts{Permissions: 0o755})
		}
		dist = dist.
			WithNewFile(manifest.SumsName, string(sums.Format())).
			WithNewFile(manifest.FileName, string(data))
		res.Manifest = m
	}
	if st.Image {
		res.Images = images
		dist = dist.WithFile("image.tar", p.ImageTarball(images))
	}
	if st.Docs && docs != nil {
		dist = dist.WithDirectory("docs", docs)
	}
	if st.Page && res.Manifest != nil {
		idx := index.Build([]*manifest.Manifest{res.Manifest})
		page, err := idx.LocalHTML()
		if err != nil {
			return res, &StageError{Stage: "assemble", Err: err}
		}
		js, err := idx.LocalJSON()
		if err != nil {
			return res, &StageError{Stage: "assemble", Err: err}
		}
		dist = dist.WithNewFile("index.html", string(page)).WithNewFile("releases.json", string(js))
	}
	// Evaluate the whole directory (the image tarball above all) here, so
	// that an error shows up as a failed stage, not during the export.
	if err := rep.stage(ctx, nil, "assemble", "", func(ctx context.Context) error {
		var err error
		dist, err = dist.Sync(ctx)
		return err
	}); err != nil {
		return res, err
	}
	res.Dist = dist
	return res, nil
}

// runTarget builds, verifies, smoke-tests and packages one target.
func (p *Pipeline) runTarget(ctx context.Context, rep *Report, slots chan struct{}, t target.Target, st Stages) (manifest.Artifact, *dagger.File, *dagger.Container, error) {
	var art manifest.Artifact
	bin := p.Build(t)
	err := rep.stage(ctx, slots, "build", t.Name, func(ctx context.Context) error {
		var err error
		bin, err = bin.Sync(ctx)
		return err
	})
	if err != nil {
		return art, nil, nil, err
	}
	err = rep.stage(ctx, nil, "verify", t.Name, func(ctx context.Context) error {
		var err error
		art, err = p.Verify(ctx, t, bin)
		return err
	})
	if err != nil {
		return art, nil, nil, err
	}
	var img *dagger.Container
	sub, subctx := errgroup.WithContext(ctx)
	if st.Smoke {
		sub.Go(func() error {
			return rep.stage(subctx, slots, "smoke", t.Name, func(ctx context.Context) error {
				_, err := p.SmokeTest(t, bin).Sync(ctx)
				return err
			})
		})
	}
	if st.Image {
		sub.Go(func() error {
			return rep.stage(subctx, nil, "image", t.Name, func(ctx context.Context) error {
				var err error
				img, err = p.Image(t, bin).Sync(ctx)
				return err
			})
		})
	}
	if err := sub.Wait(); err != nil {
		return art, nil, nil, err
	}
	return art, bin, img, nil
}
