// Package trust decides whether a run may write to the caches that follow
// a project from runner to runner (today the toolchain image in the
// project's registry). Only trusted runs write: a tag, the default or a
// protected branch, or a run on a maintainer's own machine. A pull-request
// build reads at most, so a contributor's code can never plant something a
// release later uses. It is pure: the environment comes in as a getenv.
package trust

import (
	"fmt"
	"strings"
)

// Mode is what a run may do with the shared caches.
type Mode string

// The modes, as --cache takes them.
const (
	ReadWrite Mode = "read-write"
	ReadOnly  Mode = "read-only"
	Off       Mode = "off"
	Auto      Mode = "auto" // decided from the CI provider's variables
)

// Decide returns the mode for the --cache flag (auto decides from the
// environment) and why, in words for the log.
func Decide(flag string, getenv func(string) string) (Mode, string, error) {
	switch Mode(flag) {
	case ReadWrite, ReadOnly, Off:
		return Mode(flag), "--cache " + flag, nil
	case Auto, "":
	default:
		return "", "", fmt.Errorf("--cache %q: give auto, read-write, read-only or off", flag)
	}
	trusted, why := fromCI(getenv)
	if trusted {
		return ReadWrite, why, nil
	}
	return ReadOnly, why, nil
}

// fromCI reads the CI provider's variables: trusted or not, and why.
func fromCI(getenv func(string) string) (bool, string) {
	is := func(k, v string) bool { return getenv(k) == v }
	switch {
	case is("GITHUB_ACTIONS", "true"):
		event := getenv("GITHUB_EVENT_NAME")
		if strings.HasPrefix(event, "pull_request") || event == "merge_group" {
			return false, "GitHub Actions, a " + event + " event"
		}
		if strings.HasPrefix(getenv("GITHUB_REF"), "refs/tags/") {
			return true, "GitHub Actions, a tag"
		}
		if is("GITHUB_REF_PROTECTED", "true") {
			return true, "GitHub Actions, a protected branch"
		}
		return false, "GitHub Actions, an unprotected branch"
	case is("GITLAB_CI", "true"):
		if getenv("CI_PIPELINE_SOURCE") == "merge_request_event" {
			return false, "GitLab CI, a merge request"
		}
		if getenv("CI_COMMIT_TAG") != "" {
			return true, "GitLab CI, a tag"
		}
		if is("CI_COMMIT_REF_PROTECTED", "true") {
			return true, "GitLab CI, a protected branch"
		}
		return false, "GitLab CI, an unprotected branch"
	case is("CI", "woodpecker"):
		switch getenv("CI_PIPELINE_EVENT") {
		case "pull_request", "pull_request_closed":
			return false, "Woodpecker, a pull request"
		case "tag":
			return true, "Woodpecker, a tag"
		}
		if b := getenv("CI_COMMIT_BRANCH"); b != "" && b == getenv("CI_REPO_DEFAULT_BRANCH") {
			return true, "Woodpecker, the default branch"
		}
		return false, "Woodpecker, not the default branch"
	case is("DRONE", "true"):
		if getenv("DRONE_BUILD_EVENT") == "pull_request" {
			return false, "Drone, a pull request"
		}
		if getenv("DRONE_TAG") != "" {
			return true, "Drone, a tag"
		}
		if b := getenv("DRONE_BRANCH"); b != "" && b == getenv("DRONE_REPO_BRANCH") {
			return true, "Drone, the default branch"
		}
		return false, "Drone, not the default branch"
	case getenv("CI") != "":
		return false, "an unknown CI provider (CI is set): --cache read-write to write"
	}
	return true, "a local run"
}

// Untrusted says whether a run must keep to engine cache volumes of its
// own: a read-only run, and a run the CI provider's variables do not trust
// unless --cache read-write says the maintainer trusts it. Its build scripts run with
// the volumes mounted (cargo's registry sources, target/), so sharing them
// would let a pull request leave a poisoned source or rlib that a release
// on the same engine later compiles or links.
func Untrusted(flag string, getenv func(string) string) bool {
	mode, _, err := Decide(flag, getenv)
	if err != nil {
		return true
	}
	switch mode {
	case ReadOnly:
		return true
	case ReadWrite:
		return false
	}
	trusted, _ := fromCI(getenv)
	return !trusted
}
