package testenv

import (
	"os"
	"testing"
)

// Actionlint returns the path of the actionlint CLI (GR_TEST_ACTIONLINT,
// which .ci/run sets), skipping the test without it (failing it under CI).
func Actionlint(t testing.TB) string {
	t.Helper()
	return tool(t, "GR_TEST_ACTIONLINT", "the actionlint CLI")
}

// tool is the path of a CLI that .ci/run installs and names in variable.
func tool(t testing.TB, variable, what string) string {
	t.Helper()
	p := os.Getenv(variable)
	if p == "" {
		missing(t, variable+" is not set ("+what+"; .ci/run installs it)")
	}
	return p
}
