package manifest

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

const (
	sumA = "11430bba35389141892b64ba891fa7f326289337929a6d1438e6ed39d4d9ee67"
	sumB = "176facb3ae2ee70d8f7e3a7c2f6c2b0fca16211ae2edadad9e6ce133dedd2ad1"
)

func sample() *Manifest {
	return &Manifest{
		Version: "v1.2.3",
		Class:   "stable",
		Commit:  "0123456789abcdef0123456789abcdef01234567",
		Date:    time.Date(2026, 11, 25, 17, 4, 5, 0, time.UTC),
		Binary:  "kvstore",
		Targets: []Artifact{
			{Target: "amd64", Triple: "x86_64-unknown-linux-gnu", Platform: "linux/amd64", Path: "x86_64-unknown-linux-gnu/kvstore", Size: 123456, SHA256: sumA},
			{Target: "arm", Triple: "armv5te-unknown-linux-gnueabi", Platform: "linux/arm/v5", Path: "armv5te-unknown-linux-gnueabi/kvstore", Size: 654321, SHA256: sumB},
		},
		Image: &Image{
			Ref:       "registry.example/kvstore:v1.2.3",
			Digest:    "sha256:" + sumA,
			Platforms: []string{"linux/amd64", "linux/arm/v5"},
			Tags:      []string{"v1.2.3", "latest"},
		},
		Docs: "docs/",
	}
}

func TestMarshalParseRoundTrip(t *testing.T) {
	for _, m := range []*Manifest{
		sample(),
		func() *Manifest { // a development build: no image, no docs, no commit field
			m := sample()
			m.Version, m.Class, m.Commit, m.Image, m.Docs = "0123456789abcdef0123456789abcdef01234567", "development", "", nil, ""
			return m
		}(),
	} {
		data, err := m.Marshal()
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.HasSuffix(data, []byte("}\n")) || !bytes.Contains(data, []byte("\n  \"version\": ")) {
			t.Errorf("Marshal is not indented JSON ending in a newline:\n%s", data)
		}
		got, err := Parse(data)
		if err != nil {
			t.Fatalf("Parse(Marshal()) = %v\n%s", err, data)
		}
		if !reflect.DeepEqual(got, m) {
			t.Errorf("round trip changed the manifest:\n got %+v\nwant %+v", got, m)
		}
		if m.Image == nil && bytes.Contains(data, []byte(`"image"`)) {
			t.Errorf("a manifest without an image writes an image field:\n%s", data)
		}
	}
}

// TestJSONFieldNames pins the names the release page and older releases in
// the bucket rely on.
func TestJSONFieldNames(t *testing.T) {
	data, err := sample().Marshal()
	if err != nil {
		t.Fatal(err)
	}
	var raw map[string]any
	if err := json.Unmarshal(data, &raw); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"version", "class", "commit", "date", "binary", "targets", "image", "docs"} {
		if _, ok := raw[k]; !ok {
			t.Errorf("manifest.json has no %q field:\n%s", k, data)
		}
	}
	if raw["date"] != "2026-11-25T17:04:05Z" {
		t.Errorf("date = %v, want RFC 3339 UTC", raw["date"])
	}
	tg := raw["targets"].([]any)[0].(map[string]any)
	for _, k := range []string{"target", "triple", "platform", "path", "size", "sha256"} {
		if _, ok := tg[k]; !ok {
			t.Errorf("targets[0] has no %q field: %v", k, tg)
		}
	}
}

func TestValidate(t *testing.T) {
	tests := []struct {
		name   string
		change func(*Manifest)
		want   string // substring of the error; "" for valid
	}{
		{"valid", func(*Manifest) {}, ""},
		{"extra", func(m *Manifest) { m.Class = "extra" }, ""},
		{"no version", func(m *Manifest) { m.Version = "" }, "version is empty"},
		{"bad class", func(m *Manifest) { m.Class = "nightly" }, `class "nightly"`},
		{"no binary", func(m *Manifest) { m.Binary = "" }, "binary is empty"},
		{"no targets", func(m *Manifest) { m.Targets = nil }, "no targets"},
		{"short sha", func(m *Manifest) { m.Targets[1].SHA256 = sumA[:63] }, "target arm has bad sha256"},
		{"uppercase sha", func(m *Manifest) { m.Targets[0].SHA256 = strings.ToUpper(sumA) }, "target amd64 has bad sha256"},
		{"empty path", func(m *Manifest) { m.Targets[0].Path = "" }, "target amd64 has bad path"},
		{"dotdot path", func(m *Manifest) { m.Targets[0].Path = "../../etc/passwd" }, `bad path "../../etc/passwd"`},
		{"dotdot inside path", func(m *Manifest) { m.Targets[0].Path = "x86_64-unknown-linux-gnu/../../kvstore" }, "bad path"},
		{"absolute path", func(m *Manifest) { m.Targets[0].Path = "/kvstore" }, `bad path "/kvstore"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := sample()
			tt.change(m)
			err := m.Validate()
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Validate() = %v, want an error containing %q", err, tt.want)
			}
			// Parse must refuse what Validate refuses.
			data, merr := json.Marshal(m)
			if merr != nil {
				t.Fatal(merr)
			}
			if _, perr := Parse(data); perr == nil {
				t.Errorf("Parse accepted a manifest Validate rejects (%v)", err)
			}
		})
	}
}

func TestParseRejectsBadJSON(t *testing.T) {
	for _, in := range []string{"", "{", `{"version": 1}`, "[]"} {
		if _, err := Parse([]byte(in)); err == nil || !strings.HasPrefix(err.Error(), "manifest") {
			t.Errorf("Parse(%q) = %v, want a manifest error", in, err)
		}
	}
}

func TestFormatSortedAndParsedBack(t *testing.T) {
	s := Sums{
		"x86_64-unknown-linux-gnu/kvstore":      sumA,
		"armv5te-unknown-linux-gnueabi/kvstore": sumB,
		"aarch64-unknown-linux-gnu/kvstore":     sumA,
	}
	want := sumA + "  aarch64-unknown-linux-gnu/kvstore\n" +
		sumB + "  armv5te-unknown-linux-gnueabi/kvstore\n" +
		sumA + "  x86_64-unknown-linux-gnu/kvstore\n"
	if got := string(s.Format()); got != want {
		t.Errorf("Format() =\n%s\nwant\n%s", got, want)
	}
	back, err := ParseSums(s.Format())
	if err != nil {
		t.Fatal(err)
	}
	if !maps.Equal(back, s) {
		t.Errorf("ParseSums(Format()) = %v, want %v", back, s)
	}
	if got := (Sums{}).Format(); len(got) != 0 {
		t.Errorf("empty Sums format as %q", got)
	}
}

func TestParseSumsForms(t *testing.T) {
	tests := []struct {
		name, in string
		want     Sums
	}{
		{"text mode", sumA + "  a/b\n", Sums{"a/b": sumA}},
		{"binary mode", sumA + " *a/b\n", Sums{"a/b": sumA}},
		{"dot slash", sumA + "  ./a/b\n", Sums{"a/b": sumA}},
		{"no final newline", sumA + "  a", Sums{"a": sumA}},
		{"CRLF", sumA + "  a\r\n" + sumB + "  b\r\n", Sums{"a": sumA, "b": sumB}},
		{"blank lines", "\n" + sumA + "  a\n\n", Sums{"a": sumA}},
		{"name with spaces", sumA + "  my file.txt\n", Sums{"my file.txt": sumA}},
		{"text-mode name starting with a star", sumA + "  *star\n", Sums{"*star": sumA}},
		{"binary-mode name starting with a star", sumA + " **star\n", Sums{"*star": sumA}},
		{"escaped names", `\` + sumA + `  x\\y` + "\n" + `\` + sumB + `  n\nl` + "\n", Sums{`x\y`: sumA, "n\nl": sumB}},
		{"same path twice, same sum", sumA + "  a\n" + sumA + "  ./a\n", Sums{"a": sumA}},
		{"empty", "", Sums{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSums([]byte(tt.in))
			if err != nil {
				t.Fatalf("ParseSums(%q): %v", tt.in, err)
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("ParseSums(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestParseSumsBadLines(t *testing.T) {
	tests := []struct {
		name, in string
		line     string
	}{
		{"no path", sumA + "\n", "line 1"},
		{"no path after separator", sumA + "  \n", "line 1"},
		{"single space", sumA + " a\n", "line 1"},
		{"short sum on line 2", sumA + "  a\n" + sumA[:10] + "  b\n", "line 2"},
		{"uppercase sum", strings.ToUpper(sumA) + "  a\n", "line 1"},
		{"bsd tag format", "SHA256 (a) = " + sumA + "\n", "line 1"},
		{"garbage on line 3 after a blank", sumA + "  a\n\nhello world\n", "line 3"},
		{"same path, two sums", sumA + "  a\n" + sumB + "  a\n", "line 2"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseSums([]byte(tt.in))
			if err == nil {
				t.Fatalf("ParseSums(%q) = %v, want an error", tt.in, got)
			}
			if !strings.Contains(err.Error(), "SHA256SUMS "+tt.line+":") {
				t.Errorf("ParseSums(%q) error %q does not name %s", tt.in, err, tt.line)
			}
		})
	}
}

// TestRealSha256sum checks both directions against GNU coreutils: ParseSums
// reads what `sha256sum` writes, and `sha256sum -c` accepts what Format
// writes, for the nested relative paths of a release folder.
func TestRealSha256sum(t *testing.T) {
	tool, err := exec.LookPath("sha256sum")
	if err != nil {
		t.Skip("sha256sum (GNU coreutils) is not installed")
	}
	dir := t.TempDir()
	files := map[string][]byte{
		"x86_64-unknown-linux-gnu/kvstore":      []byte("\x7fELF amd64"),
		"armv5te-unknown-linux-gnueabi/kvstore": bytes.Repeat([]byte("arm"), 100000),
		"aarch64-unknown-linux-gnu/kvstore":     {},
		"docs/index.html":                       []byte("<!doctype html>\n"),
		"name with spaces.txt":                  []byte("spaces\n"),
		`back\slash`:                            []byte("escaped by sha256sum\n"),
		"line\nbreak":                           []byte("escaped too\n"),
	}
	want := Sums{}
	var paths []string
	for p, data := range files {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, data, 0o644); err != nil {
			t.Fatal(err)
		}
		h := sha256.Sum256(data)
		want[p] = hex.EncodeToString(h[:])
		paths = append(paths, p)
	}

	for _, mode := range []string{"--text", "--binary"} {
		cmd := exec.Command(tool, append([]string{mode, "--"}, paths...)...)
		cmd.Dir = dir
		out, err := cmd.Output()
		if err != nil {
			t.Fatalf("sha256sum %s: %v", mode, err)
		}
		got, err := ParseSums(out)
		if err != nil {
			t.Fatalf("ParseSums(sha256sum %s output): %v\n%s", mode, err, out)
		}
		if !maps.Equal(got, want) {
			t.Errorf("ParseSums(sha256sum %s output) = %v\nwant (crypto/sha256) %v\noutput:\n%s", mode, got, want, out)
		}
	}

	if err := os.WriteFile(filepath.Join(dir, SumsName), want.Format(), 0o644); err != nil {
		t.Fatal(err)
	}
	check := exec.Command(tool, "-c", "--strict", SumsName)
	check.Dir = dir
	if out, err := check.CombinedOutput(); err != nil {
		t.Fatalf("sha256sum -c rejected Format's output: %v\n%s\n%s:\n%s", err, out, SumsName, want.Format())
	}

	// And it must notice a changed file: the check is not vacuous.
	if err := os.WriteFile(filepath.Join(dir, "docs/index.html"), []byte("changed"), 0o644); err != nil {
		t.Fatal(err)
	}
	check = exec.Command(tool, "-c", "--quiet", SumsName)
	check.Dir = dir
	out, err := check.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "docs/index.html: FAILED") {
		t.Fatalf("sha256sum -c did not report the changed file: %v\n%s", err, out)
	}
}
