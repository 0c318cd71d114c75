package pipeline

import (
	"fmt"
	"sort"
	"strings"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/target"
)

// hostPackages are installed whatever the targets: Debian's Rust, the host
// C toolchain (static glibc for amd64), qemu-user to run foreign binaries
// without binfmt, and what the std download and smoke tests use.
var hostPackages = []string{
	"rustc", "cargo", "rustfmt", "rust-clippy", "libstd-rust-dev",
	"gcc", "libc6-dev", "qemu-user", "file", "curl", "ca-certificates",
}

// ToolchainPackages lists the Debian packages of the toolchain image, for
// every target in the table, sorted. The toolchain always carries every
// target so all commands share one cached image.
func ToolchainPackages() []string {
	pkgs := append([]string(nil), hostPackages...)
	for _, t := range target.All {
		pkgs = append(pkgs, t.CrossPackages...)
	}
	sort.Strings(pkgs)
	return pkgs
}

// ToolchainScript is the shell script that turns the base image into the
// toolchain. It is data, not a file in the project, so that the recipe (and
// with it the engine's cache key) changes exactly when the table changes.
func ToolchainScript() string {
	var b strings.Builder
	fmt.Fprintf(&b, `set -eu
export DEBIAN_FRONTEND=noninteractive
apt-get update -q
apt-get install -y -q --no-install-recommends %s
have=$(dpkg-query -W -f='${Version}' rustc)
if [ "$have" != %q ]; then
  echo "toolchain: the base image's rustc is $have but the pinned Rust std packages are for %s: update RustStdVersion and the sha256 pins in ci/target/target.go" >&2
  exit 1
fi
mirror="${DEBIAN_MIRROR:-}"
if [ -z "$mirror" ]; then
  mirror=$(sed -n 's/^URIs:[[:space:]]*//p' /etc/apt/sources.list.d/*.sources 2>/dev/null | awk '{print $1; exit}')
fi
if [ -z "$mirror" ]; then
  mirror=$(awk '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:\/\//) { print $i; exit } }' /etc/apt/sources.list 2>/dev/null)
fi
if [ -z "$mirror" ]; then
  echo "toolchain: no Debian mirror found in the base image's apt sources: pass --debian-mirror" >&2
  exit 1
fi
mirror=${mirror%%/}
fetch_std() { # file sha256 triple
  url="$mirror/pool/main/r/rustc/$1"
  if ! curl -fsSL --retry 3 -o "/tmp/$1" "$url"; then
    echo "toolchain: the pinned Rust std package $1 could not be fetched from $url (gone from the archive after an update?): update RustStdVersion and the sha256 pins in ci/target/target.go" >&2
    exit 1
  fi
  if ! echo "$2  /tmp/$1" | sha256sum -c --quiet -; then
    echo "toolchain: $1 from $url does not match its pinned sha256 $2" >&2
    exit 1
  fi
  # Multi-Arch: same packages never clash, so unpacking onto / is safe.
  dpkg-deb -x "/tmp/$1" /
  rm -f "/tmp/$1"
  libdir=$(rustc --print target-libdir --target "$3")
  if ! ls "$libdir"/libstd-*.rlib >/dev/null 2>&1; then
    echo "toolchain: $1 unpacked but rustc finds no std for $3 in $libdir" >&2
    exit 1
  fi
}
`, strings.Join(ToolchainPackages(), " "), target.RustStdVersion, target.RustStdVersion)
	for _, t := range target.All {
		if t.StdDeb() != "" {
			fmt.Fprintf(&b, "fetch_std %s %s %s\n", t.StdDeb(), t.StdSHA256, t.Triple)
		}
	}
	b.WriteString("rm -rf /var/lib/apt/lists/*\nrustc --version\n")
	return b.String()
}

// ToolchainConfig chooses where the toolchain comes from.
type ToolchainConfig struct {
	// BaseImage is the image the recipe starts from (DefaultBaseImage).
	BaseImage string
	// DebianMirror overrides the archive of the pinned std packages.
	DebianMirror string
	// Image, when set, is a pushed toolchain pulled instead of the recipe.
	Image string
	// CacheBust, when set, makes the engine run the recipe again.
	CacheBust string
}

// Toolchain returns the toolchain image: the pushed one when cfg.Image is
// set, else the recipe built on the base image. The engine caches the
// recipe's steps, so it is built once per recipe.
func Toolchain(c *dagger.Client, cfg ToolchainConfig) *dagger.Container {
	if cfg.Image != "" {
		return c.Container().From(cfg.Image)
	}
	if cfg.BaseImage == "" {
		cfg.BaseImage = DefaultBaseImage
	}
	ctr := c.Container().From(cfg.BaseImage)
	if cfg.CacheBust != "" {
		ctr = ctr.WithEnvVariable("GARAGE_RELEASE_CACHE_BUST", cfg.CacheBust)
	}
	if cfg.DebianMirror != "" {
		ctr = ctr.WithEnvVariable("DEBIAN_MIRROR", cfg.DebianMirror)
	}
	return ctr.
		WithExec([]string{"sh", "-c", ToolchainScript()}).
		WithoutEnvVariable("DEBIAN_MIRROR").
		WithoutEnvVariable("GARAGE_RELEASE_CACHE_BUST").
		WithLabel("org.opencontainers.image.title", "garage-release toolchain").
		WithLabel("org.opencontainers.image.description", "Debian's Rust "+target.RustStdVersion+" with std for "+strings.Join(target.Names(), ", "))
}

// Toolchain returns the pipeline's toolchain (see the Toolchain function).
func (p *Pipeline) Toolchain() *dagger.Container { return p.toolchain }

// Runner is the toolchain plus the Debian packages the project's tests and
// smoke script need, in a layer of their own so the toolchain stays shared.
func (p *Pipeline) Runner() *dagger.Container {
	pkgs := p.cfg.Project.TestPackages
	if len(pkgs) == 0 {
		return p.Toolchain()
	}
	sorted := append([]string(nil), pkgs...)
	sort.Strings(sorted)
	args := append([]string{"sh", "-c",
		"set -eu; export DEBIAN_FRONTEND=noninteractive; apt-get update -q; apt-get install -y -q --no-install-recommends \"$@\"; rm -rf /var/lib/apt/lists/*",
		"install-test-packages"}, sorted...)
	return p.Toolchain().WithExec(args)
}
