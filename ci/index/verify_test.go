package index

import (
	"crypto/sha256"
	"encoding/hex"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
)

// sumsCommands are a release's sha256sum checks as the page shows them, in
// target order.
func sumsCommands(t *testing.T, m *manifest.Manifest) []string {
	t.Helper()
	var out []string
	for _, c := range commands(article(t, render(t, m), m.Version)) {
		if strings.Contains(c, "sha256sum") {
			out = append(out, c)
		}
	}
	if len(out) != len(m.Targets) {
		t.Fatalf("the page shows %d sha256sum checks for %d binaries: %q", len(out), len(m.Targets), out)
	}
	return out
}

// runIn runs a shown command with sh in dir, as a user pastes it.
func runIn(t *testing.T, dir, command string) (string, error) {
	t.Helper()
	cmd := exec.Command("sh", "-c", command)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	return string(out), err
}

// folder is a user's download folder: SHA256SUMS and one binary saved under
// its base name.
func folder(t *testing.T, sums []byte, name string, data []byte) string {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, manifest.SumsName), sums, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), data, 0o755); err != nil {
		t.Fatal(err)
	}
	return dir
}

func TestVerifyCommandsRun(t *testing.T) {
	for _, tool := range []string{"sh", "grep", "sed", "sha256sum"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s is not installed: %v", tool, err)
		}
	}
	// A signed release, and one with a dotted binary name next to a decoy
	// line the dot would match unescaped, and one binary at the root.
	type bin struct {
		target target.Target
		path   string
	}
	cases := map[string][]bin{
		"signed": nil,
		"dotted": {{target.All[0], target.All[0].Triple + "/my.tool"}, {target.All[1], target.All[0].Triple + "/myXtool"}},
		"root":   {{target.All[0], "garage"}},
	}
	for _, tg := range target.All {
		cases["signed"] = append(cases["signed"], bin{tg, tg.BinaryPath("garage")})
	}
	for name, bins := range cases {
		t.Run(name, func(t *testing.T) {
			m := mk("v1.0.0", "stable", 0, "a")
			m.Targets = nil
			data := map[string][]byte{}
			sums := manifest.Sums{}
			for i, b := range bins {
				d := randomBytes(t, 1000+i)
				sum := sha256.Sum256(d)
				a := manifest.Artifact{Target: b.target.Name, Triple: b.target.Triple, Path: b.path, Size: int64(len(d)), SHA256: hex.EncodeToString(sum[:])}
				m.Targets = append(m.Targets, a)
				data[a.Path], sums[a.Path] = d, a.SHA256
			}
			if name == "signed" {
				sign(m)
			}
			sumsFile := sums.Format()
			for i, c := range sumsCommands(t, m) {
				a := m.Targets[i]
				file := path.Base(a.Path)
				out, err := runIn(t, folder(t, sumsFile, file, data[a.Path]), c)
				if err != nil || strings.TrimSpace(out) != file+": OK" {
					t.Errorf("%s on a good %s: %v\n%s", c, a.Path, err, out)
				}
				tampered := append([]byte{}, data[a.Path]...)
				tampered[0] ^= 1
				if out, err := runIn(t, folder(t, sumsFile, file, tampered), c); err == nil {
					t.Errorf("%s passes a tampered %s:\n%s", c, a.Path, out)
				}
				other := m.Targets[(i+1)%len(m.Targets)]
				if other.Path != a.Path {
					if out, err := runIn(t, folder(t, sumsFile, file, data[other.Path]), c); err == nil {
						t.Errorf("%s passes %s's binary as %s:\n%s", c, other.Path, a.Path, out)
					}
				}
				// A SHA256SUMS without the binary's line checks nothing: fail.
				if out, err := runIn(t, folder(t, []byte{}, file, data[a.Path]), c); err == nil {
					t.Errorf("%s passes without a SHA256SUMS line:\n%s", c, out)
				}
			}
		})
	}
}

func TestImageRepo(t *testing.T) {
	for ref, want := range map[string]string{
		"registry.example/garage:v1.2.3":        "registry.example/garage",
		"localhost:5000/ns/garage:v1":           "localhost:5000/ns/garage",
		"localhost:5000/ns/garage":              "localhost:5000/ns/garage",
		"registry.example/garage@sha256:abcdef": "registry.example/garage",
	} {
		if got := imageRepo(ref); got != want {
			t.Errorf("imageRepo(%q) = %q, want %q", ref, got, want)
		}
	}
}
