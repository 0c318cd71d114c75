package pipeline

import (
	"fmt"
	"sort"
	"strings"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/target"
)

// hostPackages are installed whatever the targets: Debian's Rust, the host
// C and C++ toolchain (static glibc for amd64), qemu-user to run foreign
// binaries without binfmt, what the std download and smoke tests use, and
// what build scripts that compile C commonly run: make, cmake, perl,
// pkg-config, autoconf and its runtime needs (m4, file, libtool), nasm.
var hostPackages = []string{
	"rustc", "cargo", "rustfmt", "rust-clippy", "libstd-rust-dev",
	"gcc", "g++", "libc6-dev", "qemu-user", "file", "curl", "ca-certificates",
	"make", "cmake", "perl", "pkg-config", "m4", "autoconf", "automake", "libtool", "nasm",
	// The compile cache (see CompileCache) and its target/ snapshots.
	"sccache", "zstd",
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
		if t.Foreign() {
			// The target's pkg-config, where the cc/pkg-config crates
			// (PKG_CONFIG_<triple>) and configure --host=<prefix> look.
			fmt.Fprintf(&b, "cat > /usr/local/bin/%s <<'EOF'\n%sEOF\nchmod 755 /usr/local/bin/%s\n", t.PkgConfig(), t.PkgConfigWrapper(), t.PkgConfig())
		}
	}
	b.WriteString("rm -rf /var/lib/apt/lists/*\nrustc --version\n")
	return b.String()
}

// BuildPackagesFile lists, in the toolchain, the packages of the targets'
// architectures that build-packages unpacked (dpkg does not know them):
// "name<TAB>version<TAB>arch" lines, as dpkg-query prints its own, for the
// SBOM.
const BuildPackagesFile = "/usr/share/garage-release/build-packages.tsv"

// BuildPackagesScript installs the project's build-packages (its arguments)
// for the host with apt, and the libraries among them (Multi-Arch: same,
// with their library dependencies) for every foreign target's
// architecture. Those are fetched by apt (checked against the signed
// package lists) and unpacked into /usr/lib/<multiarch>, where the cross
// compilers and the target's pkg-config look, rather than installed by
// dpkg: co-installed Multi-Arch packages must have the host's exact
// version, and a mirror whose foreign-architecture files lag its lists
// would then fail for every library, not only the lagging ones. What the
// cross toolchain already provides (libc, libgcc, libstdc++) is skipped.
func BuildPackagesScript() string {
	return `set -eu
export DEBIAN_FRONTEND=noninteractive
die() { echo "build-packages: $*" >&2; exit 1; }
# BUILD_ARCHS: "<debian arch>:<target name>" of each foreign target built.
for spec in $BUILD_ARCHS; do dpkg --add-architecture "${spec%%:*}"; done
apt-get update -q || die "apt-get update failed (above): the Debian archive of the base image is unreachable"
missing=
for p in "$@"; do
  apt-cache show --no-all-versions "$p" >/dev/null 2>&1 || missing="$missing $p"
done
[ -z "$missing" ] || die "Debian has no package named${missing}: check build-packages in Cargo.toml (or --build-packages); 'apt-cache search <word>' finds names"
apt-get install -y -q --no-install-recommends "$@" || die "installing $* for the host failed (apt's message is above)"
work=$(mktemp -d)
chown _apt "$work" 2>/dev/null || true
cd "$work"
mkdir -p "${BUILD_PACKAGES_FILE%/*}"
: > "$BUILD_PACKAGES_FILE"
for spec in $BUILD_ARCHS; do
  arch=${spec%%:*} tgt=${spec#*:}
  libs=
  for p in "$@"; do
    ma=$(apt-cache show --no-all-versions "$p:$arch" 2>/dev/null | sed -n 's/^Multi-Arch: *//p' | head -n 1)
    [ "$ma" = same ] && libs="$libs $p:$arch"
  done
  [ -n "$libs" ] || continue
  sim=$(apt-get install -s -q --no-install-recommends $libs 2>&1) || { echo "$sim" >&2; die "apt cannot resolve$libs (target $tgt): its message is above"; }
  want=$(echo "$sim" | sed -n "s/^Inst \([^ :]*\):$arch [^(]*(\([^ ]*\) .*/\1 \2/p" | while read -r name version; do
    case "$name" in gcc-*-base) continue ;; esac
    # Provided by the cross toolchain (libc6-dev-armel-cross, ...).
    dpkg -s "$name-$arch-cross" >/dev/null 2>&1 && continue
    echo "$name:$arch=$version"
  done)
  [ -n "$want" ] || continue
  for w in $want; do
    name=${w%%=*} version=${w#*=}
    # The candidate first, then the other versions the lists offer (a
    # security update's files may lag on a mirror while the point
    # release's are there): unpacked, not installed, a library needs no
    # exact match with the host's version.
    got=
    for v in $version $(apt-cache madison "$name" 2>/dev/null | awk -F'|' -v a="$arch" '$3 ~ a" Packages" { gsub(/ /, "", $2); print $2 }'); do
      if apt-get download -q "$name=$v" 2>"$work.err"; then
        got=$v
        break
      fi
      cat "$work.err" >&2
    done
    [ -n "$got" ] || die "no version of $name (for the $tgt target) could be downloaded (apt's messages are above): this Debian mirror's $arch files lag its package lists. Leave the $tgt target out (targets in Cargo.toml, or --targets), or retry once the mirror has caught up"
    [ "$got" = "$version" ] || echo "build-packages: note: $name: $version is missing from the mirror, using $got" >&2
    printf '%s\t%s\t%s\n' "${name%%:*}" "$got" "$arch" >> "$BUILD_PACKAGES_FILE"
  done
done
for deb in *.deb; do
  [ -e "$deb" ] || continue
  rm -rf x
  dpkg-deb -x "$deb" x
  # Headers shared by every architecture are the host's already.
  cp -a --update=none x/. /
done
cd /
rm -rf "$work" /var/lib/apt/lists/*
`
}

// buildArchs is BUILD_ARCHS for targets: the foreign ones, as
// "<debian arch>:<target name>".
func buildArchs(targets []target.Target) string {
	var archs []string
	for _, t := range targets {
		if t.Foreign() {
			archs = append(archs, t.DebArch+":"+t.Name)
		}
	}
	return strings.Join(archs, " ")
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
	// BuildPackages are the project's Debian packages for its build
	// scripts (project.Settings.BuildPackages), installed on top for the
	// host and for the architectures of Targets: only those, so that a
	// library the archive lacks for one architecture stops only the
	// releases that build it.
	BuildPackages []string
	Targets       []target.Target
	// ImageComplete says Image is a whole toolchain of this recipe (one
	// pushed by its recipe digest, build packages included): nothing is
	// installed on top.
	ImageComplete bool
	// Auth is the registry login Image is pulled with; nil: anonymous.
	Auth *RegistryAuth
}

// Toolchain returns the toolchain image: the pushed one when cfg.Image is
// set, else the recipe built on the base image. The engine caches the
// recipe's steps, so it is built once per recipe.
func Toolchain(c *dagger.Client, cfg ToolchainConfig) *dagger.Container {
	var ctr *dagger.Container
	if cfg.Image != "" {
		ctr = cfg.Auth.Apply(c.Container(), cfg.Image).From(cfg.Image)
	} else {
		ctr = baseToolchain(c, cfg)
	}
	if len(cfg.BuildPackages) > 0 && !cfg.ImageComplete {
		pkgs := append([]string(nil), cfg.BuildPackages...)
		sort.Strings(pkgs)
		ctr = ctr.
			WithEnvVariable("BUILD_PACKAGES_FILE", BuildPackagesFile).
			WithEnvVariable("BUILD_ARCHS", buildArchs(cfg.Targets)).
			WithExec(append([]string{"sh", "-c", BuildPackagesScript(), "install-build-packages"}, pkgs...)).
			WithoutEnvVariable("BUILD_PACKAGES_FILE").
			WithoutEnvVariable("BUILD_ARCHS")
	}
	// Set after the recipe, so they are not part of its cache key, and on
	// a pulled toolchain too, which may predate them.
	for _, t := range target.All {
		for _, kv := range t.CEnv() {
			ctr = ctr.WithEnvVariable(kv[0], kv[1])
		}
	}
	return ctr
}

// ToolchainTag is the registry tag of the toolchain a recipe digest
// (RecipeDigest) names: the same recipe, base image and build packages give
// the same tag on every runner.
func ToolchainTag(recipeDigest string) string {
	return "recipe-" + strings.TrimPrefix(recipeDigest, "recipe:sha256:")
}

// baseToolchain is the recipe on the base image: the same for every project.
func baseToolchain(c *dagger.Client, cfg ToolchainConfig) *dagger.Container {
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
		WithLabel("org.opencontainers.image.description", "Debian's Rust "+target.RustStdVersion+" with std for "+strings.Join(target.Names(), ", ")+", their C and C++ cross compilers and build tools")
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
