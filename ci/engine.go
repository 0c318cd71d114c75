package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/attest"
	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/outdir"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/project"
	"github.com/garage-release/garage-release/ci/trust"
	"github.com/garage-release/garage-release/ci/verified"
	"github.com/garage-release/garage-release/ci/version"
)

// engineHelp tells how to provide an engine; it is shown whenever the
// engine cannot be reached or the connection drops.
const engineHelp = `garage-release needs a Dagger engine (v0.21.8). Either:
  - have Docker running: the Dagger Go SDK then starts an engine by itself;
  - set _EXPERIMENTAL_DAGGER_RUNNER_HOST to a running engine
    (for example unix:///run/dagger/engine.sock or tcp://host:port),
    with the dagger CLI on PATH or in _EXPERIMENTAL_DAGGER_CLI_BIN;
  - or run under 'dagger run go run ./ci ...' (it sets DAGGER_SESSION_PORT).`

// engineError marks errors about reaching the engine itself: none could be
// reached, or the connection was lost during the run.
type engineError struct {
	err  error
	lost bool
}

func (e *engineError) Error() string {
	if e.lost {
		return fmt.Sprintf("the connection to the Dagger engine was lost during the run: %v\nNothing was exported or published; run the command again once the engine is back.\n%s", e.err, engineHelp)
	}
	return fmt.Sprintf("no Dagger engine reachable: %v\n%s", e.err, engineHelp)
}

// engineLost tells a dropped engine connection from a stage's own failure:
// a failed command is an ExecError; a transport error is the engine's.
func engineLost(err error) bool {
	var ee *dagger.ExecError
	if errors.As(err, &ee) {
		return false
	}
	var op *net.OpError
	if errors.As(err, &op) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) ||
		errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.ECONNREFUSED) || errors.Is(err, syscall.EPIPE) {
		return true
	}
	msg := err.Error()
	for _, s := range []string{"connection reset", "connection refused", "broken pipe", "use of closed network connection", ": EOF", "engine is shutting down"} {
		if strings.Contains(msg, s) {
			return true
		}
	}
	return false
}
func (e *engineError) Unwrap() error { return e.err }

// connect opens the engine session. The engine's own log goes to stderr
// only with --verbose: our progress lines are what a user reads.
func connect(ctx context.Context, e *env, o *options) (*dagger.Client, error) {
	var opts []dagger.ClientOpt
	if o.verbose {
		opts = append(opts, dagger.WithLogOutput(e.stderr))
	}
	c, err := e.dial(ctx, opts...)
	if err != nil {
		if ctx.Err() != nil {
			return nil, ctx.Err()
		}
		return nil, &engineError{err: err}
	}
	return c, nil
}

// closeClient ends the engine session without hanging on it: after the
// engine went away, the SDK can wait minutes for the session's output pipes.
func closeClient(c *dagger.Client) {
	done := make(chan struct{})
	go func() {
		c.Close()
		close(done)
	}()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
	}
}

// newPipeline uploads the source and returns the pipeline for o. memo
// (nil: none) spares reading back binaries already checked.
func newPipeline(c *dagger.Client, e *env, o *options, cc *pipeline.CompileCache, memo pipeline.VerifiedMemo) (*pipeline.Pipeline, error) {
	var src *dagger.Directory
	if o.projectDir == "" {
		fmt.Fprintln(e.stderr, "No Cargo.toml here and no --source: releasing the bundled example project (ci/example).")
		dir, err := pipeline.DirectoryFromFS(c, example.FS)
		if err != nil {
			return nil, err
		}
		src = dir
	} else {
		// The whole project, minus what changes without the sources
		// changing (target/, .git/, our output, what .gitignore leaves out):
		// those would change the cache key and rebuild every target. What
		// cargo needs that .gitignore leaves out (vendored sources, say)
		// follows in a second upload without that filter.
		out := ""
		if o.out != "" { // check and test take no --out
			out = outDir(e, o)
		}
		up, err := project.Upload(o.projectDir, o.project, out)
		if err != nil {
			return nil, fmt.Errorf("source %s: %w", o.projectDir, err)
		}
		src = c.Host().Directory(o.projectDir, dagger.HostDirectoryOpts{Exclude: up.Exclude, Gitignore: true})
		if len(up.Needed) > 0 {
			src = src.WithDirectory(".", c.Host().Directory(o.projectDir, dagger.HostDirectoryOpts{Include: up.Patterns(), Exclude: up.Exclude}))
		}
	}
	cfg := pipelineConfig(e, o)
	cfg.Source, cfg.RegistryAuth, cfg.CompileCache = src, engineRegistryAuth(c, e), cc
	cfg.Verified = memo
	return pipeline.New(c, cfg)
}

// verifiedMemo is the memo of the binaries already checked, kept in the
// user's cache folder; nil (every binary read back) without one.
func verifiedMemo(e *env) pipeline.VerifiedMemo {
	path, err := verified.DefaultPath()
	if err != nil {
		return nil
	}
	return verified.Open(path, e.stderr)
}

// pipelineConfig is the pipeline's configuration for o, but for what needs
// the engine (the source, the registry login): the project, its version,
// and the engine part from the request, as the module fills it.
func pipelineConfig(e *env, o *options) pipeline.Config {
	req := o.request(e)
	cfg := pipeline.Config{
		Project:         o.project,
		Targets:         o.targetList,
		Version:         o.version.Version,
		Class:           string(o.version.Class),
		Commit:          o.version.Commit,
		Date:            releaseDate(e),
		SourceDateEpoch: sourceDateEpoch(e, o),
		Progress:        e.stderr,
		// The engine's log and redrawn lines would mix.
		Live: isTerminal(e.stderr) && !req.Progress.Verbose,
	}
	req.Configure(&cfg)
	cfg.Untrusted = trust.Untrusted(req.Cache.Mode, e.getenv)
	return cfg
}

// isTerminal reports whether w is a terminal, where live lines can be
// redrawn; a CI log gets heartbeat lines instead.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	info, err := f.Stat()
	return err == nil && info.Mode()&os.ModeCharDevice != 0
}

// announce says what is about to be released, before anything is
// contacted: a wrong binary or version shows at once.
func announce(e *env, o *options) {
	fmt.Fprintf(e.stderr, "Project %s, binary %s, version %s (%s, from %s), targets %s\n",
		o.project.Name, o.project.Binary, o.version.Version, o.version.Class, o.version.Source, targetNames(o))
}

// releaseDate honours SOURCE_DATE_EPOCH, so a rebuild can reproduce dist/
// byte for byte.
func releaseDate(e *env) time.Time {
	if sec, ok := envEpoch(e); ok {
		return time.Unix(sec, 0).UTC()
	}
	return time.Now().UTC().Truncate(time.Second)
}

// sourceDateEpoch is the build's SOURCE_DATE_EPOCH: the caller's when set
// (reproducible-builds convention), else the commit's time, else 0 (the
// bundled example, a folder without git): always a value a rebuild of the
// same commit finds again, never the clock.
func sourceDateEpoch(e *env, o *options) int64 {
	if o.sourceDateEpoch != nil {
		return *o.sourceDateEpoch
	}
	if sec, ok := envEpoch(e); ok {
		return sec
	}
	if o.projectDir != "" && o.version.Commit != "" {
		if sec, err := version.CommitTime(o.projectDir, o.version.Commit); err == nil {
			return sec
		}
	}
	return 0
}

// envEpoch reads SOURCE_DATE_EPOCH from the environment.
func envEpoch(e *env) (int64, bool) {
	var sec int64
	s := e.getenv("SOURCE_DATE_EPOCH")
	if s == "" {
		return 0, false
	}
	if _, err := fmt.Sscan(s, &sec); err != nil || sec < 0 {
		return 0, false
	}
	return sec, true
}

func targetNames(o *options) string {
	s := ""
	for i, t := range o.targetList {
		if i > 0 {
			s += ","
		}
		s += t.Name
	}
	return s
}

// runStages runs stages, prints the summary and exports dist/ on success.
func runStages(ctx context.Context, c *dagger.Client, e *env, o *options, st pipeline.Stages) (*pipeline.Result, error) {
	cc, session := openCompileCache(ctx, c, e, o, pipelineConfig(e, o), st)
	p, err := newPipeline(c, e, o, cc, verifiedMemo(e))
	if err != nil {
		return nil, err
	}
	res, err := p.Run(ctx, st)
	// The packs of the stages that succeeded, even when another failed:
	// they are right, and the next attempt starts from them.
	session.Save(ctx, res)
	fmt.Fprintln(e.stderr, "\nSummary:")
	if res != nil {
		res.Report.Summary(e.stderr)
	}
	if err != nil {
		if ctx.Err() != nil {
			return res, fmt.Errorf("interrupted after %s: nothing was exported or published", res.Report.Elapsed().Round(time.Millisecond))
		}
		var se *pipeline.StageError
		if !errors.As(err, &se) || engineLost(se.Err) {
			return res, &engineError{err: err, lost: true}
		}
		msg := fmt.Sprintf("%s failed; nothing was exported or published", se.Name())
		if res != nil && len(res.Report.Logs()) > 0 {
			dir, werr := writeFailureLogs(e, o, res.Report.Logs())
			if werr != nil {
				msg += fmt.Sprintf(" (the stage logs could not be written: %v)", werr)
			} else {
				msg += fmt.Sprintf("; the stage logs are in %s", dir)
			}
		}
		return res, errors.New(msg)
	}
	if res.Dist != nil && st.Exports() {
		out := outDir(e, o)
		var complete func(string) error
		if res.Manifest != nil {
			opts := attestOptions(e, o)
			complete = func(dir string) error {
				// What publish reads: the completed manifest.
				var err error
				_, res.Manifest, err = attest.Finish(dir, opts)
				return err
			}
		}
		if err := exportDist(ctx, res.Dist, out, complete, protectedDirs(e, o)); err != nil {
			return res, err
		}
		fmt.Fprintf(e.stderr, "\nWrote %s in %s:\n", out, res.Report.Elapsed().Round(100*time.Millisecond))
		listDist(e.stderr, out)
	}
	return res, nil
}

// writeFailureLogs writes the logs of a failed run into a new folder of
// its own, under --logs or else the system's temporary folder: never in the
// project, where it would show in `git status`, and never over anything
// that exists.
func writeFailureLogs(e *env, o *options, logs map[string]string) (string, error) {
	parent := os.TempDir()
	if o.logs != "" {
		parent = o.logs
		if !filepath.IsAbs(parent) {
			parent = filepath.Join(e.workdir, parent)
		}
		if err := os.MkdirAll(parent, 0o755); err != nil {
			return "", err
		}
	}
	name := o.project.Name
	if name == "" {
		name = "project"
	}
	dir, err := os.MkdirTemp(parent, "garage-release-"+name+"-failed-logs-")
	if err != nil {
		return "", err
	}
	// Marked as ours: the next upload of the project leaves it out (it
	// may sit inside the project), and a later run may replace it.
	if err := outdir.Mark(dir); err != nil {
		return dir, err
	}
	for name, text := range logs {
		if err := os.WriteFile(filepath.Join(dir, name+".log"), []byte(text), 0o644); err != nil {
			return dir, err
		}
	}
	return dir, nil
}

func outDir(e *env, o *options) string {
	if filepath.IsAbs(o.out) {
		return o.out
	}
	return filepath.Join(e.workdir, o.out)
}

// exportDist writes dir to out as a whole, through outdir.Replace: the
// export goes to a fresh folder of its own and is swapped in only when
// complete, so a failed or interrupted export never leaves a dist/ that looks
// finished, and nothing but our own earlier output is ever removed.
//
// complete, when set, adds to the exported folder before the swap (the
// provenance and signatures: see attest), so dist/ appears whole or not at
// all.
func exportDist(ctx context.Context, dir *dagger.Directory, out string, complete func(string) error, protected []string) error {
	return outdir.Replace(out, func(tmp string) error {
		// tmp is a folder Replace just created: wiping it harms nothing.
		if _, err := dir.Export(ctx, tmp, dagger.DirectoryExportOpts{Wipe: true}); err != nil {
			return fmt.Errorf("export %s: %w", out, err)
		}
		if complete != nil {
			if err := complete(tmp); err != nil {
				return fmt.Errorf("%s: %w", out, err)
			}
		}
		return nil
	}, protected...)
}

// listDist prints what out holds, leaving out the marker and the docs
// site's pages (one line stands for docs/).
func listDist(w io.Writer, out string) {
	if real, err := outdir.Resolve(out); err == nil {
		out = real // WalkDir does not enter a root that is a link
	}
	filepath.WalkDir(out, func(path string, d os.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		rel, _ := filepath.Rel(out, path)
		if rel != outdir.Marker && !strings.HasPrefix(rel, "docs/") {
			info, _ := d.Info()
			fmt.Fprintf(w, "  %-48s %10d bytes\n", rel, info.Size())
		}
		return nil
	})
	if _, err := os.Stat(filepath.Join(out, "docs", "index.html")); err == nil {
		fmt.Fprintf(w, "  %-48s\n", "docs/ (the documentation site)")
	}
}

// publishable refuses versions that cannot be published.
func publishable(o *options) error {
	if o.version.Version == version.DefaultVersion {
		return usagef("no version to publish: pass --tag or --commit, or run in a git checkout or a CI job")
	}
	return nil
}
