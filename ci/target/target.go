// Package target holds the table of release targets. One table feeds the
// toolchain recipe, the builds, the tests, the images, the release page and
// the docs, so adding a target is one row here.
package target

import (
	"debug/elf"
	"fmt"
	"strings"
)

// RustStdVersion is the Debian version of trixie's rustc. The foreign std
// packages must be exactly this version: rustc refuses a std built by another.
const RustStdVersion = "1.85.1+dfsg1-1+deb13u1"

// Target is one release architecture.
type Target struct {
	// Name is the short name used on the command line and in Cargo.toml.
	Name string
	// Triple is the Rust target triple; binaries land in dist/<Triple>/.
	Triple string
	// Linker is the C compiler cargo links with.
	Linker string
	// ToolPrefix is the prefix of the target's GNU tools (gcc, g++, ar,
	// pkg-config): "aarch64-linux-gnu-"; empty for the host's own.
	ToolPrefix string
	// Multiarch is Debian's multiarch folder name, where a -dev package of
	// the target's architecture puts its libraries (/usr/lib/<Multiarch>).
	Multiarch string
	// Platform is the OCI platform of the image layer.
	Platform string
	// DebArch is Debian's architecture name for the cross packages.
	DebArch string
	// StdSHA256 pins libstd-rust-dev_<RustStdVersion>_<DebArch>.deb; empty for
	// the host architecture, whose std comes with rustc.
	StdSHA256 string
	// CrossPackages are the Debian packages the cross build needs.
	CrossPackages []string
	// Runner is the command that runs this target's binaries on an amd64
	// host; empty when they run natively.
	Runner []string
	// Machine and Class are what debug/elf must read from the binary.
	Machine elf.Machine
	Class   elf.Class
	// Description names the hardware the binary runs on, for people.
	Description string
}

// All lists every target, in the order they are shown.
var All = []Target{
	{
		Name: "amd64", Triple: "x86_64-unknown-linux-gnu", Linker: "cc",
		Platform: "linux/amd64", DebArch: "amd64", Multiarch: "x86_64-linux-gnu",
		Machine: elf.EM_X86_64, Class: elf.ELFCLASS64,
		Description: "64-bit x86 (x86_64)",
	},
	{
		Name: "i386", Triple: "i686-unknown-linux-gnu", Linker: "i686-linux-gnu-gcc",
		ToolPrefix: "i686-linux-gnu-", Multiarch: "i386-linux-gnu",
		Platform: "linux/386", DebArch: "i386",
		StdSHA256:     "11430bba35389141892b64ba891fa7f326289337929a6d1438e6ed39d4d9ee67",
		CrossPackages: []string{"gcc-i686-linux-gnu", "g++-i686-linux-gnu", "libc6-dev-i386-cross"},
		// Not run natively: some kernels (VMs among them) turn IA32
		// emulation off, and the smoke test would fail with "Exec format
		// error" for a binary that is fine. qemu-user runs it anywhere.
		Runner:  []string{"qemu-i386"},
		Machine: elf.EM_386, Class: elf.ELFCLASS32,
		Description: "32-bit x86 (i686)",
	},
	{
		Name: "arm64", Triple: "aarch64-unknown-linux-gnu", Linker: "aarch64-linux-gnu-gcc",
		ToolPrefix: "aarch64-linux-gnu-", Multiarch: "aarch64-linux-gnu",
		Platform: "linux/arm64", DebArch: "arm64",
		StdSHA256:     "176facb3ae2ee70d8f7e3a7c2f6c2b0fca16211ae2edadad9e6ce133dedd2ad1",
		CrossPackages: []string{"gcc-aarch64-linux-gnu", "g++-aarch64-linux-gnu", "libc6-dev-arm64-cross"},
		Runner:        []string{"qemu-aarch64"},
		Machine:       elf.EM_AARCH64, Class: elf.ELFCLASS64,
		Description: "64-bit ARM (aarch64)",
	},
	{
		Name: "arm", Triple: "armv5te-unknown-linux-gnueabi", Linker: "arm-linux-gnueabi-gcc",
		ToolPrefix: "arm-linux-gnueabi-", Multiarch: "arm-linux-gnueabi",
		Platform: "linux/arm/v5", DebArch: "armel",
		StdSHA256:     "a4e1dc91ef6aeca6ed0e67d4f7ec12b39b8ec99281c61b6346bfd458cdbb96a8",
		CrossPackages: []string{"gcc-arm-linux-gnueabi", "g++-arm-linux-gnueabi", "libc6-dev-armel-cross"},
		// arm1176 is the ARMv6 core of the Raspberry Pi 1 and Zero: running the
		// tests on it proves the ARMv5TE build runs there.
		Runner:  []string{"qemu-arm", "-cpu", "arm1176"},
		Machine: elf.EM_ARM, Class: elf.ELFCLASS32,
		Description: "32-bit ARM, ARMv5TE soft-float: runs on ARMv6 (Raspberry Pi 1/Zero) and later",
	},
}

// Names returns the short names of all targets.
func Names() []string {
	names := make([]string, len(All))
	for i, t := range All {
		names[i] = t.Name
	}
	return names
}

// Lookup finds a target by short name or by Rust triple.
func Lookup(name string) (Target, error) {
	for _, t := range All {
		if t.Name == name || t.Triple == name {
			return t, nil
		}
	}
	return Target{}, fmt.Errorf("unknown target %q (known: %s)", name, strings.Join(Names(), ", "))
}

// Parse turns names (short or triples, possibly comma-separated inside one
// element) into targets in table order, without duplicates. An empty list
// means every target.
func Parse(names []string) ([]Target, error) {
	seen := map[string]bool{}
	for _, n := range names {
		for _, part := range strings.Split(n, ",") {
			part = strings.TrimSpace(part)
			if part == "" {
				continue
			}
			t, err := Lookup(part)
			if err != nil {
				return nil, err
			}
			seen[t.Name] = true
		}
	}
	if len(seen) == 0 {
		return append([]Target(nil), All...), nil
	}
	var out []Target
	for _, t := range All {
		if seen[t.Name] {
			out = append(out, t)
		}
	}
	return out, nil
}

// Native reports whether the target's binaries run on the amd64 host
// without an emulator.
func (t Target) Native() bool { return len(t.Runner) == 0 }

// EnvTriple is the triple as cargo spells it in environment variables
// (CARGO_TARGET_<EnvTriple>_LINKER).
func (t Target) EnvTriple() string {
	return strings.ToUpper(strings.ReplaceAll(t.Triple, "-", "_"))
}

// StdDeb is the file name of the pinned Rust std package for the target, or
// "" for the host architecture.
func (t Target) StdDeb() string {
	if t.StdSHA256 == "" {
		return ""
	}
	return fmt.Sprintf("libstd-rust-dev_%s_%s.deb", RustStdVersion, t.DebArch)
}

// Foreign reports whether the target is another architecture than the
// amd64 host, whose C libraries come from Debian's multiarch packages.
func (t Target) Foreign() bool { return t.ToolPrefix != "" }

// CEnvTriple is the triple as the cc and pkg-config crates read it in
// variable names: CC_aarch64_unknown_linux_gnu.
func (t Target) CEnvTriple() string { return strings.ReplaceAll(t.Triple, "-", "_") }

// PkgConfig is the pkg-config the target's build scripts run: the host's
// for amd64, else a wrapper that looks only at the target's multiarch
// folder (see PkgConfigWrapper).
func (t Target) PkgConfig() string {
	if !t.Foreign() {
		return "pkg-config"
	}
	return t.ToolPrefix + "pkg-config"
}

// PkgConfigWrapper is the script installed as PkgConfig() for a foreign
// target: pkg-config reading the .pc files of the target's architecture
// only, so a cross build never links the host's libraries. Configure
// scripts given --host=<prefix> find it by that name too.
func (t Target) PkgConfigWrapper() string {
	return "#!/bin/sh\n" +
		"# pkg-config for " + t.Triple + ": the .pc files of " + t.DebArch + " packages only.\n" +
		"PKG_CONFIG_LIBDIR=/usr/lib/" + t.Multiarch + "/pkgconfig:/usr/share/pkgconfig\n" +
		"export PKG_CONFIG_LIBDIR\n" +
		"unset PKG_CONFIG_PATH\n" +
		"exec pkg-config \"$@\"\n"
}

// CEnv is what the target's C build scripts read, under the names the cc
// and pkg-config crates (and so most -sys crates) look for: the C and C++
// compilers, the archiver and pkg-config of the target. Sorted by name.
func (t Target) CEnv() [][2]string {
	cc, cxx, ar := t.ToolPrefix+"gcc", t.ToolPrefix+"g++", t.ToolPrefix+"ar"
	if !t.Foreign() {
		cc, cxx, ar = "cc", "c++", "ar"
	}
	tt := t.CEnvTriple()
	env := [][2]string{
		{"AR_" + tt, ar},
		{"CC_" + tt, cc},
		{"CXX_" + tt, cxx},
		{"PKG_CONFIG_" + tt, t.PkgConfig()},
	}
	if t.Foreign() {
		// The pkg-config crate refuses to answer for another target
		// unless told the answer is meant for it.
		env = append(env, [2]string{"PKG_CONFIG_ALLOW_CROSS_" + tt, "1"})
	}
	return env
}

// BinaryPath is where the target's binary sits inside dist/ and under a
// release's prefix in the bucket.
func (t Target) BinaryPath(binary string) string { return t.Triple + "/" + binary }

// Platforms returns the OCI platforms of the given targets, sorted as given.
func Platforms(ts []Target) []string {
	out := make([]string, len(ts))
	for i, t := range ts {
		out[i] = t.Platform
	}
	return out
}
