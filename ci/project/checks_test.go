package project

import (
	"reflect"
	"strings"
	"testing"
)

func TestCheckPolicy(t *testing.T) {
	cases := []struct {
		name  string
		table string // under [package.metadata.release]
		want  Checks
		err   string
	}{
		{name: "default", want: Checks{Fmt: true, Clippy: true, ClippyArgs: []string{"-D", "warnings"}}},
		{name: "clippy only, warn", table: "checks = [\"clippy\"]\nlints = \"warn\"", want: Checks{Clippy: true, ClippyArgs: []string{"-D", "warnings"}, Warn: true}},
		{name: "no checks", table: "checks = []", want: Checks{ClippyArgs: []string{"-D", "warnings"}}},
		{name: "own clippy args", table: "clippy-args = [\"-W\", \"clippy::pedantic\"]", want: Checks{Fmt: true, Clippy: true, ClippyArgs: []string{"-W", "clippy::pedantic"}}},
		{name: "no clippy args", table: "clippy-args = []", want: Checks{Fmt: true, Clippy: true, ClippyArgs: []string{}}},
		{name: "unknown check", table: "checks = [\"miri\"]", err: "unknown check \"miri\""},
		{name: "bad policy", table: "lints = \"maybe\"", err: "lints: \"maybe\""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			toml := "[package]\nname = \"p\"\n"
			if tc.table != "" {
				toml += "[package.metadata.release]\n" + tc.table + "\n"
			}
			s, err := Parse([]byte(toml), nil)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("Parse = %v, want an error saying %q", err, tc.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(s.Checks, tc.want) {
				t.Errorf("Checks = %+v, want %+v", s.Checks, tc.want)
			}
		})
	}
}
