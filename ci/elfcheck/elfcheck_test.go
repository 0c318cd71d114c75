package elfcheck

import (
	"debug/elf"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/garage-release/garage-release/ci/target"
)

// The fixtures are real ELF files built once for the package, at test time,
// into a temporary folder: C programs with the machine's gcc and Go programs
// cross-compiled by the go command (which needs no extra tools).
type fixture struct {
	path string
	err  error  // the build failed: the test using it fails
	skip string // the tool is missing: the test using it skips
}

var (
	fixtureDir string
	fixtures   = map[string]*fixture{}
)

const cProgram = `#include <stdio.h>
int main(void) { puts("hello from a release binary"); return 0; }
`

const cLibrary = `#include <stdio.h>
int hello(void) { return puts("hello from a library"); }
`

const goStatic = `package main

import "fmt"

func main() { fmt.Println("hello from a release binary") }
`

// goDynamic uses the cgo resolver and user lookup, which link against libc.
const goDynamic = `package main

import (
	"fmt"
	"net"
	"os/user"
)

func main() {
	u, _ := user.Current()
	addrs, _ := net.LookupHost("localhost")
	fmt.Println(u, addrs)
}
`

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "elfcheck-fixtures-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fixtureDir = dir
	buildFixtures()
	code := m.Run()
	os.RemoveAll(dir)
	os.Exit(code)
}

func buildFixtures() {
	write := func(name, text string) string {
		p := filepath.Join(fixtureDir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			panic(err)
		}
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			panic(err)
		}
		return p
	}
	cSrc := write("c/hello.c", cProgram)
	libSrc := write("c/lib.c", cLibrary)
	write("gostatic/go.mod", "module example.com/gostatic\n\ngo 1.21\n")
	write("gostatic/main.go", goStatic)
	write("godynamic/go.mod", "module example.com/godynamic\n\ngo 1.21\n")
	write("godynamic/main.go", goDynamic)

	gcc, gccErr := exec.LookPath("gcc")
	type build struct {
		name, dir string
		needGCC   bool
		cmd       []string
		env       []string
	}
	out := func(name string) string { return filepath.Join(fixtureDir, "out", name) }
	builds := []build{
		{name: "c-static", needGCC: true, cmd: []string{gcc, "-static", "-O1", "-o", out("c-static"), cSrc}},
		{name: "c-static-pie", needGCC: true, cmd: []string{gcc, "-static-pie", "-fPIE", "-O1", "-o", out("c-static-pie"), cSrc}},
		{name: "c-dynamic", needGCC: true, cmd: []string{gcc, "-O1", "-o", out("c-dynamic"), cSrc}},
		{name: "c-shared-lib", needGCC: true, cmd: []string{gcc, "-shared", "-fPIC", "-o", out("c-shared-lib"), libSrc}},
		{name: "c-object", needGCC: true, cmd: []string{gcc, "-c", "-o", out("c-object"), cSrc}},
		{name: "go-dynamic-amd64", dir: "godynamic", needGCC: true, cmd: []string{"go", "build", "-o", out("go-dynamic-amd64"), "."},
			env: []string{"CGO_ENABLED=1", "GOOS=linux", "GOARCH=amd64", "CC=" + gcc}},
	}
	for _, arch := range []struct{ goarch, goarm string }{{"amd64", ""}, {"386", ""}, {"arm64", ""}, {"arm", "5"}} {
		name := "go-static-" + arch.goarch
		env := []string{"CGO_ENABLED=0", "GOOS=linux", "GOARCH=" + arch.goarch}
		if arch.goarm != "" {
			env = append(env, "GOARM="+arch.goarm)
		}
		builds = append(builds, build{name: name, dir: "gostatic", cmd: []string{"go", "build", "-trimpath", "-o", out(name), "."}, env: env})
	}
	if err := os.MkdirAll(filepath.Join(fixtureDir, "out"), 0o755); err != nil {
		panic(err)
	}

	var wg sync.WaitGroup
	for _, b := range builds {
		f := &fixture{path: out(b.name)}
		fixtures[b.name] = f
		if b.needGCC && gccErr != nil {
			f.skip = "gcc is not installed: cannot build the " + b.name + " fixture"
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			cmd := exec.Command(b.cmd[0], b.cmd[1:]...)
			cmd.Dir = filepath.Join(fixtureDir, b.dir)
			cmd.Env = append(os.Environ(), "GOFLAGS=-buildvcs=false", "GOTOOLCHAIN=local", "GOWORK=off")
			cmd.Env = append(cmd.Env, b.env...)
			if output, err := cmd.CombinedOutput(); err != nil {
				f.err = fmt.Errorf("building fixture %s: %s: %v\n%s", b.name, strings.Join(b.cmd, " "), err, output)
			}
		}()
	}
	wg.Wait()
}

// load returns a fixture's bytes, skipping when its tool is missing.
func load(t *testing.T, name string) []byte {
	t.Helper()
	f, ok := fixtures[name]
	if !ok {
		t.Fatalf("no fixture %q", name)
	}
	if f.skip != "" {
		t.Skip(f.skip)
	}
	if f.err != nil {
		t.Fatal(f.err)
	}
	data, err := os.ReadFile(f.path)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// inspect reads what the fixture really is, so each case below proves the
// fixture has the property it is meant to exercise.
func inspect(t *testing.T, name string) (typ elf.Type, interp bool, libs []string) {
	t.Helper()
	f, err := elf.Open(fixtures[name].path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			interp = true
		}
	}
	libs, err = f.ImportedLibraries()
	if err != nil {
		t.Fatal(err)
	}
	return f.Type, interp, libs
}

func mustTarget(t *testing.T, name string) target.Target {
	t.Helper()
	tg, err := target.Lookup(name)
	if err != nil {
		t.Fatal(err)
	}
	return tg
}

// TestStaticBinaries checks every static fixture against every target: it
// passes for its own machine only, and otherwise the error names both
// machines.
func TestStaticBinaries(t *testing.T) {
	tests := []struct {
		fixture, target string
		machine         elf.Machine
		typ             elf.Type
	}{
		{"c-static", "amd64", elf.EM_X86_64, elf.ET_EXEC},
		{"c-static-pie", "amd64", elf.EM_X86_64, elf.ET_DYN}, // keeps PT_DYNAMIC, has no PT_INTERP
		{"go-static-amd64", "amd64", elf.EM_X86_64, elf.ET_EXEC},
		{"go-static-386", "i386", elf.EM_386, elf.ET_EXEC},
		{"go-static-arm64", "arm64", elf.EM_AARCH64, elf.ET_EXEC},
		{"go-static-arm", "arm", elf.EM_ARM, elf.ET_EXEC},
	}
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			data := load(t, tt.fixture)
			typ, interp, libs := inspect(t, tt.fixture)
			if typ != tt.typ || interp || len(libs) > 0 {
				t.Fatalf("fixture is %v, interpreter %v, libraries %q: not the static %v it should be", typ, interp, libs, tt.typ)
			}
			for _, tg := range target.All {
				err := Check(data, tg)
				if tg.Name == tt.target {
					if err != nil {
						t.Errorf("Check(%s, %s) = %v, want nil", tt.fixture, tg.Name, err)
					}
					continue
				}
				if err == nil {
					t.Errorf("Check(%s, %s) passed a %v binary for %v", tt.fixture, tg.Name, tt.machine, tg.Machine)
					continue
				}
				msg := err.Error()
				for _, want := range []string{tg.Name, tt.machine.String(), tg.Machine.String()} {
					if !strings.Contains(msg, want) {
						t.Errorf("Check(%s, %s) = %q: does not name %s", tt.fixture, tg.Name, msg, want)
					}
				}
				if strings.Contains(msg, "interpreter") || strings.Contains(msg, "shared libraries") {
					t.Errorf("Check(%s, %s) = %q: a static binary is reported as dynamic", tt.fixture, tg.Name, msg)
				}
			}
		})
	}
}

// TestDynamicBinaries checks that binaries which load libc at run time fail,
// saying why, even for their own machine.
func TestDynamicBinaries(t *testing.T) {
	tests := []struct {
		fixture    string
		wantInterp bool
		want       []string
		dontWant   []string
	}{
		{"c-dynamic", true, []string{"program interpreter", "/lib64/ld-linux-x86-64.so.2", "needs shared libraries libc.so.6"}, nil},
		{"go-dynamic-amd64", true, []string{"program interpreter", "needs shared libraries", "libc.so.6"}, nil},
		// No PT_INTERP but a DT_NEEDED entry: caught by the library check alone.
		{"c-shared-lib", false, []string{"needs shared libraries libc.so.6"}, []string{"program interpreter"}},
	}
	amd64 := mustTarget(t, "amd64")
	for _, tt := range tests {
		t.Run(tt.fixture, func(t *testing.T) {
			data := load(t, tt.fixture)
			_, interp, libs := inspect(t, tt.fixture)
			if interp != tt.wantInterp || len(libs) == 0 {
				t.Fatalf("fixture has interpreter %v (want %v) and libraries %q: not the dynamic binary it should be", interp, tt.wantInterp, libs)
			}
			err := Check(data, amd64)
			if err == nil {
				t.Fatalf("Check(%s, amd64) passed a dynamically linked file", tt.fixture)
			}
			msg := err.Error()
			if !strings.Contains(msg, "amd64 (x86_64-unknown-linux-gnu) is not a static binary") {
				t.Errorf("Check(%s) = %q: does not say which target is not static", tt.fixture, msg)
			}
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("Check(%s) = %q: does not say %q", tt.fixture, msg, w)
				}
			}
			for _, w := range tt.dontWant {
				if strings.Contains(msg, w) {
					t.Errorf("Check(%s) = %q: should not say %q", tt.fixture, msg, w)
				}
			}
		})
	}
}

func TestObjectFileIsNotAnExecutable(t *testing.T) {
	data := load(t, "c-object")
	err := Check(data, mustTarget(t, "amd64"))
	if err == nil || !strings.Contains(err.Error(), "ET_REL is not an executable") {
		t.Fatalf("Check(object file) = %v, want an error saying ET_REL is not an executable", err)
	}
}

func TestNotELF(t *testing.T) {
	goBin := load(t, "go-static-arm64")
	tests := []struct {
		name string
		data []byte
	}{
		{"empty", nil},
		{"shell script", []byte("#!/bin/sh\necho hello\n")},
		{"HTML error page", []byte("<html><body>404 Not Found</body></html>")},
		{"truncated ELF header", goBin[:10]},
	}
	arm64 := mustTarget(t, "arm64")
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := Check(tt.data, arm64)
			if err == nil {
				t.Fatal("Check accepted a file that is not ELF")
			}
			if !strings.HasPrefix(err.Error(), "arm64: not an ELF file") {
				t.Errorf("Check = %q, want it to start with %q", err, "arm64: not an ELF file")
			}
		})
	}
}
