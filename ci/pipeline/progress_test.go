package pipeline

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"dagger.io/dagger"
)

// syncBuffer is a strings.Builder safe for the watcher and the stages.
type syncBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// A stage that prints nothing for a long time still shows, in a CI log, a
// line per heartbeat with its elapsed time and cargo's count.
func TestHeartbeatShowsRunningStages(t *testing.T) {
	var out syncBuffer
	r := newReport(&out, false, 20*time.Millisecond)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		r.watch(ctx, func(context.Context) (map[string]string, error) {
			return map[string]string{"build-arm64": "45/120"}, nil
		})
		close(done)
	}()
	release := make(chan struct{})
	go r.stage(ctx, nil, "build", "arm64", func(context.Context) error { <-release; return nil })
	deadline := time.Now().Add(5 * time.Second)
	for !strings.Contains(out.String(), "45/120 crates compiled") && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	close(release)
	cancel()
	<-done
	log := out.String()
	if !strings.Contains(log, "running  build arm64") || !strings.Contains(log, "45/120 crates compiled") {
		t.Errorf("no heartbeat line for the running build:\n%s", log)
	}
	if strings.Contains(log, "\x1b[") {
		t.Errorf("a CI log got terminal escapes:\n%q", log)
	}
}

// On a terminal the live block is redrawn in place: every line it draws is
// erased before the next log line, so the log stays readable.
func TestLiveLinesAreErasedBeforeLogLines(t *testing.T) {
	var out syncBuffer
	r := newReport(&out, true, 0)
	r.running["test"] = runningStage{stage: "test", since: time.Now()}
	r.cargo = map[string]string{"test": "3/9"}
	r.mu.Lock()
	r.drawLive()
	r.mu.Unlock()
	r.logf("ok       check (1.0s)")
	got := out.String()
	drawn := strings.Index(got, "... test")
	erased := strings.Index(got, "\x1b[1A\x1b[2K")
	logged := strings.Index(got, "ok       check")
	if drawn < 0 || erased < drawn || logged < erased || !strings.Contains(got, "3/9 crates compiled") {
		t.Errorf("live block, erase, log line not in order:\n%q", got)
	}
}

// A failed command's whole output becomes its stage's log.
func TestFailedStageKeepsItsLog(t *testing.T) {
	r := newReport(&syncBuffer{}, false, 0)
	err := &dagger.ExecError{Cmd: []string{"sh", "-c", "script", CargoFreshName, "cargo", "clippy"}, ExitCode: 101, Stdout: "error: lint\nwarning: more\n"}
	r.stage(context.Background(), nil, "check", "", func(context.Context) error { return err })
	log := r.Logs()["check"]
	if !strings.HasPrefix(log, "$ cargo clippy\n") || !strings.Contains(log, "warning: more") {
		t.Errorf("check log: %q", log)
	}
	if r.stage(context.Background(), nil, "verify", "arm", func(context.Context) error { return errors.New("not static") }); len(r.Logs()) != 1 {
		t.Errorf("a failure that is no command left a log: %v", r.Logs())
	}
}

func TestCountFindings(t *testing.T) {
	log := `$ cargo clippy --all-targets -- -D warnings
    Checking p v0.1.0 (/src)
error: length comparison to zero
  --> src/lib.rs:3:5
error: used ` + "`assert_eq!`" + ` with a literal bool
warning: unused variable: ` + "`x`" + `
error: could not compile ` + "`p`" + ` (lib test) due to 2 previous errors
warning: ` + "`p`" + ` (lib) generated 1 warning
`
	if n := countFindings(log); n != 3 {
		t.Errorf("countFindings = %d, want 3", n)
	}
}
