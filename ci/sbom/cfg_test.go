package sbom

import "testing"

func TestEdgeApplies(t *testing.T) {
	tests := []struct {
		target, triple string
		want           bool
	}{
		{`cfg(windows)`, amd64Triple, false},
		{`cfg(windows)`, "x86_64-pc-windows-msvc", true},
		{`cfg(unix)`, amd64Triple, true},
		{`cfg(unix)`, "aarch64-apple-darwin", true},
		{`cfg(target_arch = "aarch64")`, arm64Triple, true},
		{`cfg(target_arch = "aarch64")`, amd64Triple, false},
		{`cfg(target_arch = "arm")`, "armv5te-unknown-linux-gnueabi", true},
		{`cfg(target_os = "macos")`, "aarch64-apple-darwin", true},
		{`cfg(target_os = "android")`, "aarch64-linux-android", true},
		{`cfg(all(unix, not(target_os = "macos")))`, amd64Triple, true},
		{`cfg(all(target_os = "linux", target_env = "musl"))`, "x86_64-unknown-linux-musl", true},
		{`cfg(all(target_os = "linux", target_env = "musl"))`, amd64Triple, false},
		{`cfg(any(windows, target_pointer_width = "32"))`, "armv7-unknown-linux-gnueabihf", true},
		{`cfg(any(windows, target_pointer_width = "32"))`, amd64Triple, false},
		{`cfg(any())`, amd64Triple, false},
		{`cfg(all())`, amd64Triple, true},
		{`x86_64-pc-windows-gnu`, amd64Triple, false},
		{amd64Triple, amd64Triple, true},
		// Not decidable from the triple: kept, trusting cargo's filter.
		{`cfg(target_feature = "sse2")`, amd64Triple, true},
		{`cfg(not(target_feature = "sse2"))`, amd64Triple, true},
		{`cfg(any(windows, tokio_unstable))`, amd64Triple, true},
		{`cfg(all(windows, tokio_unstable))`, amd64Triple, false},
		{`cfg(garbled`, amd64Triple, true},
	}
	for _, tt := range tests {
		if got := edgeApplies(tt.target, tt.triple); got != tt.want {
			t.Errorf("edgeApplies(%s, %s) = %v, want %v", tt.target, tt.triple, got, tt.want)
		}
	}
}

func TestLicenseExpr(t *testing.T) {
	for in, want := range map[string]string{
		"MIT OR Apache-2.0": "MIT OR Apache-2.0",
		"MIT/Apache-2.0":    "MIT OR Apache-2.0",
		"Apache-2.0 / MIT":  "Apache-2.0 OR MIT",
		"Unlicense  OR MIT": "Unlicense OR MIT",
	} {
		if got := licenseExpr(in); got != want {
			t.Errorf("licenseExpr(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestIdentifySources(t *testing.T) {
	src := func(s string) *string { return &s }
	tests := []struct {
		source *string
		ref    string
	}{
		{src("registry+https://github.com/rust-lang/crates.io-index"), "pkg:cargo/foo@1.2.3"},
		{src("sparse+https://index.crates.io/"), "pkg:cargo/foo@1.2.3"},
		{src("sparse+https://cargo.example.com/index/"), "pkg:cargo/foo@1.2.3?repository_url=https%3A%2F%2Fcargo.example.com%2Findex%2F"},
		{src("git+https://github.com/o/foo?branch=main#0123abc"), "pkg:cargo/foo@1.2.3?vcs_url=git%2Bhttps%3A%2F%2Fgithub.com%2Fo%2Ffoo%400123abc"},
	}
	for _, tt := range tests {
		id, err := identify(&cargoPkg{Name: "foo", Version: "1.2.3", Source: tt.source}, "/w")
		if err != nil {
			t.Fatal(err)
		}
		if id.ref != tt.ref || id.purl != tt.ref {
			t.Errorf("%s: ref %q purl %q, want %q", *tt.source, id.ref, id.purl, tt.ref)
		}
	}
}
