package sbom

import (
	"bytes"
	"encoding/json"
	"strings"
	"testing"
	"time"
)

// withoutResolve is the fixture's metadata as `--no-deps` would give it.
func withoutResolve(t *testing.T, meta []byte) []byte {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(meta, &m); err != nil {
		t.Fatal(err)
	}
	m["resolve"] = nil
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestBuildErrors(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Input)
		want   string // in the error
	}{
		{"no targets", func(in *Input) { in.Targets = nil }, "no release targets"},
		{"target without metadata", func(in *Input) { in.Targets[1].Metadata = nil }, `target "arm64" (aarch64-unknown-linux-gnu) has no cargo metadata`},
		{"target without triple", func(in *Input) { in.Targets[0].Triple = "" }, `target "amd64" has no triple`},
		{"target twice", func(in *Input) { in.Targets[1].Name = "amd64" }, `target "amd64" given twice`},
		{"metadata not JSON", func(in *Input) { in.Targets[0].Metadata = []byte("error: could not find Cargo.toml") }, `target "amd64" (x86_64-unknown-linux-gnu): not cargo metadata JSON`},
		{"metadata other JSON", func(in *Input) { in.Targets[0].Metadata = []byte(`{"name":"x"}`) }, "not cargo metadata --format-version 1 output"},
		{"metadata --no-deps", func(in *Input) { in.Targets[0].Metadata = withoutResolve(t, in.Targets[0].Metadata) }, "no resolve graph"},
		{"no binary", func(in *Input) { in.Binary = "nope" }, `no workspace package has a bin target "nope"`},
		{"no such package", func(in *Input) { in.Package = "nope" }, `no workspace member named "nope"`},
		{"package without the binary", func(in *Input) { in.Package = "applib" }, `package "applib" has no bin target "relbin"`},
		{"no Cargo.lock", func(in *Input) { in.Lock = nil }, "no Cargo.lock"},
		{"Cargo.lock not TOML", func(in *Input) { in.Lock = []byte("[[package]\nname = ") }, "sbom: Cargo.lock:"},
		{"Cargo.lock of another project", func(in *Input) {
			in.Lock = bytes.ReplaceAll(in.Lock, []byte(`name = "itoa"`), []byte(`name = "itoa2"`))
		}, "Cargo.lock has no entry for itoa 1.0.1"},
		{"no rustc -vV", func(in *Input) { in.Toolchain.RustcVV = "" }, "no rustc -vV output"},
		{"rustc -vV garbled", func(in *Input) { in.Toolchain.RustcVV = "bash: rustc: command not found" }, `no "release:" line`},
		{"std hash", func(in *Input) { in.Toolchain.Std[0].SHA256 = "abc" }, `std package "libstd-rust-dev_1.85.0+dfsg3-1_arm64.deb": SHA-256 "abc"`},
		{"std without triple", func(in *Input) { in.Toolchain.Std[0].Triple = "" }, "lacks a file name or triple"},
		{"deb without version", func(in *Input) { in.Toolchain.Packages[0].Version = "" }, "Debian package"},
		{"no timestamp", func(in *Input) { in.Timestamp = time.Time{} }, "no timestamp"},
		{"no version", func(in *Input) { in.Version = "" }, "no release version"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := fixtureInput(t)
			tt.change(&in)
			out, err := Build(in)
			if err == nil {
				t.Fatalf("no error; SBOM of %d bytes", len(out))
			}
			if !strings.Contains(err.Error(), tt.want) || !strings.HasPrefix(err.Error(), "sbom: ") {
				t.Errorf("error %q, want \"sbom: ...%s...\"", err, tt.want)
			}
		})
	}
}

func TestParseDpkg(t *testing.T) {
	tests := []struct {
		name, out string
		want      []DebPackage
		err       string
	}{
		{"packages", "libc6\t2.41-12\tamd64\nrustc\t1.85.0+dfsg3-1\tamd64\n\n", []DebPackage{{"libc6", "2.41-12", "amd64"}, {"rustc", "1.85.0+dfsg3-1", "amd64"}}, ""},
		{"epoch and multiarch", "libgcc-s1\t1:14.2.0-19\tarm64\n", []DebPackage{{"libgcc-s1", "1:14.2.0-19", "arm64"}}, ""},
		{"not installed skipped", "foo\t\t\nbar\t1\tall\n", []DebPackage{{"bar", "1", "all"}}, ""},
		{"empty", "", nil, ""},
		{"spaces not tabs", "libc6 2.41-12 amd64\n", nil, "line 1"},
		{"no name", "\t1\tamd64\n", nil, "no package name"},
		{"no arch", "libc6\t1\t\n", nil, "no architecture"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseDpkg(tt.out)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one with %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for i := range got {
				if got[i] != tt.want[i] {
					t.Errorf("got %v, want %v", got, tt.want)
				}
			}
		})
	}
}

// Crates vendored from Debian's packages have a placeholder where Cargo.lock
// keeps the checksum; cargo builds them, so the SBOM lists them without a
// hash rather than failing the release.
func TestPlaceholderChecksum(t *testing.T) {
	const itoaChecksum = "1aab8fc367588b89dcee83ab0fd66b72b50b72fa1904d7095045ace2b0c81c35"
	in := fixtureInput(t)
	in.Lock = bytes.ReplaceAll(in.Lock, []byte(itoaChecksum), []byte("Could not get crate checksum"))
	if bytes.Equal(in.Lock, fixtureInput(t).Lock) {
		t.Fatal("the fixture's Cargo.lock has no itoa checksum to replace")
	}
	doc, err := Build(in)
	if err != nil {
		t.Fatal(err)
	}
	if bytes.Contains(doc, []byte(itoaChecksum)) || !bytes.Contains(doc, []byte(`"pkg:cargo/itoa@1.0.1"`)) {
		t.Errorf("itoa should be listed without a hash")
	}
}
