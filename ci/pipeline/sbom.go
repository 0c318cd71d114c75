package pipeline

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"sort"
	"strings"
	"time"

	"dagger.io/dagger"
	"golang.org/x/sync/errgroup"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/sbom"
	"github.com/garage-release/garage-release/ci/target"
)

// metadataArgs are cargo metadata's flags for t: the build's package
// selection and features, filtered to what t compiles.
func (p *Pipeline) metadataArgs(t target.Target) []string {
	args := []string{"cargo", "metadata", "--format-version", "1", "--filter-platform", t.Triple}
	if p.cfg.Project.Locked {
		args = append(args, "--locked")
	}
	if len(p.cfg.Project.Features) > 0 {
		args = append(args, "--features", strings.Join(p.cfg.Project.Features, ","))
	}
	return args
}

// Metadata is the container after `cargo metadata` for every target, in
// one exec: mounting a large source costs seconds per exec, cargo metadata
// little. Each target's JSON is at /out/<triple>.json (see MetadataFile),
// made by exactly the command that target would run alone; the Cargo.lock
// cargo resolved is at /out/Cargo.lock (written by cargo when the project
// ships none). No target/ volume: it builds nothing, and would wait for
// the build's lock.
func (p *Pipeline) Metadata(targets []target.Target) *dagger.Container {
	ctr := p.withSource(p.Toolchain()).WithEnvVariable("CARGO_TERM_COLOR", "never")
	return ctr.WithExec([]string{"sh", "-c", p.metadataScript(metadataOut, targets)})
}

// metadataOut is the folder of Metadata's outputs.
const metadataOut = "/out"

// MetadataFile is where Metadata leaves t's cargo metadata.
func MetadataFile(t target.Target) string { return metadataOut + "/" + t.Triple + ".json" }

// metadataScript runs metadataArgs for each target, its output to
// <out>/<triple>.json, then copies Cargo.lock to out. Once cargo wrote a
// Cargo.lock, the next targets read it: the same resolution.
func (p *Pipeline) metadataScript(out string, targets []target.Target) string {
	var b strings.Builder
	b.WriteString("set -eu\nmkdir -p " + shellQuote(out) + "\n")
	for _, t := range targets {
		fmt.Fprintf(&b, "%s > %s || { echo %s >&2; exit 1; }\n",
			shellJoin(p.metadataArgs(t)), shellQuote(out+"/"+t.Triple+".json"),
			shellQuote("cargo metadata for "+t.Name+" ("+t.Triple+") failed"))
	}
	b.WriteString("cp Cargo.lock " + shellQuote(out+"/Cargo.lock") + "\n")
	return b.String()
}

// shellJoin quotes each word for sh.
func shellJoin(words []string) string {
	quoted := make([]string, len(words))
	for i, w := range words {
		quoted[i] = shellQuote(w)
	}
	return strings.Join(quoted, " ")
}

func shellQuote(s string) string { return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'" }

// toolchainFacts are what the SBOM and the manifest record of the toolchain.
type toolchainFacts struct {
	rustcVV, dpkg, baseImage, toolchain string
}

// toolchainFacts asks the toolchain for rustc's version and its Debian
// packages, and names the toolchain: a pulled image by its digest, the
// recipe by the digest of its script and base image.
func (p *Pipeline) toolchainFacts(ctx context.Context) (toolchainFacts, error) {
	var f toolchainFacts
	out, err := p.Toolchain().
		WithExec([]string{"sh", "-c", `rustc -vV; echo '---'; dpkg-query -W -f='${Package}\t${Version}\t${Architecture}\n'; cat ` + BuildPackagesFile + ` 2>/dev/null; true`}).
		Stdout(ctx)
	if err != nil {
		return f, err
	}
	f.rustcVV, f.dpkg, _ = strings.Cut(out, "---\n")
	if p.cfg.ToolchainImage != "" {
		// ImageRef answers only right after From: the toolchain has the
		// build packages and the C settings on top.
		ref, err := p.cfg.RegistryAuth.Apply(p.c.Container(), p.cfg.ToolchainImage).From(p.cfg.ToolchainImage).ImageRef(ctx)
		if err != nil {
			return f, fmt.Errorf("the toolchain image's digest: %w", err)
		}
		f.toolchain = ref
		return f, nil
	}
	base, err := p.c.Container().From(p.cfg.BaseImage).ImageRef(ctx)
	if err != nil {
		return f, fmt.Errorf("the base image's digest: %w", err)
	}
	f.baseImage = base
	f.toolchain = RecipeDigest(base, p.cfg.Project.BuildPackages, p.cfg.Targets)
	return f, nil
}

// RecipeDigest names the toolchain a recipe builds: the base image (by
// digest), the recipe, and the project's build packages with the
// architectures they are installed for.
func RecipeDigest(baseImageRef string, buildPackages []string, targets []target.Target) string {
	recipe := baseImageRef + "\n" + ToolchainScript()
	if len(buildPackages) > 0 {
		pkgs := append([]string(nil), buildPackages...)
		sort.Strings(pkgs)
		recipe += "\n" + BuildPackagesScript() + "\n" + buildArchs(targets) + "\n" + strings.Join(pkgs, " ")
	}
	sum := sha256.Sum256([]byte(recipe))
	return "recipe:sha256:" + hex.EncodeToString(sum[:])
}

// rustcRelease is the "rustc x.y.z (...)" line of `rustc -vV`.
func rustcRelease(vv string) string {
	line, _, _ := strings.Cut(strings.TrimSpace(vv), "\n")
	return line
}

// stdPackages lists the pinned std packages the recipe fetches.
func stdPackages() []sbom.StdPackage {
	var out []sbom.StdPackage
	for _, t := range target.All {
		if t.StdDeb() != "" {
			out = append(out, sbom.StdPackage{File: t.StdDeb(), SHA256: t.StdSHA256, Triple: t.Triple})
		}
	}
	return out
}

// supplyChain gathers the SBOM's inputs in the engine (cargo metadata for
// each target, the toolchain's facts), writes the SBOM and returns what the
// manifest records of the build.
func (p *Pipeline) supplyChain(ctx context.Context) (*dagger.File, *manifest.Build, error) {
	targets := p.cfg.Targets
	metas := make([]sbom.Target, len(targets))
	var lock string
	var facts toolchainFacts
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error {
		ctr, err := p.Metadata(targets).Sync(gctx)
		if err != nil {
			return fmt.Errorf("cargo metadata: %w", err)
		}
		reads, rctx := errgroup.WithContext(gctx)
		for i, t := range targets {
			reads.Go(func() error {
				data, err := ctr.File(MetadataFile(t)).Contents(rctx)
				if err != nil {
					return fmt.Errorf("cargo metadata for %s: %w", t.Name, err)
				}
				metas[i] = sbom.Target{Name: t.Name, Triple: t.Triple, Metadata: []byte(data)}
				return nil
			})
		}
		reads.Go(func() error {
			var err error
			if lock, err = ctr.File(metadataOut + "/Cargo.lock").Contents(rctx); err != nil {
				return fmt.Errorf("Cargo.lock: %w", err)
			}
			return nil
		})
		return reads.Wait()
	})
	g.Go(func() error {
		var err error
		facts, err = p.toolchainFacts(gctx)
		return err
	})
	if err := g.Wait(); err != nil {
		return nil, nil, err
	}
	pkgs, err := sbom.ParseDpkg(facts.dpkg)
	if err != nil {
		return nil, nil, err
	}
	s := p.cfg.Project
	doc, err := sbom.Build(sbom.Input{
		Project: s.Name, Version: p.cfg.Version, Binary: s.Binary, Package: s.Package,
		Lock: []byte(lock), Targets: metas,
		Toolchain: sbom.Toolchain{RustcVV: facts.rustcVV, Packages: pkgs, Std: stdPackages(), Image: facts.toolchain},
		Timestamp: time.Unix(p.cfg.SourceDateEpoch, 0).UTC(),
	})
	if err != nil {
		return nil, nil, err
	}
	b := &manifest.Build{
		SourceDateEpoch: p.cfg.SourceDateEpoch,
		Toolchain:       facts.toolchain,
		BaseImage:       facts.baseImage,
		Rustc:           rustcRelease(facts.rustcVV),
		Package:         s.Package,
		Features:        s.Features,
	}
	return p.c.Directory().WithNewFile(manifest.SBOMName, string(doc)).File(manifest.SBOMName), b, nil
}
