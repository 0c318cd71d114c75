package pipeline

import (
	"context"
	"fmt"
	"regexp"
	"sort"
	"strings"
	"time"
)

// progressDir is a shared cache volume where each running cargo command
// leaves its latest progress ("45/120: serde, syn"), one file per stage
// log. A stage that compiles for minutes thereby shows it is moving.
const progressDir = "/garage-release-progress"

// HeartbeatEvery is how often, when progress is not a terminal (CI logs),
// a line is printed for each running stage.
const HeartbeatEvery = 30 * time.Second

// liveEvery is how often the live lines are redrawn on a terminal.
const liveEvery = time.Second

// pollEvery is how often cargo's progress is read from the engine: one
// small exec each time.
const pollEvery = 3 * time.Second

// readProgress returns the latest cargo progress of each stage (by log
// name: "check", "build-amd64", ...). The exec is made unique so that the
// engine runs it every time instead of answering from its cache.
func (p *Pipeline) readProgress(ctx context.Context) (map[string]string, error) {
	out, err := p.c.Container().From(p.cfg.BaseImage).
		WithMountedCache(progressDir, p.cache("progress")).
		WithEnvVariable("GARAGE_RELEASE_POLL", fmt.Sprint(time.Now().UnixNano())).
		WithExec([]string{"sh", "-c", `cd "$1" || exit 0; for f in *; do [ -s "$f" ] && printf '%s\t%s\n' "$f" "$(tail -n 1 "$f")"; done; exit 0`, "poll", progressDir}).
		Stdout(ctx)
	if err != nil {
		return nil, err
	}
	got := map[string]string{}
	for _, line := range strings.Split(out, "\n") {
		if name, prog, ok := strings.Cut(line, "\t"); ok {
			if m := crateCount.FindString(prog); m != "" {
				got[name] = m
			}
		}
	}
	return got, nil
}

var crateCount = regexp.MustCompile(`^\d+/\d+`)

// logName is the name of a stage's log: "check", "build-amd64".
func logName(stage, tgt string) string {
	if tgt == "" {
		return stage
	}
	return stage + "-" + tgt
}

// watch shows the running stages until ctx ends: live lines on a terminal,
// else a heartbeat line per running stage every HeartbeatEvery. poll reads
// cargo's progress; it may be nil.
func (r *Report) watch(ctx context.Context, poll func(context.Context) (map[string]string, error)) {
	every := r.heartbeat
	if r.live {
		every = liveEvery
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	var lastPoll time.Time
	for {
		select {
		case <-ctx.Done():
			r.mu.Lock()
			r.eraseLive()
			r.mu.Unlock()
			return
		case <-tick.C:
		}
		if poll != nil && (r.live && time.Since(lastPoll) >= pollEvery || !r.live) && r.runningCount() > 0 {
			lastPoll = time.Now()
			pctx, cancel := context.WithTimeout(ctx, 10*time.Second)
			if got, err := poll(pctx); err == nil {
				r.mu.Lock()
				r.cargo = got
				r.mu.Unlock()
			}
			cancel()
		}
		r.mu.Lock()
		if r.live {
			r.eraseLive()
			r.drawLive()
		} else {
			for _, l := range r.runningLines() {
				fmt.Fprintf(r.progress, "[%6.1fs] running  %s\n", time.Since(r.started).Seconds(), l)
			}
		}
		r.mu.Unlock()
	}
}

func (r *Report) runningCount() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.running)
}

// runningLines describes each running stage: its name, how long it has
// run, and cargo's crate count when there is one. Call with r.mu held.
func (r *Report) runningLines() []string {
	names := make([]string, 0, len(r.running))
	for n := range r.running {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		a, b := r.running[names[i]], r.running[names[j]]
		if stageOrder(a.stage) != stageOrder(b.stage) {
			return stageOrder(a.stage) < stageOrder(b.stage)
		}
		return names[i] < names[j]
	})
	out := make([]string, len(names))
	for i, n := range names {
		s := r.running[n]
		line := fmt.Sprintf("%-16s %5.0fs", n, time.Since(s.since).Seconds())
		if c := r.cargo[logName(s.stage, s.target)]; c != "" {
			line += "  " + c + " crates compiled"
		}
		out[i] = line
	}
	return out
}

// drawLive prints the live block under the log lines. Call with r.mu held.
func (r *Report) drawLive() {
	lines := r.runningLines()
	for _, l := range lines {
		fmt.Fprintf(r.progress, "  ... %s\n", l)
	}
	r.liveLines = len(lines)
}

// eraseLive removes the live block, so a log line can take its place.
// Call with r.mu held.
func (r *Report) eraseLive() {
	for ; r.liveLines > 0; r.liveLines-- {
		fmt.Fprint(r.progress, "\x1b[1A\x1b[2K")
	}
}
