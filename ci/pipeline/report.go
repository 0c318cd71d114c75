package pipeline

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sort"
	"strings"
	"sync"
	"time"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/diagnose"
)

// Status is the outcome of one stage.
type Status string

// The outcomes a stage can have.
const (
	StatusOK       Status = "ok"
	StatusFailed   Status = "failed"
	StatusCanceled Status = "canceled" // stopped because another stage failed, or interrupted
)

// StageResult is one stage's outcome.
type StageResult struct {
	Stage    string        `json:"stage"`
	Target   string        `json:"target,omitempty"`
	Status   Status        `json:"status"`
	Duration time.Duration `json:"duration"`
	Err      error         `json:"-"`
}

// Name is "stage" or "stage target".
func (r StageResult) Name() string {
	if r.Target == "" {
		return r.Stage
	}
	return r.Stage + " " + r.Target
}

// Report collects stage outcomes, logs and warnings; it is safe for
// concurrent use.
type Report struct {
	mu       sync.Mutex
	started  time.Time
	progress io.Writer
	stages   []StageResult
	// logs maps a stage's log name ("build-amd64") to its full output.
	logs map[string]string
	// warnings are findings that did not fail the release.
	warnings []string
	// notes are about the run, not the release (the compile cache): they
	// are in the summary and never in the manifest, whose bytes must not
	// depend on what was cached.
	notes []string
	// cacheStats are the compile cache's figures by stage name.
	cacheStats map[string]SccacheStats

	// What is running, for the live lines or the heartbeat (see watch).
	running   map[string]runningStage
	cargo     map[string]string // log name -> "45/120"
	live      bool
	heartbeat time.Duration
	liveLines int

	// setting names where the project sets build-packages, for the hints
	// that explain a failed build script.
	setting diagnose.Setting
}

type runningStage struct {
	stage, target string
	since         time.Time
}

func newReport(progress io.Writer, live bool, heartbeat time.Duration) *Report {
	if heartbeat <= 0 {
		heartbeat = HeartbeatEvery
	}
	return &Report{started: time.Now(), progress: progress, logs: map[string]string{},
		running: map[string]runningStage{}, live: live, heartbeat: heartbeat}
}

// Logs returns each stage's full output by log name ("check", "test",
// "build-amd64", "smoke-arm64"), for the stages that got far enough to
// have one.
func (r *Report) Logs() map[string]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]string, len(r.logs))
	for k, v := range r.logs {
		out[k] = v
	}
	return out
}

func (r *Report) setLog(name, text string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.logs[name] = text
}

// Warnings returns the findings that were reported instead of failing.
func (r *Report) Warnings() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.warnings...)
}

func (r *Report) warn(w ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.warnings = append(r.warnings, w...)
}

// Notes returns the lines about the run that are not about the release.
func (r *Report) Notes() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.notes...)
}

// Note adds a line about the run to the summary (not to the manifest).
func (r *Report) Note(n ...string) { r.note(n...) }

func (r *Report) note(n ...string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.notes = append(r.notes, n...)
}

// CacheStats returns the compile cache's figures by stage name ("build
// amd64"), for the stages that compiled through it.
func (r *Report) CacheStats() map[string]SccacheStats {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]SccacheStats, len(r.cacheStats))
	for k, v := range r.cacheStats {
		out[k] = v
	}
	return out
}

func (r *Report) setCacheStats(name string, s SccacheStats) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cacheStats == nil {
		r.cacheStats = map[string]SccacheStats{}
	}
	r.cacheStats[name] = s
}

// Stages returns the outcomes in the order the stages ended.
func (r *Report) Stages() []StageResult {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]StageResult(nil), r.stages...)
}

// Failed returns the stages that failed (not those canceled because of them).
func (r *Report) Failed() []StageResult {
	var out []StageResult
	for _, s := range r.Stages() {
		if s.Status == StatusFailed {
			out = append(out, s)
		}
	}
	return out
}

// Elapsed is the time since the report started.
func (r *Report) Elapsed() time.Duration { return time.Since(r.started) }

func (r *Report) logf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.eraseLive()
	fmt.Fprintf(r.progress, "[%6.1fs] "+format+"\n", append([]any{time.Since(r.started).Seconds()}, args...)...)
	if r.live {
		r.drawLive()
	}
}

func (r *Report) add(s StageResult) {
	r.mu.Lock()
	r.stages = append(r.stages, s)
	r.mu.Unlock()
	switch s.Status {
	case StatusOK:
		r.logf("ok       %s (%.1fs)", s.Name(), s.Duration.Seconds())
	case StatusCanceled:
		r.logf("canceled %s", s.Name())
	default:
		r.logf("FAILED   %s (%.1fs): %s", s.Name(), s.Duration.Seconds(), firstLine(Describe(s.Err)))
	}
}

// Summary writes one line per stage, sorted by stage then target, and the
// details of each failure.
func (r *Report) Summary(w io.Writer) {
	stages := r.Stages()
	sort.SliceStable(stages, func(i, j int) bool {
		if stages[i].Stage != stages[j].Stage {
			return stageOrder(stages[i].Stage) < stageOrder(stages[j].Stage)
		}
		return stages[i].Target < stages[j].Target
	})
	for _, s := range stages {
		fmt.Fprintf(w, "  %-8s %-16s %7.1fs\n", s.Status, s.Name(), s.Duration.Seconds())
	}
	for _, warning := range r.Warnings() {
		fmt.Fprintf(w, "  warning  %s\n", warning)
	}
	stats := r.CacheStats()
	for _, s := range stages {
		if st, ok := stats[s.Name()]; ok && s.Status == StatusOK {
			fmt.Fprintf(w, "  cache    %-16s %s\n", s.Name(), st)
		}
	}
	for _, n := range r.Notes() {
		fmt.Fprintf(w, "  note     %s\n", n)
	}
	for _, s := range stages {
		if s.Status == StatusFailed {
			fmt.Fprintf(w, "\n%s failed:\n%s\n", s.Name(), indent(Describe(s.Err), "  "))
		}
	}
}

var stageNames = []string{"toolchain", "check", "test", "build", "verify", "smoke", "image", "docs", "assemble"}

func stageOrder(s string) int {
	for i, n := range stageNames {
		if n == s {
			return i
		}
	}
	return len(stageNames)
}

// StageError is the error of a failed stage: which stage, which target.
type StageError struct {
	Stage, Target string
	Err           error
}

func (e *StageError) Error() string { return e.Name() + ": " + Describe(e.Err) }

// Name is "stage" or "stage target".
func (e *StageError) Name() string {
	if e.Target == "" {
		return e.Stage
	}
	return e.Stage + " " + e.Target
}

func (e *StageError) Unwrap() error { return e.Err }

// HintedError is a failed command with what its output says the project
// must change (a build script missed a tool or a library).
type HintedError struct {
	Hints []diagnose.Hint
	Err   error
}

func (e *HintedError) Error() string { return Describe(e) }

func (e *HintedError) Unwrap() error { return e.Err }

// StderrTail is how many lines of a failed command's stderr are shown.
const StderrTail = 30

// Describe explains an error for people: for a failed command, the command,
// its exit code and the last lines of its output, instead of the engine's
// long GraphQL message.
func Describe(err error) string {
	if err == nil {
		return ""
	}
	var he *HintedError
	if errors.As(err, &he) {
		lines := make([]string, len(he.Hints))
		for i, h := range he.Hints {
			lines[i] = h.String()
		}
		return strings.Join(lines, "\n") + "\n" + Describe(he.Err)
	}
	var ee *dagger.ExecError
	if errors.As(err, &ee) {
		// Test runners print their failures on stdout and only a verdict on
		// stderr: show the end of both when both have something.
		msg := fmt.Sprintf("command %s exited with code %d:", quoteCmd(ee.Cmd), ee.ExitCode)
		stdout, stderr := strings.TrimSpace(ee.Stdout), strings.TrimSpace(ee.Stderr)
		switch {
		case stdout != "" && stderr != "":
			return msg + "\nstdout:\n" + tail(ee.Stdout, StderrTail) + "\nstderr:\n" + tail(ee.Stderr, StderrTail)
		case stdout != "":
			return msg + "\n" + tail(ee.Stdout, StderrTail)
		default:
			return msg + "\n" + tail(ee.Stderr, StderrTail)
		}
	}
	var se *StageError
	if errors.As(err, &se) {
		return se.Error()
	}
	return err.Error()
}

func quoteCmd(cmd []string) string {
	// The cargo wrapper is shown as the cargo command it ran.
	if len(cmd) > 4 && cmd[0] == "sh" && cmd[1] == "-c" && (cmd[3] == CargoFreshName || cmd[3] == LoggedName) {
		cmd = cmd[4:]
	}
	// A long inline script (the toolchain recipe) is named, not printed.
	parts := make([]string, len(cmd))
	for i, c := range cmd {
		if strings.Contains(c, "\n") {
			c = "<script>"
		} else if strings.ContainsAny(c, " \t'\"") {
			c = "'" + strings.ReplaceAll(c, "'", `'\''`) + "'"
		}
		parts[i] = c
	}
	return "`" + strings.Join(parts, " ") + "`"
}

func tail(s string, n int) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append([]string{fmt.Sprintf("... (%d lines before)", len(lines)-n)}, lines[len(lines)-n:]...)
	}
	return strings.Join(lines, "\n")
}

func indent(s, prefix string) string {
	return prefix + strings.ReplaceAll(s, "\n", "\n"+prefix)
}

func firstLine(s string) string {
	line, _, _ := strings.Cut(s, "\n")
	return line
}

// stage runs fn as a named stage: it waits for a slot when jobs are
// limited, times it, records the outcome and wraps its error.
func (r *Report) stage(ctx context.Context, slots chan struct{}, stage, tgt string, fn func(context.Context) error) error {
	if slots != nil {
		select {
		case slots <- struct{}{}:
			defer func() { <-slots }()
		case <-ctx.Done():
			r.add(StageResult{Stage: stage, Target: tgt, Status: StatusCanceled, Err: ctx.Err()})
			return ctx.Err()
		}
	}
	res := StageResult{Stage: stage, Target: tgt}
	start := time.Now()
	r.mu.Lock()
	r.running[res.Name()] = runningStage{stage: stage, target: tgt, since: start}
	r.mu.Unlock()
	r.logf("start    %s", res.Name())
	err := fn(ctx)
	res.Duration = time.Since(start)
	r.mu.Lock()
	delete(r.running, res.Name())
	r.mu.Unlock()
	switch {
	case err == nil:
		res.Status = StatusOK
	case ctx.Err() != nil:
		// Another stage failed first (or the run was interrupted): this one
		// did not fail on its own.
		res.Status, res.Err = StatusCanceled, ctx.Err()
	default:
		// The failed command's whole output is its stage's log; what it
		// says of a missing tool or library leads the error.
		var ee *dagger.ExecError
		if errors.As(err, &ee) {
			r.setLog(logName(stage, tgt), fmt.Sprintf("$ %s\n%s%s", strings.Trim(quoteCmd(ee.Cmd), "`"), ee.Stdout, ee.Stderr))
			if hints := diagnose.Explain(ee.Stdout+"\n"+ee.Stderr, r.setting); len(hints) > 0 {
				err = &HintedError{Hints: hints, Err: err}
			}
		}
		res.Status, res.Err = StatusFailed, err
	}
	r.add(res)
	if err != nil {
		if res.Status == StatusCanceled {
			return ctx.Err()
		}
		return &StageError{Stage: stage, Target: tgt, Err: err}
	}
	return nil
}
