package pipeline

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"dagger.io/dagger"

	"github.com/garage-release/garage-release/ci/version"
)

// GitRunner runs git in the engine, in a source that was uploaded with its
// .git folder, for version.Options.Git: the Dagger module reads the tag,
// commit and commit time of what it releases this way, as the CLI reads
// them from git on the host. The answers are cached with the source's
// content, which decides them.
func GitRunner(ctx context.Context, c *dagger.Client, src *dagger.Directory, baseImage string) func(string, ...string) (string, error) {
	if baseImage == "" {
		baseImage = DefaultBaseImage
	}
	ctr := c.Container().From(baseImage).
		WithExec([]string{"sh", "-c", "set -eu; export DEBIAN_FRONTEND=noninteractive; apt-get update -q; apt-get install -y -q --no-install-recommends git; rm -rf /var/lib/apt/lists/*"}).
		WithMountedDirectory("/src", src).
		WithWorkdir("/src").
		WithEnvVariable("LC_ALL", "C")
	return func(_ string, args ...string) (string, error) {
		// The upload's owner is not the container's user: git would refuse
		// the repository as "dubious ownership" without safe.directory.
		out, err := ctr.WithExec(append([]string{"git", "-c", "safe.directory=*"}, args...)).Stdout(ctx)
		if err != nil {
			var ee *dagger.ExecError
			if errors.As(err, &ee) {
				msg := strings.TrimSpace(ee.Stderr)
				if strings.Contains(msg, "not a git repository") {
					return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), version.ErrNotRepository)
				}
				return "", fmt.Errorf("git %s: exit %d: %s", strings.Join(args, " "), ee.ExitCode, msg)
			}
			return "", err
		}
		return strings.TrimRight(out, "\n"), nil
	}
}
