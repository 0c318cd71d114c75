package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"dagger.io/dagger"
)

// findingsFile records that a check found something while the project
// reports findings as warnings (see logScript's $TOLERATE).
func findingsFile(check string) string { return logDir + "/findings-" + check }

// Check runs the project's checks, as its check policy says: `cargo fmt
// --all --check` and `cargo clippy <targets> -- <clippy-args>` (the
// project's own [lints] tables and clippy.toml apply, as cargo reads them).
//
// With findings reported as warnings, clippy runs with --keep-going and
// --cap-lints warn: every finding of every crate is a warning, deny-by-
// default lints included, so no crate stops the linting of the others, and
// the container succeeds whatever was found; CheckFindings tells what.
// Nil when no check runs.
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
		ctr = withCargo(tolerate(ctr, "clippy"), "check", p.clippyCommand()...)
	}
	return ctr
}

// clippyCommand is the clippy command line of the check stage.
func (p *Pipeline) clippyCommand() []string {
	c := p.cfg.Project.Checks
	args := append([]string{"cargo", "clippy"}, p.lintTargets()...)
	if c.Warn {
		args = append(args, "--keep-going")
	}
	args = append(append(args, p.workspaceArgs()...), "--")
	args = append(args, c.ClippyArgs...)
	if c.Warn {
		args = append(args, "--cap-lints", "warn")
	}
	return args
}

// lintTargets selects what clippy compiles: every target, except benches
// that need a nightly compiler (#![feature]), which Debian's stable rustc
// cannot compile at all. Those are named in the summary instead
// (SkippedBenches).
func (p *Pipeline) lintTargets() []string {
	if len(p.SkippedBenches()) == 0 {
		return []string{"--all-targets"}
	}
	args := []string{"--lib", "--bins", "--tests", "--examples"}
	seen := map[string]bool{}
	for _, b := range p.cfg.Project.Benches {
		if !b.Nightly && !seen[b.Name] {
			seen[b.Name] = true
			args = append(args, "--bench", b.Name)
		}
	}
	return args
}

// SkippedBenches says which benches clippy leaves out, one line each.
func (p *Pipeline) SkippedBenches() []string {
	var out []string
	for _, b := range p.cfg.Project.Benches {
		if b.Nightly {
			out = append(out, fmt.Sprintf("clippy: bench %q (%s) needs a nightly compiler (#![feature]): not linted", b.Name, b.Path))
		}
	}
	return out
}

// CheckFindings reads, from a finished Check container, what the checks
// found when findings are warnings: one line per check that found
// something, naming the log to read; clippy's line counts per crate.
func CheckFindings(ctx context.Context, ctr *dagger.Container) ([]string, error) {
	entries, err := ctr.Directory(logDir).Entries(ctx)
	if err != nil {
		return nil, err
	}
	var out []string
	if has(entries, "findings-fmt") {
		out = append(out, "fmt: some files are not formatted as `cargo fmt` would (logs/check.log)")
	}
	log, err := ctr.File(logPath("check")).Contents(ctx)
	if err != nil {
		return nil, err
	}
	if line := clippyFindings(clippyPart(log), has(entries, "findings-clippy")); line != "" {
		out = append(out, line)
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

// clippyPart is the clippy command's output in the check log (which starts
// with fmt's).
func clippyPart(log string) string {
	if i := strings.LastIndex(log, "$ cargo clippy"); i >= 0 {
		return log[i:]
	}
	return ""
}

// clippyFindings describes clippy's findings: how many, in which crates.
// failed says clippy exited non-zero (a crate that did not compile).
func clippyFindings(log string, failed bool) string {
	total := countFindings(log)
	crates := findingsPerCrate(log)
	if total == 0 && len(crates) == 0 && !failed {
		return ""
	}
	if total == 0 {
		total = sumCounts(crates)
	}
	noun := "findings"
	if total == 1 {
		noun = "finding"
	}
	line := fmt.Sprintf("clippy: %d lint %s", total, noun)
	if len(crates) > 0 {
		parts := make([]string, len(crates))
		for i, c := range crates {
			parts[i] = fmt.Sprintf("%s %d", c.name, c.n)
		}
		in := "crates"
		if len(crates) == 1 {
			in = "crate"
		}
		line += fmt.Sprintf(" in %d %s (%s)", len(crates), in, strings.Join(parts, ", "))
	}
	return line + " (logs/check.log)"
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

// Cargo's closing line for each compiled target: `warning: `core` (lib
// test) generated 4 warnings (3 duplicates)`, or for one that failed
// `error: could not compile `c` (bench "nb") due to 1 previous error; 2
// warnings emitted`. Duplicates were reported for another target of the
// same crate already.
var (
	generated   = regexp.MustCompile("^warning: `([^`]+)` \\([^)]*\\) generated (\\d+) warnings?(?: \\((\\d+) duplicates?\\))?")
	notCompiled = regexp.MustCompile("^error: could not compile `([^`]+)`.* due to (\\d+) previous errors?(?:; (\\d+) warnings? emitted)?")
)

// submatchInt is the number in submatch i, 0 when absent.
func submatchInt(m []string, i int) int {
	n, _ := strconv.Atoi(m[i])
	return n
}

type crateFindings struct {
	name string
	n    int
}

// findingsPerCrate adds up cargo's closing lines per crate, by name.
func findingsPerCrate(log string) []crateFindings {
	counts := map[string]int{}
	for _, line := range strings.Split(log, "\n") {
		if m := generated.FindStringSubmatch(line); m != nil {
			counts[m[1]] += submatchInt(m, 2) - submatchInt(m, 3)
		} else if m := notCompiled.FindStringSubmatch(line); m != nil {
			counts[m[1]] += submatchInt(m, 2) + submatchInt(m, 3)
		}
	}
	var out []crateFindings
	for name, n := range counts {
		if n > 0 {
			out = append(out, crateFindings{name, n})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].name < out[j].name })
	return out
}

func sumCounts(cs []crateFindings) int {
	n := 0
	for _, c := range cs {
		n += c.n
	}
	return n
}
