package pipeline

import (
	"context"
	"fmt"
	"sort"
	"sync"
	"time"

	"dagger.io/dagger"
	"golang.org/x/sync/errgroup"

	"github.com/garage-release/garage-release/ci/diagnose"
	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/outdir"
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
	// Toolchain is the toolchain the stages ran in, to push by its recipe
	// digest (see ToolchainTag).
	Toolchain *dagger.Container
	// CompilePacks are, by partition, the packs of compile cache entries
	// the stages that succeeded added (see CompileCache), to upload.
	CompilePacks map[string]*CacheUpload
	// TargetSnapshots are, by partition, the target/ volumes after the
	// stages that succeeded (see TargetSnapshots), to upload.
	TargetSnapshots map[string]*CacheUpload

	mu sync.Mutex
	// ctx is Run's: what is made for the upload outlives the stages.
	ctx context.Context
}

// addCacheUploads keeps what the stage that ended in ctr made for the
// compile cache in S3: the pack of its new sccache entries and the
// snapshot of its target/ volume.
func (r *Result) addCacheUploads(p *Pipeline, ctr *dagger.Container, partition string) {
	pack, snap := p.cacheUploads(ctr, partition)
	// Made now, beside the stages still running, not after the run: the
	// front end's upload then finds them done. A failure here is seen
	// again, and reported, by the upload.
	if pack != nil {
		go pack.Info.Sync(r.ctx)
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if pack != nil {
		if r.CompilePacks == nil {
			r.CompilePacks = map[string]*CacheUpload{}
		}
		r.CompilePacks[partition] = pack
	}
	if snap != nil {
		if r.TargetSnapshots == nil {
			r.TargetSnapshots = map[string]*CacheUpload{}
		}
		r.TargetSnapshots[partition] = snap
	}
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
	rep := newReport(p.cfg.Progress, p.cfg.Live, p.cfg.Heartbeat)
	rep.setting = diagnose.Setting{Table: p.cfg.Project.SettingsTable()}
	res := &Result{Report: rep, Toolchain: p.toolchain, ctx: ctx}
	wctx, stopWatch := context.WithCancel(ctx)
	watched := make(chan struct{})
	go func() {
		rep.watch(wctx, p.readProgress)
		close(watched)
	}()
	// The live lines are gone before Run returns and the summary prints.
	defer func() {
		stopWatch()
		<-watched
	}()
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
	var sbomFile *dagger.File
	var build *manifest.Build
	if st.Check || st.Test || st.Build {
		// Everything else needs the toolchain: build it as a stage of its own
		// so its time shows apart, then fan out.
		g.Go(func() error {
			// The compile cache's volumes are seeded while the toolchain
			// builds: both come before any compiling.
			seeded := make(chan struct{})
			go func() {
				p.seedCompileCache(gctx, rep, p.CachePartitions(st))
				close(seeded)
			}()
			err := rep.stage(gctx, nil, "toolchain", "", func(ctx context.Context) error {
				_, err := p.Runner().Sync(ctx)
				return err
			})
			<-seeded
			if err != nil {
				return err
			}
			check := p.Check()
			runCheck := func() error {
				return rep.stage(gctx, slots, "check", "", func(ctx context.Context) error {
					ctr, err := check.Sync(ctx)
					if err != nil {
						return err
					}
					if p.cfg.Project.Checks.Clippy {
						p.readCacheStats(ctx, rep, ctr, "check", "check")
						res.addCacheUploads(p, ctr, "check")
					}
					if p.cfg.Project.Checks.Clippy {
						rep.warn(p.SkippedBenches()...)
					}
					if p.cfg.Project.Checks.Warn {
						found, err := CheckFindings(ctx, ctr)
						if err != nil {
							return err
						}
						rep.warn(found...)
					}
					return rep.readLog(ctx, ctr, "check")
				})
			}
			if st.Check && check != nil {
				// Fail fast: on too few cores, the checks would crawl while
				// the builds take the CPU, and a lint found after minutes
				// cancels minutes of building. Run them first, alone.
				if n := p.concurrentStages(st); p.checksFirst(gctx, rep, n) {
					if err := runCheck(); err != nil {
						return err
					}
				} else {
					g.Go(runCheck)
				}
			}
			if st.Test {
				g.Go(func() error {
					return rep.stage(gctx, slots, "test", "", func(ctx context.Context) error {
						ctr, err := p.Test().Sync(ctx)
						if err != nil {
							return err
						}
						p.readCacheStats(ctx, rep, ctr, "test", "test")
						res.addCacheUploads(p, ctr, "test")
						return rep.readLog(ctx, ctr, "test")
					})
				})
			}
			if st.Build {
				g.Go(func() error {
					return rep.stage(gctx, nil, "sbom", "", func(ctx context.Context) error {
						var err error
						sbomFile, build, err = p.supplyChain(ctx)
						return err
					})
				})
				for i, t := range targets {
					g.Go(func() error {
						art, bin, img, err := p.runTarget(gctx, rep, slots, t, st, res)
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
			Warnings: rep.Warnings(), SBOM: manifest.SBOMName, Build: build,
		}
		for _, name := range sortedKeys(rep.Logs()) {
			m.Logs = append(m.Logs, LogFile(name))
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
			WithNewFile(manifest.FileName, string(data)).
			WithFile(manifest.SBOMName, sbomFile)
		res.Manifest = m
	}
	if st.Image {
		res.Images = images
		dist = dist.WithFile("image.tar", p.ImageTarball(images))
	}
	if st.Docs && docs != nil {
		dist = dist.WithDirectory("docs", docs)
	}
	for _, name := range sortedKeys(rep.Logs()) {
		dist = dist.WithNewFile(LogFile(name), rep.Logs()[name])
	}
	// The marker that lets the next run replace this folder (see outdir),
	// here so that the module's dist/ carries it as the CLI's does.
	dist = dist.WithNewFile(outdir.Marker, outdir.MarkerText)
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
func (p *Pipeline) runTarget(ctx context.Context, rep *Report, slots chan struct{}, t target.Target, st Stages, res *Result) (manifest.Artifact, *dagger.File, *dagger.Container, error) {
	var art manifest.Artifact
	var bin *dagger.File
	err := rep.stage(ctx, slots, "build", t.Name, func(ctx context.Context) error {
		ctr, err := p.BuildContainer(t).Sync(ctx)
		if err != nil {
			return err
		}
		bin = ctr.File("/out/" + p.cfg.Project.Binary)
		p.readCacheStats(ctx, rep, ctr, logName("build", t.Name), "build "+t.Name)
		res.addCacheUploads(p, ctr, t.Triple)
		return rep.readLog(ctx, ctr, logName("build", t.Name))
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
				ctr, err := p.SmokeTest(t, bin).Sync(ctx)
				if err != nil {
					return err
				}
				return rep.readLog(ctx, ctr, logName("smoke", t.Name))
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

// LogFile is where a stage's log goes in dist/ and in the release folder.
func LogFile(name string) string { return "logs/" + name + ".log" }

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// readLog keeps the log a finished stage's container holds.
func (r *Report) readLog(ctx context.Context, ctr *dagger.Container, name string) error {
	text, err := ctr.File(logPath(name)).Contents(ctx)
	if err != nil {
		return fmt.Errorf("reading the log of %s: %w", name, err)
	}
	r.setLog(name, text)
	return nil
}

// concurrentStages is how many heavy stages Run would start at once.
func (p *Pipeline) concurrentStages(st Stages) int {
	n := 0
	if st.Check {
		n++
	}
	if st.Test {
		n++
	}
	if st.Build {
		n += len(p.cfg.Targets)
	}
	if p.cfg.Jobs > 0 && n > p.cfg.Jobs {
		n = p.cfg.Jobs
	}
	return n
}

// checksFirst decides whether the checks run alone before the rest: when
// the engine has fewer cores than stages would run at once. It says so,
// since it changes what the user sees.
func (p *Pipeline) checksFirst(ctx context.Context, rep *Report, stages int) bool {
	cores := p.cfg.Cores
	if cores == 0 {
		var err error
		if cores, err = p.engineCores(ctx); err != nil {
			return false // unknown: keep the overlap
		}
	}
	if cores >= stages {
		return false
	}
	rep.logf("note     %d cores for %d stages: the checks run first, then the rest", cores, stages)
	return true
}

// engineCores asks the engine how many CPUs its containers get. The exec
// is unique so the answer is today's engine's, not a cached one.
func (p *Pipeline) engineCores(ctx context.Context) (int, error) {
	out, err := p.c.Container().From(p.cfg.BaseImage).
		WithEnvVariable("GARAGE_RELEASE_NPROC", fmt.Sprint(time.Now().UnixNano())).
		WithExec([]string{"nproc"}).Stdout(ctx)
	if err != nil {
		return 0, err
	}
	var n int
	if _, err := fmt.Sscan(out, &n); err != nil || n < 1 {
		return 0, fmt.Errorf("nproc said %q", out)
	}
	return n, nil
}
