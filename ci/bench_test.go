package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	cases := []struct {
		in   []float64
		want float64
	}{
		{nil, 0}, {[]float64{3}, 3}, {[]float64{5, 1, 3}, 3}, {[]float64{4, 1, 3, 2}, 2.5},
	}
	for _, c := range cases {
		if got := median(c.in); got != c.want {
			t.Errorf("median(%v) = %v, want %v", c.in, got, c.want)
		}
	}
}

// TestProgressLineMatchesReport keeps the benchmark's parser in step with
// the progress lines the pipeline's report writes.
func TestProgressLineMatchesReport(t *testing.T) {
	lines := map[string][]string{
		"[   0.0s] start    toolchain":             {"0.0", "start", "toolchain", "", ""},
		"[  57.8s] ok       toolchain (57.8s)":     {"57.8", "ok", "toolchain", "", "57.8"},
		"[ 112.3s] ok       build arm64 (34.7s)":   {"112.3", "ok", "build", "arm64", "34.7"},
		"[   1.0s] start    smoke i386":            {"1.0", "start", "smoke", "i386", ""},
		"[   9.0s] FAILED   check (8.1s): command": nil,
	}
	for line, want := range lines {
		m := progressLine.FindStringSubmatch(line)
		if want == nil {
			if m != nil {
				t.Errorf("%q matched", line)
			}
			continue
		}
		if m == nil || strings.Join(m[1:], "|") != strings.Join(want, "|") {
			t.Errorf("%q: got %q, want %q", line, m, want)
		}
	}
}

func TestWithEditRestores(t *testing.T) {
	f := filepath.Join(t.TempDir(), "lib.rs")
	os.WriteFile(f, []byte("fn a() {}\n"), 0o644)
	_, err := withEdit(f, func() (benchRun, error) {
		data, _ := os.ReadFile(f)
		if !strings.Contains(string(data), "// garage-release bench edit") {
			t.Errorf("the file was not edited during the run: %q", data)
		}
		return benchRun{}, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if data, _ := os.ReadFile(f); string(data) != "fn a() {}\n" {
		t.Errorf("the file was not restored: %q", data)
	}
}

func TestSummarize(t *testing.T) {
	f := summarize(benchFigure{Name: "x", Runs: []benchRun{
		{Wall: 10 * time.Second, Stages: map[string]time.Duration{"toolchain": 4 * time.Second, "build amd64": 3 * time.Second}},
		{Wall: 30 * time.Second, Stages: map[string]time.Duration{"toolchain": 6 * time.Second, "build amd64": 5 * time.Second}},
		{Wall: 20 * time.Second, Stages: map[string]time.Duration{"toolchain": 5 * time.Second, "build amd64": 4 * time.Second}},
	}})
	if f.Wall != 20 || f.Toolchain != 5 || f.StageSum != 9 {
		t.Errorf("summarize: wall %v toolchain %v sum %v", f.Wall, f.Toolchain, f.StageSum)
	}
}

func TestReadCPU(t *testing.T) {
	if _, err := os.Stat("/proc/stat"); err != nil {
		t.Skip("no /proc/stat on this system")
	}
	a := readCPU()
	if a.busy <= 0 {
		t.Fatalf("busy CPU time %v", a.busy)
	}
	deadline := time.Now().Add(200 * time.Millisecond)
	for time.Now().Before(deadline) {
	}
	if b := readCPU(); b.busy < a.busy {
		t.Errorf("busy CPU time went backwards: %v then %v", a.busy, b.busy)
	}
}

func TestBenchNeedsEngine(t *testing.T) {
	c := newCLI(t)
	if code, _, stderr := c.run("bench", "--runs", "0"); code != exitUsage || !strings.Contains(stderr, "--runs 0") {
		t.Errorf("bench --runs 0: exit %d, %s", code, stderr)
	}
}
