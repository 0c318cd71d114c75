// Package version finds the version of a build (from flags, a CI provider's
// variables or git) and classifies it the way Garage's release page does:
// a vX.Y.Z tag is stable, any other tag extra, a commit development.
//
// It is pure Go with no dependency outside the standard library, so the
// pipeline, the publisher and the release page agree on one set of rules.
package version

import (
	"regexp"
	"strings"
)

// Class is the kind of a release, which decides where the release page lists
// it and whether the image's `latest` tag may move to it.
type Class string

// The three classes of Garage's release process.
const (
	// Stable is a tag vX.Y.Z.
	Stable Class = "stable"
	// Extra is any other tag (release candidates, test tags, ...).
	Extra Class = "extra"
	// Development is a build of a commit, named by its 40-hex SHA.
	Development Class = "development"
)

// DefaultVersion names a build whose version could not be found anywhere
// (no flag, no CI variable, no git). It classifies as Development.
const DefaultVersion = "dev"

// stableRe is the stable tag form. Numbers have no leading zeros (as in
// semantic versioning) so that each stable release has exactly one name:
// otherwise v01.2.3 and v1.2.3 would be two releases with the same rank and
// "is this above every existing stable version" would have no clear answer.
// A tag such as v01.2.3 is therefore Extra.
var stableRe = regexp.MustCompile(`^v(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)\.(0|[1-9][0-9]*)$`)

var commitRe = regexp.MustCompile(`^[0-9a-f]{40}$`)

// Classify returns the class of a version: Stable for vX.Y.Z, Development
// for a lower-case 40-hex commit or DefaultVersion, Extra for anything else.
func Classify(version string) Class {
	switch {
	case stableRe.MatchString(version):
		return Stable
	case commitRe.MatchString(version), version == DefaultVersion:
		return Development
	default:
		return Extra
	}
}

// IsStable reports whether version is a stable tag.
func IsStable(version string) bool { return stableRe.MatchString(version) }

// Compare orders versions for the release page: -1 if a sorts below b, 0 if
// equal, +1 if above. Stable versions compare by major, minor and patch as
// numbers (v1.10.0 > v1.9.0, with no size limit); any stable version is above
// any other string; other strings compare lexically so the order is total.
func Compare(a, b string) int {
	pa, sa := stableRe.FindStringSubmatch(a), stableRe.FindStringSubmatch(b)
	switch {
	case pa == nil && sa == nil:
		return strings.Compare(a, b)
	case pa == nil:
		return -1
	case sa == nil:
		return 1
	}
	for i := 1; i <= 3; i++ {
		if c := compareNumbers(pa[i], sa[i]); c != 0 {
			return c
		}
	}
	return 0
}

// compareNumbers compares decimal strings without leading zeros, so a longer
// one is larger and equal lengths compare lexically: no integer overflow.
func compareNumbers(a, b string) int {
	if len(a) != len(b) {
		if len(a) < len(b) {
			return -1
		}
		return 1
	}
	return strings.Compare(a, b)
}

// HighestStable returns the highest stable version in versions, or "" when
// there is none.
func HighestStable(versions []string) string {
	best := ""
	for _, v := range versions {
		if IsStable(v) && (best == "" || Compare(v, best) > 0) {
			best = v
		}
	}
	return best
}

// IsNewerStable reports whether `latest` should move to v: v is stable and
// above every other stable version in existing. An existing entry equal to v
// is ignored, so re-running the publish of the current highest release (for
// example after a failure between the upload and the tag) still moves
// `latest` to it instead of leaving it on the previous release.
func IsNewerStable(v string, existing []string) bool {
	if !IsStable(v) {
		return false
	}
	for _, e := range existing {
		if e != v && IsStable(e) && Compare(v, e) <= 0 {
			return false
		}
	}
	return true
}
