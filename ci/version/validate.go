package version

import (
	"fmt"
	"regexp"
	"strings"
)

// MaxTagLen is the longest tag accepted: the limit of an OCI image tag.
const MaxTagLen = 128

// TagRule says in words what ValidateTag accepts; errors quote it.
const TagRule = "only letters, digits, '.', '_' and '-', at most 128 characters, not starting with '.' or '-'"

var tagRe = regexp.MustCompile(`^[A-Za-z0-9_][A-Za-z0-9._-]*$`)

// ValidateTag checks that a tag can name both an S3 prefix
// (_releases/<tag>/) and an image tag (<image>:<tag>) unchanged: no escaping,
// no path tricks, nothing that a registry would refuse.
func ValidateTag(tag string) error {
	if tag == "" {
		return fmt.Errorf("the tag is empty")
	}
	if len(tag) > MaxTagLen || !tagRe.MatchString(tag) {
		return fmt.Errorf("tag %q cannot name a release: a tag must use %s", tag, TagRule)
	}
	return nil
}

// NormalizeCommit returns the commit as 40 lower-case hex digits. A short or
// non-hex commit is an error: a development build is named by its full SHA so
// that two builds never share a name.
func NormalizeCommit(commit string) (string, error) {
	c := strings.ToLower(strings.TrimSpace(commit))
	if !commitRe.MatchString(c) {
		return "", fmt.Errorf("commit %q is not a full 40-hex-digit git SHA (give the full `git rev-parse HEAD`, not a short or symbolic name)", commit)
	}
	return c, nil
}
