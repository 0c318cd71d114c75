package pipeline

import (
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestVersionNames(t *testing.T) {
	commit := strings.Repeat("1f", 20)
	tests := []struct {
		version, cargo string
		want           []string
	}{
		{"v1.19.0", "1.19.0", []string{"v1.19.0", "1.19.0"}},
		{"v0.3.1", "", []string{"v0.3.1", "0.3.1"}},
		{"v1.2.3-rc.1", "1.2.3", []string{"v1.2.3-rc.1", "1.2.3-rc.1"}},
		{"1.2.3", "", []string{"1.2.3", "v1.2.3"}},
		{"nightly-2026", "0.1.0", []string{"nightly-2026"}}, // a tag: its name, not Cargo.toml's
		{commit, "0.3.1", []string{commit, "0.3.1"}},
		{"dev", "0.3.1", []string{"dev", "0.3.1"}},
		{"dev", "", []string{"dev"}},
	}
	for _, tt := range tests {
		if got := VersionNames(tt.version, tt.cargo); !reflect.DeepEqual(got, tt.want) {
			t.Errorf("VersionNames(%q, %q) = %q, want %q", tt.version, tt.cargo, got, tt.want)
		}
	}
}

// TestVersionCheckScript runs the default smoke test's check on what
// programs print.
func TestVersionCheckScript(t *testing.T) {
	commit := strings.Repeat("ab", 20)
	tests := []struct {
		printed, version, cargo string
		ok                      bool
	}{
		{"rg 1.19.0\n", "v1.19.0", "1.19.0", true},
		{"rg v1.19.0\n", "v1.19.0", "", true},
		{"wsr 0.3.1\n", "v0.3.1", "0.3.1", true},
		{"ripgrep 1.19.0 (rev 1f2e3d)\n+SIMD\n", "v1.19.0", "", true},
		{"rg 11.19.0\n", "v1.19.0", "", false},
		{"rg 1.19.01\n", "v1.19.0", "", false},
		{"rg 1.18.0\n", "v1.19.0", "1.18.0", false}, // a tag must be printed
		{"kvstore " + commit + "\n", commit, "0.1.0", true},
		{"kvstore 0.1.0\n", commit, "0.1.0", true},
		{"kvstore 0.1.0\n", "dev", "0.1.0", true},
		{"kvstore 0.2.0\n", "dev", "0.1.0", false},
		{"", "v1.0.0", "", false},
	}
	for _, tt := range tests {
		f := filepath.Join(t.TempDir(), "version")
		os.WriteFile(f, []byte(tt.printed), 0o644)
		args := append([]string{"-c", versionCheckScript, "check-version", f}, VersionNames(tt.version, tt.cargo)...)
		out, err := exec.Command("sh", args...).CombinedOutput()
		if (err == nil) != tt.ok {
			t.Errorf("printed %q, version %s (Cargo.toml %q): passed %v, want %v; %s", tt.printed, tt.version, tt.cargo, err == nil, tt.ok, out)
		}
		if err != nil {
			msg := string(out)
			if !strings.Contains(msg, "--version printed '"+strings.TrimRight(tt.printed, "\n")+"'") || !strings.Contains(msg, "names none of: "+strings.Join(VersionNames(tt.version, tt.cargo), ", ")) {
				t.Errorf("message %q does not say what was printed and what was expected", msg)
			}
		}
	}
}
