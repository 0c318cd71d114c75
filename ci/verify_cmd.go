package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"

	"github.com/spf13/pflag"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/publish"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/version"
)

// verifyCommand rebuilds a published release and compares the bytes.
func verifyCommand() command {
	return command{
		name:    "verify",
		arg:     "version",
		summary: "rebuild a published release from --source in fresh cache volumes and compare every binary's sha256 (and the image digest) with the published ones",
		flags: func(fs *pflag.FlagSet, o *options) {
			fs.StringVar(&o.source, "source", "", "the project, checked out at the release's commit (default: the current folder)")
			stageFlags(fs, o)
			s3FlagSet(fs, o)
		},
		run: runVerify,
	}
}

// comparison is one row of verify's table.
type comparison struct {
	what, published, rebuilt string
}

func (c comparison) same() bool { return c.published == c.rebuilt }

func runVerify(ctx context.Context, e *env, o *options) error {
	// Anyone may verify a public release: without credentials the bucket
	// is read anonymously.
	anonymous := e.getenv(publish.EnvAccessKey) == "" && e.getenv(publish.EnvSecretKey) == ""
	cfg, err := s3ConfigWith(e, o, anonymous)
	if err != nil {
		return err
	}
	if anonymous {
		fmt.Fprintf(e.stderr, "No S3 credentials (%s, %s): reading the bucket anonymously.\n", publish.EnvAccessKey, publish.EnvSecretKey)
	}
	m, err := publish.FetchManifest(ctx, cfg, o.arg)
	if err != nil {
		return fmt.Errorf("verify %s: %w", o.arg, err)
	}
	if err := o.matchRelease(e, m); err != nil {
		return err
	}
	fmt.Fprintf(e.stderr, "Rebuilding %s (%s, commit %s) for %s in fresh cache volumes (%s)...\n",
		m.Version, m.Class, orNone(m.Commit), targetNames(o), o.cacheNamespace)
	c, err := connect(ctx, e, o)
	if err != nil {
		return err
	}
	defer closeClient(c)
	st := pipeline.Stages{Build: true, Image: m.Build != nil && m.Build.ImageDigest != ""}
	// A rebuild to compare owes nothing to any cache: no compile cache, and
	// no memo of checked binaries (every binary is read back and checked).
	p, err := newPipeline(c, e, o, nil, nil)
	if err != nil {
		return err
	}
	res, err := p.Run(ctx, st)
	if err != nil {
		fmt.Fprintln(e.stderr, "\nSummary:")
		msg := ""
		if res != nil {
			res.Report.Summary(e.stderr)
			// As release does: the failed stages' logs go under --logs.
			if logs := res.Report.Logs(); len(logs) > 0 {
				if dir, werr := writeFailureLogs(e, o, logs); werr != nil {
					msg = fmt.Sprintf(" (the stage logs could not be written: %v)", werr)
				} else {
					msg = "; the stage logs are in " + dir
				}
			}
		}
		return fmt.Errorf("verify %s: the rebuild failed: %s%s", m.Version, pipeline.Describe(err), msg)
	}
	rows := compareBinaries(m, res.Manifest)
	if pb, rb := m.Build, res.Manifest.Build; pb != nil && rb != nil {
		// Not a verdict by itself (the bytes decide), but the first
		// suspect when they differ.
		if pb.Toolchain != rb.Toolchain || pb.BaseImage != rb.BaseImage {
			fmt.Fprintf(e.stderr, "note: the toolchain differs from the release's: published %s on %s, now %s on %s\n",
				pb.Toolchain, orNone(pb.BaseImage), rb.Toolchain, orNone(rb.BaseImage))
		}
	}
	if st.Image {
		digest, err := rebuiltImageDigest(ctx, res)
		if err != nil {
			return fmt.Errorf("verify %s: %w", m.Version, err)
		}
		rows = append(rows, comparison{what: "image", published: m.Build.ImageDigest, rebuilt: digest})
	}
	differ := printComparison(e.stdout, rows)
	if differ > 0 {
		return fmt.Errorf("verify %s: %d of %d differ from the published release: the rebuild is not byte-identical", m.Version, differ, len(rows))
	}
	fmt.Fprintf(e.stderr, "%s is reproducible: all %d match the published release.\n", m.Version, len(rows))
	return nil
}

// matchRelease points the options at the published build: its targets,
// package, features, version and SOURCE_DATE_EPOCH, a toolchain image it
// was built with, and a cache namespace of its own. The source must be at
// the release's commit: a rebuild of other sources proves nothing.
func (o *options) matchRelease(e *env, m *manifest.Manifest) error {
	if o.projectDir == "" {
		return usagef("verify needs the project's sources: pass --source (a checkout of %s)", orNone(m.Commit))
	}
	if m.Commit != "" && o.version.Commit != m.Commit {
		return usagef("%s was built from commit %s but %s is at %s: check that commit out (git checkout %s) and run verify again",
			m.Version, m.Commit, o.projectDir, orNone(o.version.Commit), m.Commit)
	}
	if o.version.Dirty {
		fmt.Fprintf(e.stderr, "warning: %s has uncommitted changes: they are part of the rebuild\n", o.projectDir)
	}
	o.targetList = nil
	for _, a := range m.Targets {
		t, err := target.Lookup(a.Target)
		if err != nil {
			return fmt.Errorf("verify %s: %w", m.Version, err)
		}
		o.targetList = append(o.targetList, t)
	}
	if m.Build != nil {
		o.project.Package, o.project.Features = m.Build.Package, m.Build.Features
		if strings.Contains(m.Build.Toolchain, "@sha256:") && o.toolchainImage == "" {
			o.toolchainImage = m.Build.Toolchain
		}
		o.sourceDateEpoch = &m.Build.SourceDateEpoch
	}
	o.project.Binary = m.Binary
	o.version.Version, o.version.Commit = m.Version, m.Commit
	o.version.Class = version.Classify(m.Version)
	if !o.set["cache-namespace"] {
		o.cacheNamespace += "-verify-" + randomSuffix(6)
	}
	return nil
}

func compareBinaries(published, rebuilt *manifest.Manifest) []comparison {
	got := map[string]string{}
	for _, a := range rebuilt.Targets {
		got[a.Target] = a.SHA256
	}
	var rows []comparison
	for _, a := range published.Targets {
		rows = append(rows, comparison{what: a.Path, published: a.SHA256, rebuilt: got[a.Target]})
	}
	return rows
}

// printComparison writes the table and returns how many rows differ.
func printComparison(w io.Writer, rows []comparison) int {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "RESULT\tARTIFACT\tPUBLISHED\tREBUILT")
	differ := 0
	for _, r := range rows {
		result := "same"
		if !r.same() {
			result, differ = "DIFFERS", differ+1
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", result, r.what, orNone(r.published), orNone(r.rebuilt))
	}
	tw.Flush()
	return differ
}

// rebuiltImageDigest exports the rebuilt image tarball and reads the
// digest it would be pushed as.
func rebuiltImageDigest(ctx context.Context, res *pipeline.Result) (string, error) {
	dir, err := os.MkdirTemp("", "garage-release-verify-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	tarball := filepath.Join(dir, publish.ImageTarball)
	if _, err := res.Dist.File(publish.ImageTarball).Export(ctx, tarball); err != nil {
		return "", fmt.Errorf("export the rebuilt image: %w", err)
	}
	digest, _, err := publish.TarballDigest(tarball)
	return digest, err
}

func orNone(s string) string {
	if s == "" {
		return "(none)"
	}
	return s
}

func randomSuffix(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
