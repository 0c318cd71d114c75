package project

import (
	"reflect"
	"strings"
	"testing"
)

// TestOverrides: the one funnel of the CLI's flags and the module's
// arguments; unset keeps the project's value, errors name the override.
func TestOverrides(t *testing.T) {
	base := func() Settings {
		s, err := Parse([]byte("[package]\nname = \"zinfo\"\n[package.metadata.release]\ntargets = [\"amd64\"]\nbuild-packages = [\"libzstd-dev\"]\n"), nil)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	s := base()
	if err := (Overrides{}).Apply(&s, nil); err != nil || !reflect.DeepEqual(s, base()) {
		t.Errorf("no overrides changed the settings: %+v, %v", s, err)
	}
	bin, lints := "zi", "warn"
	feats, targets, pkgs, args, checks, clippy := []string{"simd"}, []string{"arm64"}, []string{}, []string{"--all-features"}, []string{"clippy"}, []string{"-W", "warnings"}
	s = base()
	err := Overrides{Binary: &bin, Features: &feats, Targets: &targets, BuildPackages: &pkgs, TestArgs: &args, Checks: &checks, ClippyArgs: &clippy, Lints: &lints}.Apply(&s, nil)
	if err != nil {
		t.Fatal(err)
	}
	if s.Binary != "zi" || !reflect.DeepEqual(s.Features, feats) || !reflect.DeepEqual(s.Targets, targets) || len(s.BuildPackages) != 0 ||
		!reflect.DeepEqual(s.TestArgs, args) || s.Checks.Fmt || !s.Checks.Clippy || !reflect.DeepEqual(s.Checks.ClippyArgs, clippy) || !s.Checks.Warn {
		t.Errorf("overrides not applied: %+v", s)
	}
	for _, tc := range []struct {
		name string
		ov   Overrides
		keys Keys
		want string
	}{
		{"empty targets", Overrides{Targets: &[]string{" "}}, nil, "--targets is empty"},
		{"unknown target", Overrides{Targets: &[]string{"sparc"}}, nil, `"sparc"`},
		{"bad lints, named as the module names it", Overrides{Lints: &bin}, Keys{"lints": "lints argument"}, `lints argument "zi"`},
		{"bad check", Overrides{Checks: &[]string{"miri"}}, nil, `--checks: unknown check "miri"`},
		{"bad build package", Overrides{BuildPackages: &[]string{"zlib1g-dev:arm64"}}, nil, "build-packages"},
	} {
		s := base()
		if err := tc.ov.Apply(&s, tc.keys); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want an error saying %q", tc.name, err, tc.want)
		}
	}
}
