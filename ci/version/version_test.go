package version

import (
	"strings"
	"testing"
)

func TestClassify(t *testing.T) {
	sha := strings.Repeat("ab", 20)
	tests := []struct {
		version string
		want    Class
	}{
		{"v1.2.3", Stable},
		{"v0.0.0", Stable},
		{"v10.200.3000", Stable},
		{"v1x2y3", Extra}, // the dots are literal
		{"v1.2.3.4", Extra},
		{"v1.2", Extra},
		{"1.2.3", Extra},
		{"V1.2.3", Extra},
		{"v1.2.3-rc.1", Extra},
		{"v1.2.3 ", Extra},
		{"v01.2.3", Extra}, // leading zeros: one name per stable release
		{"v1.02.3", Extra},
		{"v1.2.03", Extra},
		{"weekly-2026-11-25", Extra},
		{sha, Development},
		{strings.ToUpper(sha), Extra}, // commits are normalised to lower case first
		{sha[:39], Extra},
		{DefaultVersion, Development},
	}
	for _, tt := range tests {
		if got := Classify(tt.version); got != tt.want {
			t.Errorf("Classify(%q) = %q, want %q", tt.version, got, tt.want)
		}
	}
}

func TestCompare(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"v1.10.0", "v1.9.0", 1},
		{"v1.9.0", "v1.10.0", -1},
		{"v2.0.0", "v1.99.99", 1},
		{"v1.2.10", "v1.2.9", 1},
		{"v1.2.3", "v1.2.3", 0},
		{"v0.10.0", "v0.9.12", 1},
		{"v100000000000000000000.0.0", "v99999999999999999999.0.0", 1}, // no overflow
		{"v0.0.1", "v1.0.0-rc.1", 1},                                   // any stable is above any extra
		{"v1.0.0-rc.1", "v0.0.1", -1},
		{"a", "b", -1},
		{"b", "a", 1},
	}
	for _, tt := range tests {
		if got := Compare(tt.a, tt.b); got != tt.want {
			t.Errorf("Compare(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}

func TestHighestStable(t *testing.T) {
	tests := []struct {
		in   []string
		want string
	}{
		{nil, ""},
		{[]string{"v1.0.0-rc.1", strings.Repeat("a", 40)}, ""},
		{[]string{"v1.9.0", "v1.10.0", "v1.2.0", "v2.0.0-rc.1"}, "v1.10.0"},
		{[]string{"v0.1.0"}, "v0.1.0"},
	}
	for _, tt := range tests {
		if got := HighestStable(tt.in); got != tt.want {
			t.Errorf("HighestStable(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestIsNewerStable(t *testing.T) {
	existing := []string{"v1.9.0", "v1.10.0", "v2.0.0-rc.1", strings.Repeat("c", 40)}
	tests := []struct {
		v        string
		existing []string
		want     bool
	}{
		{"v1.11.0", existing, true},
		{"v2.0.0", existing, true},
		{"v1.9.1", existing, false}, // a patch of an older line does not take latest
		{"v1.10.0", existing, true}, // re-publishing the highest keeps latest on it
		{"v1.2.0", []string{"v1.2.0", "v1.3.0"}, false},
		{"v3.0.0-rc.1", existing, false}, // extras never move latest
		{strings.Repeat("d", 40), existing, false},
		{"v0.1.0", nil, true}, // the first stable release
		{"v0.1.0", []string{"v1.0.0-beta"}, true},
	}
	for _, tt := range tests {
		if got := IsNewerStable(tt.v, tt.existing); got != tt.want {
			t.Errorf("IsNewerStable(%q, %q) = %v, want %v", tt.v, tt.existing, got, tt.want)
		}
	}
}

func TestValidateTag(t *testing.T) {
	ok := []string{"v1.2.3", "v1.2.3-rc.1", "nightly_2026.11.25", "A", strings.Repeat("x", 128)}
	for _, tag := range ok {
		if err := ValidateTag(tag); err != nil {
			t.Errorf("ValidateTag(%q) = %v, want nil", tag, err)
		}
	}
	bad := []string{"", ".hidden", "-rm", "v1/2", "../../etc", "v1 2", "v1:2", "<b>", "é", "v1.0+build", strings.Repeat("x", 129)}
	for _, tag := range bad {
		err := ValidateTag(tag)
		if err == nil {
			t.Errorf("ValidateTag(%q) = nil, want an error", tag)
			continue
		}
		if tag != "" && (!strings.Contains(err.Error(), tag) || !strings.Contains(err.Error(), TagRule)) {
			t.Errorf("ValidateTag(%q) = %q, want the tag and the rule in the message", tag, err)
		}
	}
}

func TestNormalizeCommit(t *testing.T) {
	sha := "0123456789abcdef0123456789abcdef01234567"
	for _, in := range []string{sha, strings.ToUpper(sha), " " + sha + "\n"} {
		got, err := NormalizeCommit(in)
		if err != nil || got != sha {
			t.Errorf("NormalizeCommit(%q) = %q, %v; want %q", in, got, err, sha)
		}
	}
	for _, in := range []string{"0123456", sha + "0", "g123456789abcdef0123456789abcdef01234567", "HEAD", "main"} {
		_, err := NormalizeCommit(in)
		if err == nil || !strings.Contains(err.Error(), in) {
			t.Errorf("NormalizeCommit(%q) = %v, want an error naming the value", in, err)
		}
	}
}
