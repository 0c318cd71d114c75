// Package scaffold writes what a maintainer needs to adopt garage-release
// in their own repository: a CI file for their provider that runs a pinned
// version, and the [*.metadata.release] block for their Cargo.toml, filled
// from what the project has. It is pure: the init command does the I/O.
package scaffold

import (
	"fmt"
	"io/fs"
	"path"
	"strings"

	"github.com/garage-release/garage-release/ci/project"
)

// Module is garage-release's Go module path.
const Module = "github.com/garage-release/garage-release"

// Providers are the CI providers init writes a file for, by name.
var Providers = []string{"github", "forgejo", "gitlab", "woodpecker"}

// Input is what the files are made from.
type Input struct {
	// Version pins garage-release: a release tag or a pseudo-version.
	Version string
	// Settings are the project's, as read from its Cargo.toml.
	Settings project.Settings
	// Detected is what Detect found in the project.
	Detected Detected
}

// Detected is what init finds in the project for its settings.
type Detected struct {
	// Docs is an mdBook folder (one holding book.toml), "" when none.
	Docs string
	// SmokeTest is a smoke script at a usual place, "" when none.
	SmokeTest string
}

// docsPlaces and smokePlaces are where projects usually keep them, in the
// order they are tried (Garage's book is doc/book).
var (
	docsPlaces  = []string{"doc/book", "docs/book", "book", "docs", "doc"}
	smokePlaces = []string{"smoke.sh", "scripts/smoke.sh", "ci/smoke.sh", "script/smoke.sh", "tests/smoke.sh"}
)

// Detect looks for an mdBook folder and a smoke script.
func Detect(fsys fs.FS) Detected {
	var d Detected
	for _, p := range docsPlaces {
		if isFile(fsys, path.Join(p, "book.toml")) {
			d.Docs = p
			break
		}
	}
	for _, p := range smokePlaces {
		if isFile(fsys, p) {
			d.SmokeTest = p
			break
		}
	}
	return d
}

func isFile(fsys fs.FS, name string) bool {
	info, err := fs.Stat(fsys, name)
	return err == nil && info.Mode().IsRegular()
}

// SettingsBlock is the release table for the project's Cargo.toml, with
// what is known filled in and the rest as comments.
func SettingsBlock(in Input) string {
	s := in.Settings
	var b strings.Builder
	fmt.Fprintf(&b, "[%s]\n", s.SettingsTable())
	fmt.Fprintf(&b, "binary = %q\n", s.Binary)
	if s.Package != "" {
		fmt.Fprintf(&b, "package = %q\n", s.Package)
	}
	targets := s.Targets
	if len(targets) == 0 {
		targets = []string{"amd64", "i386", "arm64", "arm"}
	}
	fmt.Fprintf(&b, "targets = [%s]\n", quoteList(targets))
	if d := firstNonEmpty(s.Docs, in.Detected.Docs); d != "" {
		fmt.Fprintf(&b, "docs = %q\n", d)
	} else {
		b.WriteString("# docs = \"doc/book\"                 # an mdBook folder (book.toml)\n")
	}
	if sm := firstNonEmpty(s.SmokeTest, in.Detected.SmokeTest); sm != "" {
		fmt.Fprintf(&b, "smoke-test = %q\n", sm)
	} else {
		b.WriteString("# smoke-test = \"smoke.sh\"           # default: <binary> --version names the version\n")
	}
	if len(s.BuildPackages) > 0 {
		fmt.Fprintf(&b, "build-packages = [%s]\n", quoteList(s.BuildPackages))
	} else {
		b.WriteString("# build-packages = [\"libzstd-dev\"]  # Debian packages the build scripts need\n")
	}
	b.WriteString("# image = \"" + s.ImageName() + "\"\n")
	b.WriteString("# lints = \"warn\"                    # report clippy findings instead of failing\n")
	return b.String()
}

func quoteList(list []string) string {
	q := make([]string, len(list))
	for i, v := range list {
		q[i] = fmt.Sprintf("%q", v)
	}
	return strings.Join(q, ", ")
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// File is one file init writes.
type File struct {
	Path    string // relative to the project, slash-separated
	Content string
}

// CIFile is the provider's release file: on a tag v* a release, every
// week a development release, published when the bucket is configured.
// It installs the pinned garage-release once and runs the binary, so the
// exit code tells bad input (2) from a failure (1): `go run` would turn
// both into 1.
func CIFile(provider string, in Input) (File, error) {
	if in.Version == "" {
		return File{}, fmt.Errorf("no version to pin")
	}
	switch provider {
	case "github", "forgejo":
		return actionsFile(provider, in), nil
	case "gitlab":
		return File{Path: ".gitlab-ci.yml", Content: gitlabFile(in)}, nil
	case "woodpecker":
		return File{Path: ".woodpecker/release.yml", Content: woodpeckerFile(in)}, nil
	}
	return File{}, fmt.Errorf("unknown CI provider %q (known: %s)", provider, strings.Join(Providers, ", "))
}

// installLine installs the pinned version as $bin/ci.
func installLine(in Input, bin string) string {
	return fmt.Sprintf(`GOBIN="%s" go install %s/ci@%s`, bin, Module, in.Version)
}

// releaseScript publishes when a bucket is configured, and otherwise
// releases into dist/ only.
func releaseScript(bin string) string {
	return fmt.Sprintf(`if [ -n "${S3_BUCKET:-}" ]; then set -- --publish; fi; "%s/ci" release "$@"`, bin)
}

func actionsFile(provider string, in Input) File {
	dir, runsOn := ".github/workflows", "ubuntu-latest"
	if provider == "forgejo" {
		dir, runsOn = ".forgejo/workflows", "docker"
	}
	content := fmt.Sprintf(`# Written by garage-release init (%[1]s %[2]s).
# A tag v* is a stable (or extra) release; the weekly run on the default
# branch is a development release. It publishes when the repository
# variables S3_ENDPOINT and S3_BUCKET are set (and REGISTRY for the image),
# with the secrets AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY,
# REGISTRY_USERNAME, REGISTRY_PASSWORD and, to sign, COSIGN_PRIVATE_KEY and
# COSIGN_PASSWORD; otherwise dist/ is kept as the run's artifact.
# With the bucket set, the compile cache lives there under _cache/ (or in
# the bucket the variable CACHE_BUCKET names): a tag or a protected branch
# writes it, any other run only reads it (see 'cache stats' and 'cache
# erase'); the toolchain image is kept in REGISTRY by its recipe.
name: release
on:
  push:
    tags: ["v*"]
  schedule:
    - cron: "17 3 * * 1"
  workflow_dispatch: {}
permissions:
  contents: read
jobs:
  release:
    runs-on: %[3]s
    env:
      S3_ENDPOINT: ${{ vars.S3_ENDPOINT }}
      S3_BUCKET: ${{ vars.S3_BUCKET }}
      CACHE_BUCKET: ${{ vars.CACHE_BUCKET }}
      REGISTRY: ${{ vars.REGISTRY }}
      AWS_ACCESS_KEY_ID: ${{ secrets.AWS_ACCESS_KEY_ID }}
      AWS_SECRET_ACCESS_KEY: ${{ secrets.AWS_SECRET_ACCESS_KEY }}
      REGISTRY_USERNAME: ${{ secrets.REGISTRY_USERNAME }}
      REGISTRY_PASSWORD: ${{ secrets.REGISTRY_PASSWORD }}
      COSIGN_PRIVATE_KEY: ${{ secrets.COSIGN_PRIVATE_KEY }}
      COSIGN_PASSWORD: ${{ secrets.COSIGN_PASSWORD }}
    steps:
      - uses: actions/checkout@v4
        with:
          fetch-depth: 0
      - uses: actions/setup-go@v5
        with:
          go-version: "1.26"
      # Installed once, then run: its exit code says 2 for bad input and 1
      # for a failure (go run would say 1 for both).
      - name: Install garage-release %[2]s
        run: %[4]s
      - name: Release
        run: %[5]s
      - uses: actions/upload-artifact@v4
        if: always()
        with:
          name: dist
          path: dist/
          if-no-files-found: ignore
`, Module, in.Version, runsOn, installLine(in, "$RUNNER_TEMP/bin"), releaseScript("$RUNNER_TEMP/bin"))
	return File{Path: dir + "/release.yml", Content: content}
}

func gitlabFile(in Input) string {
	return fmt.Sprintf(`# Written by garage-release init (%[1]s %[2]s).
# A tag v* is a stable (or extra) release; a scheduled pipeline on the
# default branch is a development release. It publishes when the CI/CD
# variables S3_ENDPOINT and S3_BUCKET are set (REGISTRY for the image), with
# AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, REGISTRY_USERNAME,
# REGISTRY_PASSWORD, COSIGN_PRIVATE_KEY and COSIGN_PASSWORD as masked,
# protected variables. The docker:dind service provides the Dagger engine,
# empty every time: the compile cache in the bucket (under _cache/, or in
# CACHE_BUCKET) and the toolchain in REGISTRY make it start warm; a tag or
# a protected branch writes them, a merge request only reads them.
release:
  image: golang:1.26
  services:
    - docker:dind
  variables:
    DOCKER_HOST: tcp://docker:2375
    DOCKER_TLS_CERTDIR: ""
    GIT_DEPTH: "0"
  rules:
    - if: $CI_COMMIT_TAG =~ /^v/
    - if: $CI_PIPELINE_SOURCE == "schedule"
  script:
    - %[3]s
    - %[4]s
  artifacts:
    when: always
    paths:
      - dist/
`, Module, in.Version, installLine(in, "$CI_PROJECT_DIR/.garage-release-bin"), releaseScript("$CI_PROJECT_DIR/.garage-release-bin"))
}

func woodpeckerFile(in Input) string {
	return fmt.Sprintf(`# Written by garage-release init (%[1]s %[2]s).
# A tag v* is a stable (or extra) release; a cron event on the default
# branch is a development release. It publishes when S3_ENDPOINT and
# S3_BUCKET are set (REGISTRY for the image); the credentials come from the
# secrets below. The agent's Docker socket provides the Dagger engine. The
# compile cache lives in the bucket under _cache/ (or in CACHE_BUCKET): a
# tag or the default branch writes it, a pull request only reads it.
when:
  - event: tag
    ref: refs/tags/v*
  - event: cron
steps:
  - name: release
    image: golang:1.26
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
    environment:
      AWS_ACCESS_KEY_ID:
        from_secret: aws_access_key_id
      AWS_SECRET_ACCESS_KEY:
        from_secret: aws_secret_access_key
      REGISTRY_USERNAME:
        from_secret: registry_username
      REGISTRY_PASSWORD:
        from_secret: registry_password
      COSIGN_PRIVATE_KEY:
        from_secret: cosign_private_key
      COSIGN_PASSWORD:
        from_secret: cosign_password
    commands:
      - %[3]s
      - %[4]s
`, Module, in.Version, installLine(in, "/woodpecker/bin"), releaseScript("/woodpecker/bin"))
}
