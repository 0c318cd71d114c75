package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// TestFreshSources runs the mtime repair on real files through a sequence
// of builds, some failing, and checks which files it touches: exactly those
// whose content differs from any version the target/ folder may hold.
func TestFreshSources(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	// The same sequence with the checksums computed by the repair itself
	// and computed once beforehand for every cargo command.
	for _, shared := range []bool{false, true} {
		t.Run(map[bool]string{false: "own checksums", true: "shared checksums"}[shared], func(t *testing.T) {
			testFreshSources(t, shared)
		})
	}
}

func testFreshSources(t *testing.T, shared bool) {
	oldMtime, err := strconv.ParseInt(OldMtime, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	src, tmp := t.TempDir(), t.TempDir()
	stamp, now := filepath.Join(tmp, "stamp"), filepath.Join(tmp, "now")
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	write := func(name, text string) {
		p := filepath.Join(src, name)
		os.MkdirAll(filepath.Dir(p), 0o755)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		os.Chtimes(p, old, old) // as the engine hands them over: no useful mtime
	}
	// checkout: every file newer than the record, as a fresh clone.
	checkout := time.Now().Add(time.Hour)
	repair := func(fromCheckout bool) map[string]bool {
		for _, n := range []string{"a.rs", "tests/b.rs"} {
			os.Chtimes(filepath.Join(src, n), old, old)
			if fromCheckout {
				os.Chtimes(filepath.Join(src, n), checkout, checkout)
			}
		}
		cmd := exec.Command("sh", "-c", freshSourcesScript, "fresh-sources", stamp, src, now)
		if shared {
			hashed := filepath.Join(tmp, "hashed")
			if out, err := exec.Command("sh", "-c", sourcesHashesScript, "sources-hashes", src, hashed).CombinedOutput(); err != nil {
				t.Fatalf("hashes: %v\n%s", err, out)
			}
			cmd.Env = append(os.Environ(), "SOURCES_HASHED="+hashed)
		}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("repair: %v\n%s", err, out)
		}
		// Touched: newer than the record (cargo rebuilds). Not touched: as
		// old as it was, or made older than any build (OldMtime).
		touched := map[string]bool{}
		for _, n := range []string{"a.rs", "tests/b.rs"} {
			info, _ := os.Stat(filepath.Join(src, n))
			m := info.ModTime()
			switch {
			case m.Equal(old) || m.Unix() == oldMtime:
				touched[n] = false
			case fromCheckout && m.Equal(checkout):
				t.Errorf("%s kept the checkout's mtime: neither made old nor touched", n)
			default:
				touched[n] = true
			}
		}
		return touched
	}
	succeed := func() {
		data, _ := os.ReadFile(now)
		os.WriteFile(stamp, data, 0o644)
	}
	steps := []struct {
		name     string
		edit     func()
		checkout bool // every file newer than the record
		success  bool
		want     map[string]bool
	}{
		{"first build", func() { write("a.rs", "a1"); write("tests/b.rs", "b1") }, false, true, map[string]bool{"a.rs": true, "tests/b.rs": true}},
		{"no change", func() {}, false, true, map[string]bool{"a.rs": false, "tests/b.rs": false}},
		{"fresh checkout, no change", func() {}, true, true, map[string]bool{"a.rs": false, "tests/b.rs": false}},
		{"b edited, build fails", func() { write("tests/b.rs", "b2") }, false, false, map[string]bool{"a.rs": false, "tests/b.rs": true}},
		// b1 is back, but the failed build may have left artifacts of b2.
		{"fresh checkout, b reverted", func() { write("tests/b.rs", "b1") }, true, false, map[string]bool{"a.rs": false, "tests/b.rs": true}},
		{"b reverted, a edited", func() { write("tests/b.rs", "b1"); write("a.rs", "a2") }, false, true, map[string]bool{"a.rs": true, "tests/b.rs": true}},
		{"fresh checkout, a edited", func() { write("a.rs", "a3") }, true, true, map[string]bool{"a.rs": true, "tests/b.rs": false}},
		{"no change after success", func() {}, false, true, map[string]bool{"a.rs": false, "tests/b.rs": false}},
	}
	for _, s := range steps {
		s.edit()
		got := repair(s.checkout)
		for n, want := range s.want {
			if got[n] != want {
				t.Errorf("%s: %s touched=%v, want %v", s.name, n, got[n], want)
			}
		}
		if s.success {
			succeed()
		}
	}
	if !shared {
		return
	}
	// The shared list is what the repair believes: a list that says a.rs
	// changed gets it touched (so the list is really used, not recomputed).
	hashed := filepath.Join(tmp, "lying")
	os.WriteFile(hashed, []byte(strings.Repeat("0", 64)+"  ./a.rs\n"), 0o644)
	for _, n := range []string{"a.rs", "tests/b.rs"} {
		os.Chtimes(filepath.Join(src, n), old, old)
	}
	cmd := exec.Command("sh", "-c", freshSourcesScript, "fresh-sources", stamp, src, now)
	cmd.Env = append(os.Environ(), "SOURCES_HASHED="+hashed)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("repair: %v\n%s", err, out)
	}
	if info, _ := os.Stat(filepath.Join(src, "a.rs")); info.ModTime().Equal(old) {
		t.Error("the shared list was not used: a.rs, listed as changed, was not touched")
	}
}

// TestCargoFreshWrapper runs the wrapper around a stand-in for cargo: on
// success the record is narrowed to this build's sources and the binary is
// copied out with a build-log line; on failure the record keeps every
// version and nothing is copied. Either way the output is in the stage's
// log, without cargo's progress bar, whose last count is in the progress
// file.
func TestCargoFreshWrapper(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	src, tmp := t.TempDir(), t.TempDir()
	out := filepath.Join(tmp, "out")
	// The wrapper's fixed paths, moved under the test's folders.
	script := strings.ReplaceAll(strings.ReplaceAll(cargoFreshScript, "/src", src), "/out", out)
	os.WriteFile(filepath.Join(src, "main.rs"), []byte("v1"), 0o644)
	os.WriteFile(filepath.Join(tmp, "kvstore"), []byte("binary"), 0o755)
	stamp := filepath.Join(tmp, "stamp")
	logFile, progressFile := filepath.Join(tmp, "logs", "build.log"), filepath.Join(tmp, "progress", "build")
	run := func(cargo ...string) error {
		cmd := exec.Command("sh", append([]string{"-c", script, CargoFreshName}, cargo...)...)
		cmd.Env = append(os.Environ(), "STAMP="+stamp, "SOURCES_NOW="+filepath.Join(tmp, "now"),
			"COPY_BINARY="+filepath.Join(tmp, "kvstore"), "BUILD_LOG="+filepath.Join(tmp, "log"), "GIT_VERSION=v1.0.0",
			"LOG_FILE="+logFile, "PROGRESS_FILE="+progressFile)
		return cmd.Run()
	}
	// A stand-in cargo that prints a line and, as cargo does with its
	// progress forced on, a progress bar redrawn with carriage returns.
	fake := filepath.Join(tmp, "cargo")
	os.WriteFile(fake, []byte(`#!/bin/sh
echo "   Compiling a v0.1.0"
printf '    Building [==>   ] 1/3: a\r    Building [====> ] 2/3: b\r' >&2
echo "warning: unused" >&2
exit "$1"
`), 0o755)
	cargo := func(status string) []string { return []string{fake, status} }
	if err := run(cargo("0")...); err != nil {
		t.Fatalf("a successful cargo: %v", err)
	}
	if data, _ := os.ReadFile(filepath.Join(out, "kvstore")); string(data) != "binary" {
		t.Errorf("the binary was not copied out")
	}
	if log, _ := os.ReadFile(filepath.Join(tmp, "log")); !strings.HasPrefix(string(log), "v1.0.0 ") {
		t.Errorf("build log: %q", log)
	}
	log, _ := os.ReadFile(logFile)
	if !strings.Contains(string(log), "Compiling a v0.1.0\n") || !strings.Contains(string(log), "warning: unused\n") || strings.Contains(string(log), "Building [") {
		t.Errorf("stage log: %q, want cargo's lines, stdout and stderr, without the progress bar", log)
	}
	if prog, _ := os.ReadFile(progressFile); strings.TrimSpace(string(prog)) != "2/3: b" {
		t.Errorf("progress file: %q, want the last count", prog)
	}

	os.WriteFile(filepath.Join(src, "main.rs"), []byte("v2"), 0o644)
	os.RemoveAll(out)
	if err := run(cargo("101")...); err == nil {
		t.Fatal("a failing cargo did not fail the wrapper")
	} else if ee, ok := err.(*exec.ExitError); !ok || ee.ExitCode() != 101 {
		t.Errorf("the wrapper exited with %v, want cargo's 101", err)
	}
	if _, err := os.Stat(filepath.Join(out, "kvstore")); err == nil {
		t.Errorf("a failed build copied a binary out")
	}
	record, _ := os.ReadFile(stamp)
	if n := strings.Count(string(record), "./main.rs"); n != 2 {
		t.Errorf("after a failure the record holds %d versions of main.rs, want 2:\n%s", n, record)
	}
	if log, _ := os.ReadFile(logFile); strings.Count(string(log), "Compiling a v0.1.0") != 2 {
		t.Errorf("the failed run's output is not appended to the log:\n%s", log)
	}

	// Findings tolerated: the failure is recorded, not returned.
	findings := filepath.Join(tmp, "findings")
	cmd := exec.Command("sh", append([]string{"-c", "set -eu\n" + logScript + `run_logged "$@"`, LoggedName}, cargo("1")...)...)
	cmd.Env = append(os.Environ(), "LOG_FILE="+logFile, "TOLERATE="+findings)
	if err := cmd.Run(); err != nil {
		t.Errorf("a tolerated failure failed: %v", err)
	}
	if data, _ := os.ReadFile(findings); strings.TrimSpace(string(data)) != "1" {
		t.Errorf("findings file: %q, want the exit status", data)
	}
}

// TestFreshSourcesAfterATruncatedRecord: a build cancelled while the
// record was being rewritten (the engine kills the stage mid-write) can
// leave it empty. That must count as no record at all: every file is
// touched, so cargo cannot take an artifact of the cancelled run's sources
// for fresh. An empty record once made awk read the current sources as the
// record (FNR == NR holds in the second file when the first is empty), and
// nothing was touched: a test binary of sources no longer there ran.
func TestFreshSourcesAfterATruncatedRecord(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	for _, record := range []string{"", "3f2a"} { // empty; cut inside the first line
		src, tmp := t.TempDir(), t.TempDir()
		stamp, now := filepath.Join(tmp, "stamp"), filepath.Join(tmp, "now")
		old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
		p := filepath.Join(src, "lib.rs")
		os.WriteFile(p, []byte("clean\n"), 0o644)
		os.Chtimes(p, old, old)
		os.WriteFile(stamp, []byte(record), 0o644)
		if out, err := exec.Command("sh", "-c", freshSourcesScript, "fresh-sources", stamp, src, now).CombinedOutput(); err != nil {
			t.Fatalf("repair: %v\n%s", err, out)
		}
		if info, _ := os.Stat(p); info.ModTime().Equal(old) {
			t.Errorf("record %q: lib.rs was not touched, so cargo may reuse what a cancelled build made of other sources", record)
		}
	}
}

// TestRecordWritesAreAtomic: the record is replaced by a rename, never
// rewritten in place, so a kill at any moment leaves a whole record.
func TestRecordWritesAreAtomic(t *testing.T) {
	for name, script := range map[string]string{"repair": freshSourcesScript, "wrapper": cargoFreshScript} {
		for _, line := range strings.Split(script, "\n") {
			if strings.Contains(line, `-o "$stamp"`) || strings.Contains(line, `cp "$SOURCES_NOW" "$STAMP"`) {
				t.Errorf("%s rewrites the record in place: %s", name, strings.TrimSpace(line))
			}
		}
	}
}

// TestRecordNarrowedAfterTheStage: the test stage runs cargo build, then
// cargo test, in one target/ volume. A planted failing test (cargo build
// passes, cargo test fails) leaves a test binary of the planted sources;
// back to the clean sources, cargo build passes again, and used to narrow
// the record to the clean sources: cargo test then found nothing to touch
// and ran the planted test binary (seen on the engine: "planted_failure"
// failing a clean release). Only the stage's last command narrows it now.
func TestRecordNarrowedAfterTheStage(t *testing.T) {
	if _, err := exec.LookPath("sha256sum"); err != nil {
		t.Skip("no sha256sum")
	}
	src, tmp := t.TempDir(), t.TempDir()
	script := strings.ReplaceAll(cargoFreshScript, "/src", src)
	stamp := filepath.Join(tmp, "stamp")
	test := filepath.Join(src, "tests", "api.rs")
	os.MkdirAll(filepath.Dir(test), 0o755)
	old := time.Date(2001, 1, 1, 0, 0, 0, 0, time.UTC)
	// step runs one command of the stage: status is the stand-in cargo's
	// exit status; it returns whether the repair touched the test file.
	step := func(last bool, status string) bool {
		os.Chtimes(test, old, old)
		cmd := exec.Command("sh", "-c", script, CargoFreshName, "sh", "-c", "exit "+status)
		narrow := "0"
		if last {
			narrow = "1"
		}
		cmd.Env = append(os.Environ(), "STAMP="+stamp, "SOURCES_NOW="+filepath.Join(tmp, "now"), "NARROW_RECORD="+narrow,
			"LOG_FILE="+filepath.Join(tmp, "log"), "PROGRESS_FILE="+filepath.Join(tmp, "progress"))
		err := cmd.Run()
		if (err == nil) != (status == "0") {
			t.Fatalf("cargo exited %s, the wrapper: %v", status, err)
		}
		info, _ := os.Stat(test)
		return !info.ModTime().Equal(old)
	}
	os.WriteFile(test, []byte("clean"), 0o644)
	step(false, "0") // cargo build
	step(true, "0")  // cargo test
	os.WriteFile(test, []byte("clean + planted failing test"), 0o644)
	step(false, "0")  // cargo build passes
	step(true, "101") // cargo test fails: its binary is of the planted sources
	os.WriteFile(test, []byte("clean"), 0o644)
	if !step(false, "0") {
		t.Error("cargo build: the test file, reverted, was not touched")
	}
	if !step(true, "0") {
		t.Error("cargo test after a passing cargo build: the reverted test file was not touched, so the planted test binary would run")
	}
	if step(false, "0") || step(true, "0") {
		t.Error("after the stage passed, an unchanged file was touched again")
	}
}
