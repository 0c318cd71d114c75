package target

import (
	"debug/elf"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// TestTable pins the target table to the design: the rows users pass on the
// command line, the triples cargo builds, the linkers, the image platforms
// and the emulators the tests run under.
func TestTable(t *testing.T) {
	want := []struct {
		name, triple, linker, platform, debArch string
		runner                                  []string
		machine                                 elf.Machine
		class                                   elf.Class
	}{
		{"amd64", "x86_64-unknown-linux-gnu", "cc", "linux/amd64", "amd64", nil, elf.EM_X86_64, elf.ELFCLASS64},
		{"i386", "i686-unknown-linux-gnu", "i686-linux-gnu-gcc", "linux/386", "i386", []string{"qemu-i386"}, elf.EM_386, elf.ELFCLASS32},
		{"arm64", "aarch64-unknown-linux-gnu", "aarch64-linux-gnu-gcc", "linux/arm64", "arm64", []string{"qemu-aarch64"}, elf.EM_AARCH64, elf.ELFCLASS64},
		{"arm", "armv5te-unknown-linux-gnueabi", "arm-linux-gnueabi-gcc", "linux/arm/v5", "armel", []string{"qemu-arm", "-cpu", "arm1176"}, elf.EM_ARM, elf.ELFCLASS32},
	}
	if len(All) != len(want) {
		t.Fatalf("All has %d targets %v, want %d", len(All), Names(), len(want))
	}
	for i, w := range want {
		got := All[i]
		t.Run(w.name, func(t *testing.T) {
			if got.Name != w.name {
				t.Errorf("row %d is %q, want %q", i, got.Name, w.name)
			}
			if got.Triple != w.triple {
				t.Errorf("Triple = %q, want %q", got.Triple, w.triple)
			}
			if got.Linker != w.linker {
				t.Errorf("Linker = %q, want %q", got.Linker, w.linker)
			}
			if got.Platform != w.platform {
				t.Errorf("Platform = %q, want %q", got.Platform, w.platform)
			}
			if got.DebArch != w.debArch {
				t.Errorf("DebArch = %q, want %q", got.DebArch, w.debArch)
			}
			if !slices.Equal(got.Runner, w.runner) {
				t.Errorf("Runner = %q, want %q", got.Runner, w.runner)
			}
			if got.Native() != (w.runner == nil) {
				t.Errorf("Native() = %v with Runner %q", got.Native(), got.Runner)
			}
			if got.Machine != w.machine || got.Class != w.class {
				t.Errorf("ELF = %v %v, want %v %v", got.Class, got.Machine, w.class, w.machine)
			}
			if got.Description == "" {
				t.Error("Description is empty")
			}
			if strings.Contains(strings.ToLower(got.Description), "armv6hf") {
				t.Errorf("Description %q says armv6hf: Debian has no armv6 hard-float std", got.Description)
			}
			if got.BinaryPath("kvstore") != w.triple+"/kvstore" {
				t.Errorf("BinaryPath = %q, want %q", got.BinaryPath("kvstore"), w.triple+"/kvstore")
			}
		})
	}
}

func TestArmIsARMv5TESoftFloatOnARMv6(t *testing.T) {
	arm, err := Lookup("arm")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"ARMv5TE", "soft-float", "ARMv6"} {
		if !strings.Contains(arm.Description, want) {
			t.Errorf("arm Description %q does not say %q", arm.Description, want)
		}
	}
}

// TestStdPins checks every foreign target pins its Debian std package: a
// 64-hex sha256 and the pool file name of exactly the host rustc's version.
func TestStdPins(t *testing.T) {
	hex64 := regexp.MustCompile(`^[0-9a-f]{64}$`)
	wantDeb := map[string]string{
		"amd64": "",
		"i386":  "libstd-rust-dev_1.85.1+dfsg1-1+deb13u1_i386.deb",
		"arm64": "libstd-rust-dev_1.85.1+dfsg1-1+deb13u1_arm64.deb",
		"arm":   "libstd-rust-dev_1.85.1+dfsg1-1+deb13u1_armel.deb",
	}
	sums := map[string]bool{}
	for _, tg := range All {
		if got := tg.StdDeb(); got != wantDeb[tg.Name] {
			t.Errorf("%s: StdDeb() = %q, want %q", tg.Name, got, wantDeb[tg.Name])
		}
		if tg.Name == "amd64" {
			if tg.StdSHA256 != "" || len(tg.CrossPackages) != 0 {
				t.Errorf("amd64 is the host: its std comes with rustc, got pin %q and packages %q", tg.StdSHA256, tg.CrossPackages)
			}
			continue
		}
		if !hex64.MatchString(tg.StdSHA256) {
			t.Errorf("%s: StdSHA256 %q is not 64 lowercase hex digits", tg.Name, tg.StdSHA256)
		}
		if sums[tg.StdSHA256] {
			t.Errorf("%s: StdSHA256 %s repeats another target's pin", tg.Name, tg.StdSHA256)
		}
		sums[tg.StdSHA256] = true
		// C and C++ cross compilers: build scripts compile both.
		triplet := strings.TrimSuffix(tg.Linker, "-gcc")
		wantPkgs := []string{"gcc-" + triplet, "g++-" + triplet, "libc6-dev-" + tg.DebArch + "-cross"}
		if !slices.Equal(tg.CrossPackages, wantPkgs) {
			t.Errorf("%s: CrossPackages = %q, want %q", tg.Name, tg.CrossPackages, wantPkgs)
		}
	}
}

func TestParse(t *testing.T) {
	tests := []struct {
		name string
		in   []string
		want []string
	}{
		{"nil means all", nil, []string{"amd64", "i386", "arm64", "arm"}},
		{"empty strings mean all", []string{"", " , "}, []string{"amd64", "i386", "arm64", "arm"}},
		{"one", []string{"arm64"}, []string{"arm64"}},
		{"comma list", []string{"arm,amd64"}, []string{"amd64", "arm"}},
		{"comma list with spaces", []string{" arm64 , i386 "}, []string{"i386", "arm64"}},
		{"repeated flags", []string{"arm", "i386"}, []string{"i386", "arm"}},
		{"triples", []string{"armv5te-unknown-linux-gnueabi", "x86_64-unknown-linux-gnu"}, []string{"amd64", "arm"}},
		{"duplicates removed", []string{"arm64,arm64", "aarch64-unknown-linux-gnu", "arm64"}, []string{"arm64"}},
		{"table order", []string{"arm,arm64,i386,amd64"}, []string{"amd64", "i386", "arm64", "arm"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ts, err := Parse(tt.in)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tt.in, err)
			}
			var got []string
			for _, tg := range ts {
				got = append(got, tg.Name)
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("Parse(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseDoesNotAliasAll(t *testing.T) {
	ts, err := Parse(nil)
	if err != nil {
		t.Fatal(err)
	}
	ts[0].Name = "changed"
	if All[0].Name != "amd64" {
		t.Fatalf("changing Parse's result changed the table: All[0].Name = %q", All[0].Name)
	}
}

func TestParseUnknown(t *testing.T) {
	tests := []struct {
		in      []string
		unknown string
	}{
		{[]string{"armv6hf"}, `"armv6hf"`},
		{[]string{"amd64,riscv64"}, `"riscv64"`},
		{[]string{"arm64", "x86_64-unknown-linux-musl"}, `"x86_64-unknown-linux-musl"`},
	}
	for _, tt := range tests {
		_, err := Parse(tt.in)
		if err == nil {
			t.Errorf("Parse(%q) succeeded, want an error", tt.in)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, tt.unknown) {
			t.Errorf("Parse(%q) error %q does not name %s", tt.in, msg, tt.unknown)
		}
		if !strings.Contains(msg, "amd64, i386, arm64, arm") {
			t.Errorf("Parse(%q) error %q does not list the known targets", tt.in, msg)
		}
	}
}

func TestEnvTriple(t *testing.T) {
	want := map[string]string{
		"amd64": "X86_64_UNKNOWN_LINUX_GNU",
		"i386":  "I686_UNKNOWN_LINUX_GNU",
		"arm64": "AARCH64_UNKNOWN_LINUX_GNU",
		"arm":   "ARMV5TE_UNKNOWN_LINUX_GNUEABI",
	}
	for _, tg := range All {
		if got := tg.EnvTriple(); got != want[tg.Name] {
			t.Errorf("%s: EnvTriple() = %q, want %q", tg.Name, got, want[tg.Name])
		}
	}
}

func TestPlatforms(t *testing.T) {
	ts, err := Parse([]string{"arm,arm64"})
	if err != nil {
		t.Fatal(err)
	}
	if got, want := Platforms(ts), []string{"linux/arm64", "linux/arm/v5"}; !slices.Equal(got, want) {
		t.Errorf("Platforms = %q, want %q", got, want)
	}
}

// TestCEnv: each target tells build scripts its C tools under the names
// the cc and pkg-config crates read, and its pkg-config reads only the
// .pc files of its own architecture.
func TestCEnv(t *testing.T) {
	want := map[string][][2]string{
		"amd64": {{"AR_x86_64_unknown_linux_gnu", "ar"}, {"CC_x86_64_unknown_linux_gnu", "cc"}, {"CXX_x86_64_unknown_linux_gnu", "c++"}, {"PKG_CONFIG_x86_64_unknown_linux_gnu", "pkg-config"}},
		"arm64": {{"AR_aarch64_unknown_linux_gnu", "aarch64-linux-gnu-ar"}, {"CC_aarch64_unknown_linux_gnu", "aarch64-linux-gnu-gcc"}, {"CXX_aarch64_unknown_linux_gnu", "aarch64-linux-gnu-g++"},
			{"PKG_CONFIG_aarch64_unknown_linux_gnu", "aarch64-linux-gnu-pkg-config"}, {"PKG_CONFIG_ALLOW_CROSS_aarch64_unknown_linux_gnu", "1"}},
		"arm": {{"AR_armv5te_unknown_linux_gnueabi", "arm-linux-gnueabi-ar"}, {"CC_armv5te_unknown_linux_gnueabi", "arm-linux-gnueabi-gcc"}, {"CXX_armv5te_unknown_linux_gnueabi", "arm-linux-gnueabi-g++"},
			{"PKG_CONFIG_armv5te_unknown_linux_gnueabi", "arm-linux-gnueabi-pkg-config"}, {"PKG_CONFIG_ALLOW_CROSS_armv5te_unknown_linux_gnueabi", "1"}},
	}
	for _, tg := range All {
		if w, ok := want[tg.Name]; ok && !slices.Equal(tg.CEnv(), w) {
			t.Errorf("%s: CEnv() = %q, want %q", tg.Name, tg.CEnv(), w)
		}
		// The cross compiler is the linker, and the C compiler is the
		// linker's sibling.
		if tg.Foreign() && tg.ToolPrefix+"gcc" != tg.Linker {
			t.Errorf("%s: tool prefix %q does not match the linker %q", tg.Name, tg.ToolPrefix, tg.Linker)
		}
		if !tg.Foreign() {
			continue
		}
		w := tg.PkgConfigWrapper()
		if !strings.Contains(w, "PKG_CONFIG_LIBDIR=/usr/lib/"+tg.Multiarch+"/pkgconfig:") || !strings.HasPrefix(w, "#!/bin/sh\n") {
			t.Errorf("%s: the pkg-config wrapper does not look in /usr/lib/%s/pkgconfig:\n%s", tg.Name, tg.Multiarch, w)
		}
	}
	multiarch := map[string]string{"amd64": "x86_64-linux-gnu", "i386": "i386-linux-gnu", "arm64": "aarch64-linux-gnu", "arm": "arm-linux-gnueabi"}
	for _, tg := range All {
		if tg.Multiarch != multiarch[tg.Name] {
			t.Errorf("%s: Multiarch %q, want Debian's %q", tg.Name, tg.Multiarch, multiarch[tg.Name])
		}
	}
}
