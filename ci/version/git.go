package version

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"sort"
	"strings"
)

// ErrNotRepository is wrapped by Git functions when the directory is not in a
// git work tree: Detect then falls back to DefaultVersion instead of failing.
var ErrNotRepository = errors.New("not a git repository")

// RunGit runs `git args...` in dir and returns its stdout without the final
// newline. Messages are forced to English so ErrNotRepository can be
// recognised; the error carries git's stderr.
func RunGit(dir string, args ...string) (string, error) {
	cmd := exec.Command("git", args...)
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "LC_ALL=C", "LANGUAGE=C", "GIT_TERMINAL_PROMPT=0")
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	if err := cmd.Run(); err != nil {
		msg := strings.TrimSpace(stderr.String())
		if strings.Contains(msg, "not a git repository") {
			return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), ErrNotRepository)
		}
		if msg != "" {
			return "", fmt.Errorf("git %s: %w: %s", strings.Join(args, " "), err, msg)
		}
		return "", fmt.Errorf("git %s: %w", strings.Join(args, " "), err)
	}
	return strings.TrimRight(stdout.String(), "\n"), nil
}

// fromGit asks git in dir for HEAD's tag, commit and cleanliness. No dir, no
// git binary, no repository or no commit yet all mean "git knows nothing";
// any other git failure (an unreadable repository, a "dubious ownership"
// refusal) is an error, because silently releasing as "dev" would hide it.
func fromGit(dir string, git func(string, ...string) (string, error)) (found, bool, error) {
	if dir == "" {
		return found{}, false, nil
	}
	if _, err := git(dir, "rev-parse", "--is-inside-work-tree"); err != nil {
		if errors.Is(err, ErrNotRepository) || errors.Is(err, exec.ErrNotFound) {
			return found{}, false, nil
		}
		return found{}, false, fmt.Errorf("reading the version from git in %s: %w", dir, err)
	}
	head, err := git(dir, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
	if err != nil || head == "" {
		// An unborn branch: a repository without commits names no version.
		return found{}, false, nil
	}
	// `git tag --points-at` rather than `git describe --exact-match`: when a
	// commit carries several tags (v1.2.0-rc.1 promoted to v1.2.0), describe
	// picks one by tag date, while here the highest stable tag wins.
	tags, err := git(dir, "tag", "--points-at", "HEAD")
	if err != nil {
		return found{}, false, fmt.Errorf("reading the tags of HEAD in %s: %w", dir, err)
	}
	status, err := git(dir, "status", "--porcelain")
	if err != nil {
		return found{}, false, fmt.Errorf("checking whether the work tree in %s is clean: %w", dir, err)
	}
	f, ok, err := check(SourceGit, "tag at HEAD", pickTag(strings.Fields(tags)), "HEAD", head)
	if err != nil {
		return found{}, false, fmt.Errorf("%w (set --tag or --commit to choose the version)", err)
	}
	f.dirty = strings.TrimSpace(status) != ""
	return f, ok, nil
}

// pickTag chooses among the tags of one commit: the highest stable one, else
// the first in name order, so the choice does not depend on tag dates.
func pickTag(tags []string) string {
	if best := HighestStable(tags); best != "" {
		return best
	}
	sort.Strings(tags)
	if len(tags) == 0 {
		return ""
	}
	return tags[0]
}

// CommitTime returns the committer time of commit (Unix seconds) in the
// repository holding dir: the SOURCE_DATE_EPOCH of a build of that commit,
// the same on every machine.
func CommitTime(dir, commit string) (int64, error) {
	return CommitTimeWith(RunGit, dir, commit)
}

// CommitTimeWith is CommitTime with git run by git (see Options.Git).
func CommitTimeWith(git func(string, ...string) (string, error), dir, commit string) (int64, error) {
	out, err := git(dir, "show", "-s", "--format=%ct", commit+"^{commit}")
	if err != nil {
		return 0, err
	}
	var sec int64
	if _, err := fmt.Sscan(out, &sec); err != nil {
		return 0, fmt.Errorf("git show %s: not a time: %q", commit, out)
	}
	return sec, nil
}
