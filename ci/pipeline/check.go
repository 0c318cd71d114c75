package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"strings"

	"dagger.io/dagger"
)

// findingsFile records that a check found something while the project
// reports findings as warnings (see logScript's $TOLERATE).
func findingsFile(check string) string { return logDir + "/findings-" + check }

// Check runs the project's checks, as its check policy says: `cargo fmt
// --all --check` and `cargo clippy --all-targets -- <clippy-args>` (the
// project's own [lints] tables and clippy.toml apply, as cargo reads them).
// With findings reported as warnings the container succeeds either way and
// CheckFindings tells what was found. Nil when no check runs.
func (p *Pipeline) Check() *dagger.Container {
	c := p.cfg.Project.Checks
	if !c.Any() {
		return nil
	}
	ctr := p.cargo(p.Toolchain(), "check")
	tolerate := func(ctr *dagger.Container, check string) *dagger.Container {
		if c.Warn {
			return ctr.WithEnvVariable("TOLERATE", findingsFile(check))
		}
		return ctr
	}
	if c.Fmt {
		ctr = withLogged(tolerate(ctr, "fmt"), "check", "cargo", "fmt", "--all", "--check")
	}
	if c.Clippy {
		clippy := append([]string{"cargo", "clippy", "--all-targets"}, p.workspaceArgs()...)
		clippy = append(append(clippy, "--"), c.ClippyArgs...)
		ctr = withCargo(tolerate(ctr, "clippy"), "check", clippy...)
	}
	return ctr
}

// CheckFindings reads, from a finished Check container, what the checks
// found when findings are warnings: one line per check that found
// something, naming the log to read.
func CheckFindings(ctx context.Context, ctr *dagger.Container) ([]string, error) {
	entries, err := ctr.Directory(logDir).Entries(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	for _, check := range []string{"fmt", "clippy"} {
		if !has(entries, "findings-"+check) {
			continue
		}
		switch check {
		case "fmt":
			out = append(out, "fmt: some files are not formatted as `cargo fmt` would (logs/check.log)")
		case "clippy":
			log, err := ctr.File(logPath("check")).Contents(ctx)
			if err != nil {
				return nil, err
			}
			n := countFindings(log)
			noun := "findings"
			if n == 1 {
				noun = "finding"
			}
			out = append(out, fmt.Sprintf("clippy: %d lint %s (logs/check.log)", n, noun))
		}
	}
	return out, nil
}

func has(list []string, name string) bool {
	for _, e := range list {
		if strings.TrimSuffix(e, "/") == name {
			return true
		}
	}
	return false
}

// diagnostic is the first line of a rustc/clippy diagnostic; summaries
// ("could not compile", "generated 3 warnings", "aborting due to")
// are not findings.
var (
	diagnostic = regexp.MustCompile(`^(warning|error)(\[[A-Za-z0-9_:]+\])?: `)
	summary    = regexp.MustCompile(`could not compile|generated \d+ warnings?|aborting due to|build failed|warnings? emitted|previous errors?`)
)

// countFindings counts the diagnostics in clippy's output.
func countFindings(log string) int {
	n := 0
	for _, line := range strings.Split(log, "\n") {
		if diagnostic.MatchString(line) && !summary.MatchString(line) {
			n++
		}
	}
	return n
}
