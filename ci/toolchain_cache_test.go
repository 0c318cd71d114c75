package main

import (
	"bytes"
	"context"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-containerregistry/pkg/name"
	"github.com/google/go-containerregistry/pkg/registry"
	"github.com/google/go-containerregistry/pkg/v1/random"
	"github.com/google/go-containerregistry/pkg/v1/remote"

	"github.com/garage-release/garage-release/ci/pipeline"
	"github.com/garage-release/garage-release/ci/trust"
)

// askedRegistry is an in-memory registry that records the manifests it
// was asked for (reads only: a push's PUT is not a lookup).
type askedRegistry struct {
	host  string
	mu    sync.Mutex
	asked []string // URL paths
}

func newAskedRegistry(t *testing.T) *askedRegistry {
	r := &askedRegistry{}
	h := registry.New(registry.Logger(log.New(io.Discard, "", 0)))
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		if (req.Method == http.MethodHead || req.Method == http.MethodGet) && strings.Contains(req.URL.Path, "/manifests/") {
			r.mu.Lock()
			r.asked = append(r.asked, req.URL.Path)
			r.mu.Unlock()
		}
		h.ServeHTTP(w, req)
	}))
	t.Cleanup(srv.Close)
	r.host = strings.TrimPrefix(srv.URL, "http://")
	return r
}

func (r *askedRegistry) wasAsked(path string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Contains(r.asked, path)
}

// TestStageCommandsShareToolchain: with --registry, every command that
// builds the toolchain asks the registry for <registry>/<image>-toolchain
// at its recipe tag, as release does. Found, the pipeline pulls that image
// by digest as a complete toolchain; missing, a trusted run names the ref
// to push once it succeeded, a read-only run none; --cache off and
// --toolchain-image ask nothing.
func TestStageCommandsShareToolchain(t *testing.T) {
	reg := newAskedRegistry(t)
	// The base image's digest comes from the engine in a real run.
	const baseRef = "docker.io/library/debian:trixie@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
	dir := t.TempDir() // no Cargo.toml: the bundled example
	e := &env{stdout: io.Discard, stderr: io.Discard, workdir: dir, getenv: func(string) string { return "" }}
	for _, cmd := range []string{"check", "test", "build", "image", "release"} {
		t.Run(cmd, func(t *testing.T) {
			prefix := reg.host + "/" + cmd
			parse := func(extra ...string) (*options, toolchainLookup) {
				t.Helper()
				args := append([]string{cmd, "--registry", prefix}, extra...)
				o, _, err := parseCommand(e, commands()[cmd], args)
				if err != nil {
					t.Fatalf("%s: %v", strings.Join(args, " "), err)
				}
				l, err := o.toolchainLookup(e)
				if err != nil {
					t.Fatalf("%s: the lookup: %v", strings.Join(args, " "), err)
				}
				return o, l
			}
			o, l := parse()
			repo := prefix + "/" + o.project.ImageName() + "-toolchain"
			if l.Repo != repo || l.Mode != trust.ReadWrite {
				t.Fatalf("lookup %+v, want %s read-write (a local run)", l, repo)
			}
			tag := pipeline.ToolchainTag(pipeline.RecipeDigest(baseRef, o.project.BuildPackages, o.targetList))
			manifest := "/v2/" + cmd + "/" + o.project.ImageName() + "-toolchain/manifests/" + tag

			var out bytes.Buffer
			if push := l.find(context.Background(), &out, o, baseRef); push != repo+":"+tag || o.toolchainImage != "" {
				t.Errorf("missing toolchain: push %q, toolchain image %q; want push %s:%s\n%s", push, o.toolchainImage, repo, tag, &out)
			}
			if !reg.wasAsked(manifest) {
				t.Errorf("the registry was not asked for %s", manifest)
			}

			out.Reset()
			o, l = parse("--cache", "read-only")
			if push := l.find(context.Background(), &out, o, baseRef); push != "" || !strings.Contains(out.String(), "not pushing it") {
				t.Errorf("read-only run: push %q\n%s", push, &out)
			}

			img, err := random.Image(64, 1)
			if err != nil {
				t.Fatal(err)
			}
			ref, err := name.ParseReference(repo + ":" + tag)
			if err != nil {
				t.Fatal(err)
			}
			if err := remote.Write(ref, img); err != nil {
				t.Fatalf("push %s: %v", ref, err)
			}
			digest, err := img.Digest()
			if err != nil {
				t.Fatal(err)
			}
			o, l = parse()
			if push := l.find(context.Background(), io.Discard, o, baseRef); push != "" {
				t.Errorf("found toolchain: push %q", push)
			}
			if cfg := pipelineConfig(e, o); cfg.ToolchainImage != repo+"@"+digest.String() || !cfg.ToolchainComplete {
				t.Errorf("found toolchain: the pipeline pulls %q (complete %v), want %s@%s", cfg.ToolchainImage, cfg.ToolchainComplete, repo, digest)
			}

			if _, l = parse("--cache", "off"); l != (toolchainLookup{}) {
				t.Errorf("--cache off: lookup %+v", l)
			}
			if _, l = parse("--toolchain-image", repo+":mine"); l != (toolchainLookup{}) {
				t.Errorf("--toolchain-image: lookup %+v", l)
			}
		})
	}
}

// TestToolchainLookupBeforeEngine: a command that builds the toolchain
// refuses a REGISTRY that makes no repository before reaching the engine;
// docs, which builds no toolchain, does not read it.
func TestToolchainLookupBeforeEngine(t *testing.T) {
	for _, cmd := range []string{"check", "test", "build", "image", "release", "docs"} {
		c := newCLI(t)
		c.vars["REGISTRY"] = "Not A Host/ns"
		code, _, stderr := c.run(cmd)
		if cmd == "docs" {
			if !c.dialed || !strings.Contains(stderr, "no Dagger engine reachable") {
				t.Errorf("docs: exit %d, dialed %v:\n%s", code, c.dialed, stderr)
			}
			continue
		}
		if code != exitUsage || c.dialed || !strings.Contains(stderr, `--registry "Not A Host/ns"`) {
			t.Errorf("%s: exit %d, dialed %v:\n%s", cmd, code, c.dialed, stderr)
		}
	}
}
