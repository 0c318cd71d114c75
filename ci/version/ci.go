package version

import "strings"

// fromCI reads the variables of the first CI provider that the environment
// identifies. A provider that is detected but names neither a tag nor a
// commit defers to git.
func fromCI(getenv func(string) string) (found, bool, error) {
	switch {
	case getenv("GITHUB_ACTIONS") == "true":
		// GITHUB_REF_NAME is the branch on a branch push: only a tag push
		// (GITHUB_REF_TYPE=tag) names a release. GITHUB_REF covers runners
		// older than GITHUB_REF_TYPE.
		tag, tagVar := "", "GITHUB_REF_NAME"
		switch getenv("GITHUB_REF_TYPE") {
		case "tag":
			tag = getenv("GITHUB_REF_NAME")
		case "":
			if t, ok := strings.CutPrefix(getenv("GITHUB_REF"), "refs/tags/"); ok {
				tag, tagVar = t, "GITHUB_REF"
			}
		}
		return check(SourceGitHub, tagVar, tag, "GITHUB_SHA", getenv("GITHUB_SHA"))
	case getenv("GITLAB_CI") != "":
		return check(SourceGitLab, "CI_COMMIT_TAG", getenv("CI_COMMIT_TAG"), "CI_COMMIT_SHA", getenv("CI_COMMIT_SHA"))
	case getenv("CI") == "woodpecker" || getenv("CI_SYSTEM_NAME") == "woodpecker":
		// Woodpecker uses GitLab's variable names; CI=woodpecker tells them apart.
		return check(SourceWoodpecker, "CI_COMMIT_TAG", getenv("CI_COMMIT_TAG"), "CI_COMMIT_SHA", getenv("CI_COMMIT_SHA"))
	case getenv("DRONE") == "true":
		commit, commitVar := getenv("DRONE_COMMIT_SHA"), "DRONE_COMMIT_SHA"
		if commit == "" {
			commit, commitVar = getenv("DRONE_COMMIT"), "DRONE_COMMIT"
		}
		return check(SourceDrone, "DRONE_TAG", getenv("DRONE_TAG"), commitVar, commit)
	}
	return found{}, false, nil
}
