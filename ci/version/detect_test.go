package version

import (
	"strings"
	"testing"
)

const (
	shaA = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	shaB = "0123456789abcdef0123456789abcdef01234567"
)

// env turns a map into a Getenv that sees nothing else of the real
// environment, so the tests pass the same way inside any CI provider.
func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestDetectFromFlagsAndCI(t *testing.T) {
	tests := []struct {
		name        string
		tag, commit string
		env         map[string]string
		want        Info
		wantErr     []string // substrings of the error; nil means success
	}{
		{
			name: "nothing at all",
			want: Info{Version: "dev", Class: Development, Source: SourceDefault},
		},
		{
			name: "GitHub tag push",
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "v1.2.3", "GITHUB_REF": "refs/tags/v1.2.3", "GITHUB_SHA": shaA},
			want: Info{Version: "v1.2.3", Commit: shaA, Class: Stable, Source: SourceGitHub},
		},
		{
			name: "GitHub branch push is a development build, not a release named main",
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "branch", "GITHUB_REF_NAME": "main", "GITHUB_REF": "refs/heads/main", "GITHUB_SHA": shaA},
			want: Info{Version: shaA, Commit: shaA, Class: Development, Source: SourceGitHub},
		},
		{
			name: "GitHub extra tag through GITHUB_REF on an old runner",
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF": "refs/tags/v2.0.0-rc.1", "GITHUB_SHA": shaA},
			want: Info{Version: "v2.0.0-rc.1", Commit: shaA, Class: Extra, Source: SourceGitHub},
		},
		{
			name: "GitHub upper-case SHA is lower-cased",
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SHA": strings.ToUpper(shaB)},
			want: Info{Version: shaB, Commit: shaB, Class: Development, Source: SourceGitHub},
		},
		{
			name:    "GitHub short SHA is rejected",
			env:     map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SHA": "0123456"},
			wantErr: []string{"GitHub Actions", "GITHUB_SHA", `"0123456"`, "40-hex"},
		},
		{
			name:    "GitHub tag unsafe for S3 and registries",
			env:     map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "release/1.0", "GITHUB_SHA": shaA},
			wantErr: []string{"GitHub Actions", "GITHUB_REF_NAME", `"release/1.0"`, TagRule},
		},
		{
			name: "GitLab tag pipeline",
			env:  map[string]string{"CI": "true", "GITLAB_CI": "true", "CI_COMMIT_TAG": "v0.9.0", "CI_COMMIT_SHA": shaB},
			want: Info{Version: "v0.9.0", Commit: shaB, Class: Stable, Source: SourceGitLab},
		},
		{
			name: "GitLab branch pipeline",
			env:  map[string]string{"CI": "true", "GITLAB_CI": "true", "CI_COMMIT_BRANCH": "main", "CI_COMMIT_SHA": shaB},
			want: Info{Version: shaB, Commit: shaB, Class: Development, Source: SourceGitLab},
		},
		{
			name: "Woodpecker tag, told apart from GitLab by CI=woodpecker",
			env:  map[string]string{"CI": "woodpecker", "CI_COMMIT_TAG": "v3.1.4-beta", "CI_COMMIT_SHA": shaA},
			want: Info{Version: "v3.1.4-beta", Commit: shaA, Class: Extra, Source: SourceWoodpecker},
		},
		{
			name: "Woodpecker push, by CI_SYSTEM_NAME",
			env:  map[string]string{"CI_SYSTEM_NAME": "woodpecker", "CI_COMMIT_SHA": shaA},
			want: Info{Version: shaA, Commit: shaA, Class: Development, Source: SourceWoodpecker},
		},
		{
			name: "CI_COMMIT_* without a provider marker are not trusted",
			env:  map[string]string{"CI_COMMIT_TAG": "v1.0.0", "CI_COMMIT_SHA": shaA},
			want: Info{Version: "dev", Class: Development, Source: SourceDefault},
		},
		{
			name: "Drone tag",
			env:  map[string]string{"CI": "true", "DRONE": "true", "DRONE_TAG": "v1.0.0", "DRONE_COMMIT": shaB},
			want: Info{Version: "v1.0.0", Commit: shaB, Class: Stable, Source: SourceDrone},
		},
		{
			name: "Drone push prefers DRONE_COMMIT_SHA",
			env:  map[string]string{"DRONE": "true", "DRONE_COMMIT_SHA": shaA, "DRONE_COMMIT": shaB},
			want: Info{Version: shaA, Commit: shaA, Class: Development, Source: SourceDrone},
		},
		{
			name:    "Drone short commit",
			env:     map[string]string{"DRONE": "true", "DRONE_COMMIT": "abc"},
			wantErr: []string{"Drone", "DRONE_COMMIT", `"abc"`},
		},
		{
			name: "tag and commit flags",
			tag:  "v1.2.3", commit: shaB,
			want: Info{Version: "v1.2.3", Commit: shaB, Class: Stable, Source: SourceFlag},
		},
		{
			name:   "commit flag overrides a CI tag",
			commit: shaB,
			env:    map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_REF_TYPE": "tag", "GITHUB_REF_NAME": "v1.2.3", "GITHUB_SHA": shaA},
			want:   Info{Version: shaB, Commit: shaB, Class: Development, Source: SourceFlag},
		},
		{
			name: "tag flag overrides the CI tag and keeps the CI commit",
			tag:  "v9.9.9",
			env:  map[string]string{"GITLAB_CI": "true", "CI_COMMIT_TAG": "v1.0.0", "CI_COMMIT_SHA": shaA},
			want: Info{Version: "v9.9.9", Commit: shaA, Class: Stable, Source: SourceFlag},
		},
		{
			name: "full flags ignore broken CI variables",
			tag:  "v1.0.0", commit: shaB,
			env:  map[string]string{"GITHUB_ACTIONS": "true", "GITHUB_SHA": "short"},
			want: Info{Version: "v1.0.0", Commit: shaB, Class: Stable, Source: SourceFlag},
		},
		{
			name:    "short commit flag",
			commit:  "deadbee",
			wantErr: []string{"--commit", `"deadbee"`, "40-hex"},
		},
		{
			name:    "unsafe tag flag",
			tag:     "v1.0<script>",
			wantErr: []string{"--tag", `"v1.0<script>"`, TagRule},
		},
		{
			name:    "tag flag starting with a dash",
			tag:     "-v1",
			wantErr: []string{`"-v1"`, "not starting with"},
		},
		{
			name:    "tag flag longer than an image tag may be",
			tag:     strings.Repeat("v", 129),
			wantErr: []string{"at most 128"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := Detect(Options{Tag: tt.tag, Commit: tt.commit, Getenv: env(tt.env)})
			if tt.wantErr != nil {
				if err == nil {
					t.Fatalf("Detect = %+v, want an error", got)
				}
				for _, s := range tt.wantErr {
					if !strings.Contains(err.Error(), s) {
						t.Errorf("error %q does not mention %q", err, s)
					}
				}
				return
			}
			if err != nil {
				t.Fatalf("Detect: %v", err)
			}
			if got != tt.want {
				t.Errorf("Detect = %+v\nwant      %+v", got, tt.want)
			}
		})
	}
}
