// Package diagnose reads the output of a failed cargo command and says, in
// one line each, what a maintainer must change when a build script or the
// linker missed something the toolchain lacks: the crate, the tool or
// library it missed, and the setting that adds it (build-packages). It is
// pure: text in, hints out.
package diagnose

import (
	"fmt"
	"maps"
	"regexp"
	"slices"
	"strings"
)

// Hint is one explained failure.
type Hint struct {
	// Crate is the crate whose build script failed ("zinfo v0.2.0"), empty
	// for a link failure.
	Crate string
	// Problem says what was missing.
	Problem string
	// Package is the Debian package that provides it, when known.
	Package string
	// Fix says what to change.
	Fix string
}

func (h Hint) String() string {
	s := h.Problem
	if h.Crate != "" {
		s = "build script of " + h.Crate + ": " + s
	}
	if h.Fix != "" {
		s += ": " + h.Fix
	}
	return s
}

// Setting names where build-packages is set, for the fixes: the table of
// the project's Cargo.toml ("package.metadata.release").
type Setting struct {
	Table string
}

func (s Setting) add(pkg string) string {
	table := s.Table
	if table == "" {
		table = "package.metadata.release"
	}
	if pkg == "" {
		return fmt.Sprintf("add the Debian package that provides it to build-packages under [%s] in Cargo.toml (or --build-packages)", table)
	}
	return fmt.Sprintf("add %q to build-packages under [%s] in Cargo.toml (or --build-packages %s)", pkg, table, pkg)
}

var (
	buildScript = regexp.MustCompile("failed to run custom build command for `([^`(]+?)(?: \\([^)]*\\))?`")
	// The pkg-config crate: "The system library `zlib` required by crate
	// `libz-sys` was not found."
	systemLibrary = regexp.MustCompile("The system library `([^`]+)` required by crate `[^`]+` was not found")
	// pkg-config and pkgconf themselves.
	pcNotFound = regexp.MustCompile(`Package '?([A-Za-z0-9_.+-]+)'?,? (?:was not found in the pkg-config search path|required by '[^']*', not found|not found)`)
	// A shell, make or a Rust build script that could not start a tool.
	shNotFound    = regexp.MustCompile(`(?:^|\s)(?:/bin/)?(?:sh|bash|make(?:\[\d+\])?): (?:\d+: )?(?:line \d+: )?([A-Za-z0-9_.+-]+): (?:command )?not found`)
	isInstalled   = regexp.MustCompile("is `([^`]+)` (?:not )?installed\\?")
	failedToFind  = regexp.MustCompile(`(?i)failed to find tool\.? (?:Is )?[` + "`" + `"]([^` + "`" + `"]+)[` + "`" + `"]`)
	pkgConfigGone = regexp.MustCompile("The pkg-config command could not be found")
	opensslDir    = regexp.MustCompile(`Could not find directory of OpenSSL installation`)
	// bindgen, which loads libclang to read C headers.
	libclang     = regexp.MustCompile(`Unable to find libclang`)
	configureErr = regexp.MustCompile(`configure: error: (.+)`)
	// The linker: "ld: cannot find -lzstd: No such file or directory".
	cannotFind = regexp.MustCompile(`ld(?:\.bfd)?: cannot find -l([A-Za-z0-9_.+-]+)`)
	// Our own toolchain layer (pipeline.BuildPackagesScript).
	ourSetting = regexp.MustCompile(`(?m)^build-packages: .*$`)
)

// Explain reads a failed cargo command's output and returns a hint for
// each build script or link that failed for want of a tool or a library,
// without duplicates. Nothing is returned for other failures: the output's
// tail says more than a guess would.
func Explain(output string, s Setting) []Hint {
	var hints []Hint
	seen := map[string]bool{}
	add := func(h Hint) {
		key := h.Crate + "\x00" + h.Problem
		if !seen[key] {
			seen[key] = true
			hints = append(hints, h)
		}
	}
	for _, line := range ourSetting.FindAllString(output, -1) {
		if !strings.HasPrefix(line, "build-packages: note: ") {
			add(Hint{Problem: strings.TrimPrefix(line, "build-packages: ")})
		}
	}
	for _, sec := range sections(output) {
		for _, h := range explainSection(sec.text, s) {
			h.Crate = sec.crate
			add(h)
		}
	}
	for _, m := range cannotFind.FindAllStringSubmatch(output, -1) {
		lib := m[1]
		pkg := libraryPackage(lib)
		add(Hint{
			Problem: fmt.Sprintf("the linker found no library %q (lib%s.a: a static binary links archives)", lib, lib),
			Package: pkg,
			Fix:     s.add(pkg) + "; its -dev package must ship the .a file",
		})
	}
	return hints
}

type section struct{ crate, text string }

// sections splits cargo's output into the part each failed build script
// owns: from its "failed to run custom build command" line to the next.
func sections(output string) []section {
	locs := buildScript.FindAllStringSubmatchIndex(output, -1)
	out := make([]section, len(locs))
	for i, l := range locs {
		end := len(output)
		if i+1 < len(locs) {
			end = locs[i+1][0]
		}
		out[i] = section{crate: output[l[2]:l[3]], text: output[l[1]:end]}
	}
	return out
}

func explainSection(text string, s Setting) []Hint {
	var hints []Hint
	libs := map[string]bool{}
	for _, re := range []*regexp.Regexp{systemLibrary, pcNotFound} {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			libs[m[1]] = true
		}
	}
	if opensslDir.MatchString(text) {
		libs["openssl"] = true
	}
	for _, lib := range slices.Sorted(maps.Keys(libs)) {
		pkg := libraryPackage(lib)
		hints = append(hints, Hint{
			Problem: fmt.Sprintf("the system library %q was not found (%s.pc, through pkg-config)", lib, lib),
			Package: pkg, Fix: s.add(pkg),
		})
	}
	tools := map[string]bool{}
	for _, re := range []*regexp.Regexp{shNotFound, isInstalled, failedToFind} {
		for _, m := range re.FindAllStringSubmatch(text, -1) {
			tools[m[1]] = true
		}
	}
	if pkgConfigGone.MatchString(text) {
		tools["pkg-config"] = true
	}
	if libclang.MatchString(text) {
		tools["libclang"] = true
	}
	for _, tool := range slices.Sorted(maps.Keys(tools)) {
		pkg := toolPackage(tool)
		hints = append(hints, Hint{
			Problem: fmt.Sprintf("the tool %q is not in the toolchain (%s: not found)", tool, tool),
			Package: pkg, Fix: s.add(pkg),
		})
	}
	if len(hints) == 0 {
		if m := configureErr.FindStringSubmatch(text); m != nil {
			hints = append(hints, Hint{Problem: "its configure script stopped: " + strings.TrimSpace(m[1])})
		}
	}
	return hints
}

// libraries maps a library's pkg-config or linker name (without "lib" and
// version) to the Debian package whose -dev files carry it.
var libraries = map[string]string{
	"z": "zlib1g-dev", "zlib": "zlib1g-dev",
	"zstd": "libzstd-dev", "sodium": "libsodium-dev",
	"ssl": "libssl-dev", "crypto": "libssl-dev", "openssl": "libssl-dev",
	"sqlite3": "libsqlite3-dev", "pcre2-8": "libpcre2-dev", "pcre2": "libpcre2-dev", "pcre": "libpcre3-dev",
	"lzma": "liblzma-dev", "bz2": "libbz2-dev", "bzip2": "libbz2-dev", "lz4": "liblz4-dev",
	"curl": "libcurl4-openssl-dev", "dbus-1": "libdbus-1-dev", "udev": "libudev-dev",
	"fontconfig": "libfontconfig-dev", "freetype2": "libfreetype-dev", "freetype": "libfreetype-dev",
	"pq": "libpq-dev", "git2": "libgit2-dev", "ssh2": "libssh2-1-dev", "expat": "libexpat1-dev",
	"ffi": "libffi-dev", "seccomp": "libseccomp-dev", "cap": "libcap-dev", "archive": "libarchive-dev",
	"xml-2.0": "libxml2-dev", "xml2": "libxml2-dev", "gmp": "libgmp-dev", "png": "libpng-dev",
	"png16": "libpng-dev", "jpeg": "libjpeg-dev", "uv": "libuv1-dev", "unwind": "libunwind-dev",
	"systemd": "libsystemd-dev", "mnl": "libmnl-dev", "nftnl": "libnftnl-dev", "pcap": "libpcap-dev",
	"rocksdb": "librocksdb-dev", "lmdb": "liblmdb-dev", "snappy": "libsnappy-dev", "event": "libevent-dev",
	"gpg-error": "libgpg-error-dev", "gcrypt": "libgcrypt20-dev", "gpgme": "libgpgme-dev",
	"magic": "libmagic-dev", "yaml-0.1": "libyaml-dev", "yaml": "libyaml-dev", "onig": "libonig-dev",
	"oniguruma": "libonig-dev", "usb-1.0": "libusb-1.0-0-dev", "hidapi": "libhidapi-dev",
	"jemalloc": "libjemalloc-dev", "mimalloc": "libmimalloc-dev", "brotli": "libbrotli-dev",
	"libbrotlienc": "libbrotli-dev", "libbrotlidec": "libbrotli-dev", "brotlienc": "libbrotli-dev",
	"brotlidec": "libbrotli-dev", "libbrotlicommon": "libbrotli-dev",
}

// tools maps a command to the Debian package that provides it.
var tools = map[string]string{
	"make": "make", "gmake": "make", "cmake": "cmake", "ninja": "ninja-build", "meson": "meson",
	"protoc": "protobuf-compiler", "python3": "python3", "python": "python-is-python3",
	"clang": "clang", "libclang": "libclang-dev", "llvm-config": "llvm-dev", "git": "git",
	"autoreconf": "autoconf", "autoconf": "autoconf", "automake": "automake", "aclocal": "automake",
	"libtool": "libtool", "libtoolize": "libtool", "m4": "m4", "perl": "perl", "nasm": "nasm",
	"yasm": "yasm", "bison": "bison", "flex": "flex", "gperf": "gperf", "swig": "swig",
	"pkg-config": "pkg-config", "pkgconf": "pkg-config", "go": "golang-go", "xxd": "xxd",
	"curl": "curl", "wget": "wget", "patch": "patch", "unzip": "unzip", "bzip2": "bzip2",
	"xz": "xz-utils", "zstd": "zstd", "texinfo": "texinfo", "makeinfo": "texinfo",
	"gettext": "gettext", "msgfmt": "gettext", "capnp": "capnproto", "flatc": "flatbuffers-compiler",
}

// libraryPackage names the Debian -dev package of a library, "" when not
// known.
func libraryPackage(name string) string {
	n := strings.TrimSuffix(strings.TrimSuffix(name, ".pc"), ".a")
	if pkg, ok := libraries[n]; ok {
		return pkg
	}
	if pkg, ok := libraries[strings.TrimPrefix(n, "lib")]; ok {
		return pkg
	}
	return ""
}

// toolPackage names the Debian package of a command, "" when not known.
// Cross tools (aarch64-linux-gnu-gcc) come with the toolchain's cross
// compilers; a missing one is not the project's to add.
func toolPackage(name string) string {
	return tools[name]
}
