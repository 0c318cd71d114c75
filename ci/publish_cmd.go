package main

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"

	"github.com/spf13/pflag"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/request"
	"github.com/garage-release/garage-release/ci/version"
)

// publishCommands work on the bucket and the registry.
func publishCommands() []command {
	return []command{
		{
			name:    "plan",
			summary: "print what 'release --publish' would upload and tag, and what already exists (no engine needed)",
			flags: func(fs *pflag.FlagSet, o *options) {
				sourceFlag(fs, o)
				binaryFlag(fs, o)
				targetsFlag(fs, o)
				versionFlags(fs, o)
				fs.StringVar(&o.dist, "dist", "dist", "a folder 'release' wrote: its binaries are compared by checksum when it holds this version")
				s3FlagSet(fs, o)
				registryNameFlags(fs, o)
				fs.BoolVar(&o.json, "json", false, "print the plan as JSON")
			},
			run: runPlan,
		},
		{
			name:    "publish",
			summary: "upload an exported dist/ to S3 and rebuild the release page (no engine needed)",
			flags: func(fs *pflag.FlagSet, o *options) {
				fs.StringVar(&o.dist, "dist", "dist", "the folder 'release' wrote")
				fs.BoolVar(&o.force, "force", false, "overwrite a stable version that is already published")
				s3FlagSet(fs, o)
				registryFlagSet(fs, o)
			},
			run: runPublish,
		},
		{
			name:    "promote",
			summary: "turn a published development build into a release, without rebuilding: S3 copies and a new image tag",
			flags: func(fs *pflag.FlagSet, o *options) {
				fs.StringVar(&o.from, "from", "", "the development build to promote (its 40-hex commit)")
				fs.StringVar(&o.to, "to", "", "the tag to publish it as, e.g. v1.2.3")
				fs.BoolVar(&o.force, "force", false, "overwrite a stable version that is already published")
				s3FlagSet(fs, o)
				registryFlagSet(fs, o)
			},
			run: runPromote,
		},
		{
			name:    "index",
			summary: "rebuild _releases.json and _releases.html from the bucket (no engine needed)",
			flags:   s3FlagSet,
			run: func(ctx context.Context, e *env, o *options) error {
				cfg, err := s3Config(e, o)
				if err != nil {
					return err
				}
				rep, err := publish.RebuildIndex(ctx, cfg)
				if err != nil {
					return err
				}
				return printJSON(e, rep)
			},
		},
	}
}

// s3Config reads the S3 settings from flags, then the environment, and
// checks them: a bad endpoint or missing credentials are usage errors.
func s3Config(e *env, o *options) (publish.Config, error) {
	return s3ConfigWith(e, o, false)
}

// s3ConfigWith is s3Config for a read that may be anonymous (verify).
func s3ConfigWith(e *env, o *options, anonymous bool) (publish.Config, error) {
	cfg := o.request(e).Publish.S3.Config(e.getenv(publish.EnvAccessKey), e.getenv(publish.EnvSecretKey), anonymous)
	if err := cfg.Validate(); err != nil {
		return cfg, &usageError{msg: err.Error()}
	}
	return cfg, nil
}

// imageRepo is <registry>/<image>, or "" when no registry is configured.
func imageRepo(e *env, o *options) (string, error) {
	return repoFor(e, o, o.project.ImageName())
}

// repoFor is <registry>/<image>; "" when no registry is configured; with an
// empty image, the prefix <registry>/ (promote reads the name from the
// build's manifest).
func repoFor(e *env, o *options, image string) (string, error) {
	repo, err := o.request(e).Publish.Registry.Repo(image)
	if err != nil {
		return "", &usageError{msg: err.Error()}
	}
	return repo, nil
}

// registryFor is the registry side of a publish, or nil without one.
func registryFor(e *env, o *options, repo string) *publish.Registry {
	if repo == "" {
		return nil
	}
	return &publish.Registry{Repo: repo, Auth: publish.RegistryAuth(e.getenv), Insecure: o.request(e).Publish.Registry.Insecure}
}

// runRelease checks both ends before the build when publishing: a wrong
// key, region or login, or a stable version already out, costs seconds.
func runRelease(ctx context.Context, e *env, o *options) error {
	announce(e, o)
	look, err := o.toolchainLookup(e)
	if err != nil {
		return err
	}
	pub := o.request(e).Publish
	var cfg publish.Config
	var reg *publish.Registry
	if pub.Enabled {
		if err := publishable(o); err != nil {
			return err
		}
		if cfg, err = s3Config(e, o); err != nil {
			return err
		}
		repo, err := imageRepo(e, o)
		if err != nil {
			return err
		}
		reg = registryFor(e, o, repo)
		fmt.Fprintln(e.stderr, "Checking the bucket and the registry before building...")
		intent := publish.Intent{Version: o.version.Version, Class: string(o.version.Class), Commit: o.version.Commit}
		if cfg, err = publish.Preflight(ctx, cfg, reg, intent, pub.Force, e.stderr); err != nil {
			return fmt.Errorf("%w\nNothing was built or published.", err)
		}
	}
	c, err := connect(ctx, e, o)
	if err != nil {
		return err
	}
	defer closeClient(c)
	res, err := runSharingToolchain(ctx, c, e, o, look, pipeline.AllStages)
	if err != nil {
		return err
	}
	if !pub.Enabled {
		return nil
	}
	return publishDist(ctx, e, pub.Force, cfg, reg, outDir(e, o), res.Manifest)
}

// publishDist publishes an exported dist/ (see publish.Publish for the
// order) and prints the outcome.
func publishDist(ctx context.Context, e *env, force bool, cfg publish.Config, reg *publish.Registry, dist string, m *manifest.Manifest) error {
	rep, err := publish.Publish(ctx, cfg, dist, m, publish.Options{Force: force, Progress: e.stderr, Registry: reg})
	if err != nil {
		return fmt.Errorf("publish: %w", err)
	}
	fmt.Fprintf(e.stderr, "Published %s (%s): %d objects uploaded, %d already there.\n",
		m.Version, m.Class, len(rep.Keys(publish.Uploaded)), len(rep.Keys(publish.Skipped)))
	return nil
}

// publishJob is what 'publish' does: dist/ to the bucket, the image to
// the registry.
type publishJob struct {
	S3    publish.Config
	Dist  string // absolute
	Image string // --image; "": the manifest's binary
	// Registry is the registry's prefix and transport; the repository
	// needs the manifest's binary when Image is empty.
	Registry request.Registry
	Force    bool
}

func (o *options) publishJob(e *env) (publishJob, error) {
	cfg, err := s3Config(e, o)
	if err != nil {
		return publishJob{}, err
	}
	req := o.request(e)
	job := publishJob{S3: cfg, Dist: distDir(e, o), Registry: req.Publish.Registry, Force: req.Publish.Force}
	if req.Project.Image != nil {
		job.Image = *req.Project.Image
	}
	return job, nil
}

// distDir is --dist, absolute.
func distDir(e *env, o *options) string {
	if filepath.IsAbs(o.dist) {
		return o.dist
	}
	return filepath.Join(e.workdir, o.dist)
}

func runPublish(ctx context.Context, e *env, o *options) error {
	job, err := o.publishJob(e)
	if err != nil {
		return err
	}
	data, err := os.ReadFile(filepath.Join(job.Dist, manifest.FileName))
	if err != nil {
		return usagef("--dist %s: %v: run 'go run ./ci release' first", o.dist, err)
	}
	m, err := manifest.Parse(data)
	if err != nil {
		return usagef("--dist %s: %v", o.dist, err)
	}
	image := job.Image
	if image == "" {
		image = m.Binary
	}
	repo, err := repoFor(e, o, image)
	if err != nil {
		return err
	}
	reg := registryFor(e, o, repo)
	cfg := job.S3
	if cfg, err = publish.Preflight(ctx, cfg, reg, publish.Intent{Version: m.Version, Class: m.Class, Commit: m.Commit}, job.Force, e.stderr); err != nil {
		return fmt.Errorf("%w\nNothing was published.", err)
	}
	return publishDist(ctx, e, job.Force, cfg, reg, job.Dist, m)
}

// promoteJob is what 'promote' does: which build becomes which release,
// in which bucket and registry.
type promoteJob struct {
	S3       publish.Config
	From, To string
	Repo     string // "<registry>/" + --image; "" without a registry
	Registry *publish.Registry
	Force    bool
}

func (o *options) promoteJob(e *env) (promoteJob, error) {
	from, err := version.NormalizeCommit(o.from)
	if err != nil {
		return promoteJob{}, usagef("--from: %v", err)
	}
	if err := version.ValidateTag(o.to); err != nil || o.to == "" {
		return promoteJob{}, usagef("--to %q: give the tag to release the build as, e.g. v1.2.3", o.to)
	}
	cfg, err := s3Config(e, o)
	if err != nil {
		return promoteJob{}, err
	}
	// Without --image, the name the build was pushed as.
	repo, err := repoFor(e, o, o.imageName)
	if err != nil {
		return promoteJob{}, err
	}
	return promoteJob{S3: cfg, From: from, To: o.to, Repo: repo, Registry: registryFor(e, o, repo), Force: o.request(e).Publish.Force}, nil
}

func runPromote(ctx context.Context, e *env, o *options) error {
	job, err := o.promoteJob(e)
	if err != nil {
		return err
	}
	opts := publish.PromoteOptions{Force: job.Force, Progress: e.stderr, Registry: job.Registry}
	rep, err := publish.Promote(ctx, job.S3, job.From, job.To, opts)
	if err != nil {
		return fmt.Errorf("promote: %w", err)
	}
	fmt.Fprintf(e.stderr, "Promoted %s to %s (%s): %d objects copied.\n", job.From, job.To, version.Classify(job.To), len(rep.Objects))
	return nil
}

// planJob is what 'plan' compares with the bucket and the registry.
type planJob struct {
	S3       publish.Config
	Manifest *manifest.Manifest
	// DistDir is --dist, where a dist/ of this version is looked for;
	// Dist is DistDir when it holds one (compared by checksum), else "".
	DistDir, Dist string
	Repo          string
	JSON          bool
}

func (o *options) planJob(e *env) (planJob, error) {
	if err := publishable(o); err != nil {
		return planJob{}, err
	}
	cfg, err := s3Config(e, o)
	if err != nil {
		return planJob{}, err
	}
	repo, err := imageRepo(e, o)
	if err != nil {
		return planJob{}, err
	}
	m := &manifest.Manifest{Version: o.version.Version, Class: string(o.version.Class), Commit: o.version.Commit, Binary: o.project.Binary}
	for _, t := range o.targetList {
		m.Targets = append(m.Targets, manifest.Artifact{Target: t.Name, Triple: t.Triple, Platform: t.Platform, Path: t.BinaryPath(o.project.Binary)})
	}
	// A dist/ of this very version is compared by checksum; otherwise the
	// keys come from the target table.
	dist := ""
	distDir := distDir(e, o)
	if data, err := os.ReadFile(filepath.Join(distDir, manifest.FileName)); err == nil {
		if built, err := manifest.Parse(data); err == nil && built.Version == m.Version {
			m, dist = built, distDir
		}
	}
	return planJob{S3: cfg, Manifest: m, DistDir: distDir, Dist: dist, Repo: repo, JSON: o.json}, nil
}

func runPlan(ctx context.Context, e *env, o *options) error {
	job, err := o.planJob(e)
	if err != nil {
		return err
	}
	plan, err := publish.Plan(ctx, job.S3, job.Manifest, job.Dist, job.Repo)
	if err != nil {
		return err
	}
	if job.JSON {
		return printJSON(e, plan)
	}
	return plan.Text(e.stdout)
}

func printJSON(e *env, v any) error {
	enc := json.NewEncoder(e.stdout)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}
