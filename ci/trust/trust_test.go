package trust

import "testing"

func TestDecide(t *testing.T) {
	cases := []struct {
		name string
		flag string
		env  map[string]string
		want Mode
	}{
		{"local run", "auto", nil, ReadWrite},
		{"flag wins", "read-only", nil, ReadOnly},
		{"off", "off", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/v1.0.0"}, Off},
		{"github tag", "", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1.0.0"}, ReadWrite},
		{"github protected main", "auto", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_PROTECTED": "true"}, ReadWrite},
		{"github schedule on an unprotected branch", "auto", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "schedule", "GITHUB_REF": "refs/heads/main"}, ReadOnly},
		{"github pull request", "auto", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge", "GITHUB_REF_PROTECTED": "true"}, ReadOnly},
		{"github pull_request_target", "auto", map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request_target", "GITHUB_REF": "refs/heads/main", "GITHUB_REF_PROTECTED": "true"}, ReadOnly},
		{"gitlab tag", "auto", map[string]string{"GITLAB_CI": "true", "CI": "true", "CI_COMMIT_TAG": "v1.0.0"}, ReadWrite},
		{"gitlab merge request", "auto", map[string]string{"GITLAB_CI": "true", "CI": "true", "CI_PIPELINE_SOURCE": "merge_request_event", "CI_COMMIT_REF_PROTECTED": "true"}, ReadOnly},
		{"gitlab protected branch", "auto", map[string]string{"GITLAB_CI": "true", "CI": "true", "CI_COMMIT_REF_PROTECTED": "true"}, ReadWrite},
		{"woodpecker pull request", "auto", map[string]string{"CI": "woodpecker", "CI_PIPELINE_EVENT": "pull_request", "CI_COMMIT_BRANCH": "main", "CI_REPO_DEFAULT_BRANCH": "main"}, ReadOnly},
		{"woodpecker default branch", "auto", map[string]string{"CI": "woodpecker", "CI_PIPELINE_EVENT": "push", "CI_COMMIT_BRANCH": "main", "CI_REPO_DEFAULT_BRANCH": "main"}, ReadWrite},
		{"woodpecker feature branch", "auto", map[string]string{"CI": "woodpecker", "CI_PIPELINE_EVENT": "push", "CI_COMMIT_BRANCH": "wip", "CI_REPO_DEFAULT_BRANCH": "main"}, ReadOnly},
		{"drone tag", "auto", map[string]string{"DRONE": "true", "CI": "true", "DRONE_BUILD_EVENT": "tag", "DRONE_TAG": "v1.0.0"}, ReadWrite},
		{"drone pull request", "auto", map[string]string{"DRONE": "true", "CI": "true", "DRONE_BUILD_EVENT": "pull_request", "DRONE_BRANCH": "main", "DRONE_REPO_BRANCH": "main"}, ReadOnly},
		{"unknown CI", "auto", map[string]string{"CI": "true"}, ReadOnly},
	}
	for _, c := range cases {
		got, why, err := Decide(c.flag, func(k string) string { return c.env[k] })
		if err != nil || got != c.want || why == "" {
			t.Errorf("%s: %q (%s), %v; want %q", c.name, got, why, err, c.want)
		}
	}
	if _, _, err := Decide("yes", func(string) string { return "" }); err == nil {
		t.Errorf("--cache yes was accepted")
	}
}

func TestUntrusted(t *testing.T) {
	pr := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "pull_request", "GITHUB_REF": "refs/pull/7/merge"}
	tag := map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_EVENT_NAME": "push", "GITHUB_REF": "refs/tags/v1.0.0"}
	cases := []struct {
		name string
		flag string
		env  map[string]string
		want bool
	}{
		{"local run", "auto", nil, false},
		{"local run, read-only by hand", "read-only", nil, true},
		{"pull request", "auto", pr, true},
		{"pull request with the cache off", "off", pr, true},
		{"pull request, read-write by hand (the maintainer's call)", "read-write", pr, false},
		{"tag", "auto", tag, false},
		{"tag with the cache off", "off", tag, false},
	}
	for _, c := range cases {
		got := Untrusted(c.flag, func(k string) string { return c.env[k] })
		if got != c.want {
			t.Errorf("%s: Untrusted = %v, want %v", c.name, got, c.want)
		}
	}
}
