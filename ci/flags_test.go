package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"dagger.io/dagger"
	"github.com/sigstore/cosign/v3/pkg/cosign"
	"github.com/spf13/pflag"

	"github.com/garage-release/garage-release/ci/attest"
	"github.com/garage-release/garage-release/ci/example"
	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/request"
)

// TestCommandFlags: each command shows only the flags of the concerns it
// reads: plan and publish need no engine and show no engine flags, docs
// builds no target and no toolchain (so no registry nor --cache), check
// and test export nothing, and the toolchain is pushed by the engine,
// whose own configuration decides plain http.
// TestEveryFlagIsRead proves each listed flag is read.
func TestCommandFlags(t *testing.T) {
	stage := []string{"toolchain-image", "debian-mirror", "cache-bust", "base-image", "verbose", "cache-namespace", "logs", "progress-every"}
	built := append(append([]string{"source", "binary", "features", "build-packages", "targets", "jobs"}, stage...), "tag", "commit", "out")
	s3 := []string{"s3-endpoint", "s3-bucket", "s3-prefix", "s3-region", "s3-insecure"}
	registry := []string{"registry", "image", "registry-insecure"}
	// The commands that build the toolchain share it through the registry.
	shared := append([]string{"cache"}, registry...)
	want := map[string][]string{
		"check":     slices.Concat([]string{"source", "features", "build-packages"}, stage, []string{"checks", "clippy-args", "lints"}, shared),
		"test":      slices.Concat([]string{"source", "features", "build-packages"}, stage, []string{"test-args"}, shared),
		"build":     slices.Concat(built, shared),
		"image":     slices.Concat(built, shared),
		"docs":      {"source", "base-image", "verbose", "logs", "progress-every", "out"},
		"toolchain": {"toolchain-image", "debian-mirror", "cache-bust", "base-image", "verbose", "publish"},
		"plan":      append(append([]string{"source", "binary", "targets", "tag", "commit", "dist"}, append(s3, "registry", "image")...), "json"),
		"publish":   append(append([]string{"dist", "force"}, s3...), registry...),
		"verify":    append(append([]string{"source"}, stage...), s3...),
		"engine":    {"verbose"},
		"init":      {"source", "ci", "pin", "write-settings"},
		"release": append(append(append(slices.Clone(built), "checks", "clippy-args", "lints", "test-args", "sign-key", "cores",
			"publish", "force", "cache", "cache-bucket"), s3...), registry...),
		"promote": append(append([]string{"from", "to", "force"}, s3...), registry...),
		"index":   s3,
		"cache":   append(slices.Clone(s3), "cache-bucket", "older-than", "yes"),
		"bench":   {"source", "runs", "json", "toolchain-ref", "fail-fast", "floor", "targets"},
	}
	if len(want) != len(commands()) {
		t.Errorf("%d commands, %d listed here: list every command's flags", len(commands()), len(want))
	}
	for name, flags := range want {
		cmd, ok := commands()[name]
		if !ok {
			t.Errorf("no command %q", name)
			continue
		}
		fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
		cmd.flags(fs, &options{})
		var got []string
		fs.VisitAll(func(f *pflag.Flag) { got = append(got, f.Name) })
		slices.Sort(got)
		w := slices.Clone(flags)
		slices.Sort(w)
		if !slices.Equal(got, w) {
			t.Errorf("%s: flags\n got %s\nwant %s", name, strings.Join(got, " "), strings.Join(w, " "))
		}
	}
}

// effect is what a command would do, as far as it shows before the
// engine: what its run consumes, computed by the functions the run calls.
// A flag that changes none of it is read by nothing.
type effect struct {
	// Pipeline is the stages' configuration (project, targets, version,
	// engine settings through the request), but for what needs the engine.
	Pipeline   pipeline.Config
	ProjectDir string // the source uploaded
	Out        string // where results are written
	FailedLogs string // the folder a failed run's logs go under
	EngineLog  bool   // connect hands the engine's own log to stderr
	Attest     attest.Options
	// Publish and Cache are the request's parts that release reads besides
	// the pipeline's (the compile cache reads Cache).
	Publish request.Publish
	Cache   request.Cache
	// Toolchain is where the toolchain is looked up by its recipe.
	Toolchain toolchainLookup
	// Job is the command's own effective configuration, where it has one.
	Job    any
	JobErr string
}

// consumes says which parts of effect each command's run reads, following
// its run function: runStages reads the pipeline, the failed-run logs, the
// compile cache's settings and (when it exports) --out and the provenance;
// the commands that build the toolchain look it up (toolchainLookup);
// runRelease also publishes; the commands without stages have a job of
// their own.
var consumes = map[string][]string{
	"check":     {"pipeline", "logs", "engine", "cache", "toolchain"},
	"test":      {"pipeline", "logs", "engine", "cache", "toolchain"},
	"build":     {"pipeline", "logs", "engine", "out", "attest", "cache", "toolchain"},
	"image":     {"pipeline", "logs", "engine", "out", "attest", "cache", "toolchain"},
	"docs":      {"pipeline", "logs", "engine", "out", "attest"},
	"release":   {"pipeline", "logs", "engine", "out", "attest", "publish", "cache", "toolchain"},
	"verify":    {"pipeline", "logs", "engine", "job"},
	"toolchain": {"engine", "job"},
	"engine":    {"engine"},
	"plan":      {"job"},
	"publish":   {"job"},
	"promote":   {"job"},
	"index":     {"job"},
	"init":      {"job"},
	"bench":     {"job"},
	"cache":     {"job"},
}

// effectOf parses args (args[0] the command) and prepares them, as run
// does, and returns what the command would do.
func effectOf(t *testing.T, dir string, vars map[string]string, args []string) (effect, error) {
	t.Helper()
	var stderr bytes.Buffer
	engineLog := false
	e := &env{
		stdout: io.Discard, stderr: &stderr, workdir: dir,
		getenv: func(k string) string { return vars[k] },
		dial: func(_ context.Context, opts ...dagger.ClientOpt) (*dagger.Client, error) {
			engineLog = len(opts) > 0
			return nil, errors.New("no engine in this test")
		},
	}
	cmd := commands()[args[0]]
	parts, ok := consumes[cmd.name]
	if !ok {
		t.Fatalf("consumes has no entry for %s: say what its run reads", cmd.name)
	}
	o, _, err := parseCommand(e, cmd, args)
	if err != nil {
		return effect{}, err
	}
	var ef effect
	for _, part := range parts {
		switch part {
		case "pipeline":
			ef.Pipeline, ef.ProjectDir = pipelineConfig(e, o), o.projectDir
			ef.Pipeline.Progress = nil // this run's stderr
		case "logs":
			logs, err := writeFailureLogs(e, o, map[string]string{"check": "log"})
			if err != nil {
				t.Fatalf("writeFailureLogs: %v", err)
			}
			ef.FailedLogs = filepath.Dir(logs)
		case "engine":
			if _, err := connect(context.Background(), e, o); err == nil {
				t.Fatal("the fake engine connected")
			}
			ef.EngineLog = engineLog
		case "out":
			ef.Out = outDir(e, o)
		case "attest":
			ef.Attest = attestOptions(e, o)
			ef.Attest.Command = nil // the command line itself, flag included
		case "publish":
			ef.Publish = o.request(e).Publish
		case "cache":
			ef.Cache = o.request(e).Cache
		case "toolchain":
			var err error
			if ef.Toolchain, err = o.toolchainLookup(e); err != nil {
				ef.JobErr = "the toolchain lookup: " + err.Error()
			}
		case "job":
			var err error
			ef.Job, err = jobOf(e, o, cmd.name)
			if err != nil {
				ef.JobErr = err.Error()
			}
		default:
			t.Fatalf("consumes[%s]: no part %q", cmd.name, part)
		}
	}
	return ef, nil
}

// jobOf is a command's own effective configuration, built by the function
// its run starts with.
func jobOf(e *env, o *options, cmd string) (any, error) {
	switch cmd {
	case "toolchain":
		return o.toolchainJob(e), nil
	case "plan":
		return o.planJob(e)
	case "publish":
		return o.publishJob(e)
	case "promote":
		return o.promoteJob(e)
	case "index":
		return s3Config(e, o)
	case "verify":
		return s3ConfigWith(e, o, false)
	case "init":
		return o.initJob(e)
	case "cache":
		return o.cacheJob(e)
	case "bench":
		ws, err := newBenchWorkspace(e, o)
		if err != nil {
			return nil, err
		}
		ws.cleanup()
		return o.benchJob(e, ws.shown)
	}
	return nil, fmt.Errorf("no job for %s", cmd)
}

// TestEveryFlagIsRead walks every command and every flag its --help lists:
// the flag, given a value other than its default, must change what the
// command would do (see effect) compared with the same command without
// it. A flag registered on a command that does not read it, or bound to a
// field nothing reads, fails here.
func TestEveryFlagIsRead(t *testing.T) {
	t.Setenv("TMPDIR", t.TempDir()) // failed-run logs go there by default
	dir, other := t.TempDir(), t.TempDir()
	for _, d := range []string{dir, other} {
		if err := writeFS(example.FS, d); err != nil {
			t.Fatal(err)
		}
	}
	// --source names a project that differs, as plan sees it (targets).
	cargo := filepath.Join(other, "Cargo.toml")
	data, err := os.ReadFile(cargo)
	if err != nil {
		t.Fatal(err)
	}
	const targets = `targets = ["amd64", "i386", "arm64", "arm"]`
	if !bytes.Contains(data, []byte(targets)) {
		t.Fatalf("the example's Cargo.toml has no line %s", targets)
	}
	writeTestFile(t, cargo, bytes.Replace(data, []byte(targets), []byte(`targets = ["amd64"]`), 1))
	// init adds the settings only to a Cargo.toml without them.
	bare, bareOther := t.TempDir(), t.TempDir()
	for _, d := range []string{bare, bareOther} {
		writeTestFile(t, filepath.Join(d, "Cargo.toml"), []byte("[package]\nname = \"bare\"\nversion = \"0.1.0\"\nedition = \"2021\"\n"))
		writeTestFile(t, filepath.Join(d, "src", "main.rs"), []byte("fn main() {}\n"))
	}
	workdir := map[string]string{"init": bare}
	key := filepath.Join(t.TempDir(), "cosign.key")
	kb, err := cosign.GenerateKeyPair(func(bool) ([]byte, error) { return []byte("pw"), nil })
	if err != nil {
		t.Fatal(err)
	}
	writeTestFile(t, key, kb.PrivateBytes)
	// Every service named, so that the commands that need one get past it
	// and the flags override these.
	vars := map[string]string{
		"S3_ENDPOINT": "127.0.0.1:9000", "S3_BUCKET": "releases",
		"AWS_ACCESS_KEY_ID": "AKIDTEST", "AWS_SECRET_ACCESS_KEY": "secret",
		"REGISTRY":          "127.0.0.1:5000/ns",
		envSigningPassword:  "pw",
		"SOURCE_DATE_EPOCH": "1700000000", // a fixed date, not the clock
	}
	// What a command needs to do anything at all.
	base := map[string][]string{
		"plan":    {"--tag", "v1.0.0"},
		"promote": {"--from", strings.Repeat("ab", 20), "--to", "v1.0.0"},
		"verify":  {"v1.0.0"},
		"init":    {"--pin", "v1.0.0"},
		"cache":   {"erase"},
	}
	// Values that the checks accept; other flags get one by their type.
	values := map[string]string{
		"source": other, "binary": "other", "features": "extra", "build-packages": "libzstd-dev",
		"targets": "arm64", "toolchain-image": "127.0.0.1:5000/toolchain:1", "debian-mirror": "http://127.0.0.1/debian",
		"base-image": "debian:bookworm", "cache-namespace": "other", "logs": "logs-here", "progress-every": "7s",
		"tag": "v9.9.9", "commit": strings.Repeat("cd", 20), "out": "out2", "checks": "fmt",
		"clippy-args": "-D clippy::all", "lints": "warn", "test-args": "--all-features", "sign-key": key,
		"cache": "off", "cache-bucket": "compile-cache", "s3-endpoint": "127.0.0.1:9999", "s3-bucket": "other",
		"s3-prefix": "p/", "s3-region": "eu", "registry": "127.0.0.1:5001/other", "image": "other",
		"dist": "dist2", "from": strings.Repeat("ef", 20), "to": "v2.0.0", "ci": "gitlab", "pin": "v2.0.0",
		"toolchain-ref": "127.0.0.1:5000/tc:1", "toolchain/publish": "127.0.0.1:5000/tc:1", "init/source": bareOther,
		"older-than": "30d",
	}
	all := commands()
	for _, name := range slices.Sorted(maps.Keys(all)) {
		cmd := all[name]
		args := append([]string{name}, base[name]...)
		wd := dir
		if w, ok := workdir[name]; ok {
			wd = w
		}
		want, err := effectOf(t, wd, vars, args)
		if err != nil {
			t.Errorf("%s: %v", strings.Join(args, " "), err)
			continue
		}
		if want.JobErr != "" {
			t.Errorf("%s: %s", strings.Join(args, " "), want.JobErr)
			continue
		}
		// The same command line twice does the same: else every flag
		// would look read.
		if again, _ := effectOf(t, wd, vars, args); !reflect.DeepEqual(again, want) {
			t.Errorf("%s: two runs without flags differ:\n%+v\n%+v", strings.Join(args, " "), want, again)
			continue
		}
		fs := pflag.NewFlagSet(name, pflag.ContinueOnError)
		cmd.flags(fs, &options{})
		fs.VisitAll(func(f *pflag.Flag) {
			v, ok := values[name+"/"+f.Name]
			if !ok {
				v, ok = values[f.Name]
			}
			if !ok {
				v = otherValue(f)
			}
			given := append(slices.Clone(args), "--"+f.Name+"="+v)
			t.Run(name+"/"+f.Name, func(t *testing.T) {
				got, err := effectOf(t, wd, vars, given)
				switch {
				case err == nil && got.JobErr != "":
					err = errors.New(got.JobErr)
					fallthrough
				case err != nil:
					t.Errorf("%s: %v (give the test a value the command accepts)", strings.Join(given, " "), err)
				case reflect.DeepEqual(got, want):
					t.Errorf("%s: --%s changes nothing the command does: read it (through the request or the command's job), or register it only on the commands that read it", strings.Join(given, " "), f.Name)
				}
			})
		})
	}
}

// otherValue is a value of f's type other than its default.
func otherValue(f *pflag.Flag) string {
	switch f.Value.Type() {
	case "bool":
		return strconv.FormatBool(f.DefValue != "true")
	case "int":
		n, _ := strconv.Atoi(f.DefValue)
		return strconv.Itoa(n + 2)
	case "duration":
		d, _ := time.ParseDuration(f.DefValue)
		return (d + 3*time.Second).String()
	}
	return "test-value"
}

// TestEmptyTargetsRefused: `--targets ,` is bad input, not "every target".
func TestEmptyTargetsRefused(t *testing.T) {
	for _, v := range []string{",", "", " , "} {
		c := newCLI(t)
		code, _, stderr := c.run("build", "--targets", v)
		if code != exitUsage || !strings.Contains(stderr, "--targets is empty") || c.dialed {
			t.Errorf("--targets %q: exit %d, dialed %v:\n%s", v, code, c.dialed, stderr)
		}
	}
}

// TestCacheModeRefused: a --cache value that is not a mode is bad input,
// said before the engine is reached.
func TestCacheModeRefused(t *testing.T) {
	c := newCLI(t)
	code, _, stderr := c.run("release", "--cache", "yes", "--tag", "v1.0.0")
	if code != exitUsage || !strings.Contains(stderr, `--cache "yes": give auto, read-write, read-only or off`) || c.dialed {
		t.Errorf("exit %d, dialed %v:\n%s", code, c.dialed, stderr)
	}
}
