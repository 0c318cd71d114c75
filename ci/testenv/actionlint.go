package testenv

import (
	"os"
	"testing"
)

// Actionlint returns the path of the actionlint CLI (GR_TEST_ACTIONLINT,
// which .ci/run installs). When it is not set the test is skipped, or fails
// if CI=true.
func Actionlint(t testing.TB) string {
	t.Helper()
	p := os.Getenv("GR_TEST_ACTIONLINT")
	if p == "" {
		missing(t, "GR_TEST_ACTIONLINT is not set (the actionlint CLI; .ci/run installs it)")
	}
	return p
}
