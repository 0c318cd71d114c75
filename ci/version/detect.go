package version

import (
	"fmt"
	"os"
)

// Sources of a version, as reported in Info.Source and in the run summary.
const (
	SourceFlag       = "flag"
	SourceGitHub     = "GitHub Actions"
	SourceGitLab     = "GitLab CI"
	SourceWoodpecker = "Woodpecker"
	SourceDrone      = "Drone"
	SourceGit        = "git"
	SourceDefault    = "default"
)

// Info is the detected version of a build.
type Info struct {
	// Version is the tag when there is one, else the 40-hex commit, else
	// DefaultVersion.
	Version string
	// Commit is the full lower-case SHA when known, even for a tag.
	Commit string
	Class  Class
	// Source says where Version came from (one of the Source* constants).
	Source string
	// Dirty is true when git was consulted and the work tree had changes.
	Dirty bool
}

// Options are the inputs of Detect. The zero value reads the process
// environment and skips git.
type Options struct {
	// Tag and Commit are the --tag and --commit flags; either one set means
	// the flags decide the version and CI variables are ignored for it.
	Tag, Commit string
	// Getenv reads CI variables; nil means os.Getenv.
	Getenv func(string) string
	// Dir is the source directory on the host, for git. Empty skips git (the
	// embedded example has no repository of its own).
	Dir string
	// Git runs git in dir and returns its trimmed stdout; nil means RunGit.
	// It must return an error wrapping ErrNotRepository when dir is not in a
	// git work tree.
	Git func(dir string, args ...string) (string, error)
}

// found is what one source knows.
type found struct {
	source, tag, commit string
	dirty               bool
}

// Detect finds the version of a build. The first source that names a tag or
// a commit decides, in this order: flags, CI provider variables (GitHub
// Actions, GitLab CI, Woodpecker, Drone), git in opts.Dir, else
// DefaultVersion. A tag wins over a commit for the version; when the deciding
// source has a tag but no commit (`--tag` alone), the commit is taken from the
// next source that has one, so the manifest still records what was built; a
// later source consulted only for that commit cannot fail the detection.
func Detect(opts Options) (Info, error) {
	if opts.Getenv == nil {
		opts.Getenv = os.Getenv
	}
	if opts.Git == nil {
		opts.Git = RunGit
	}
	steps := []func() (found, bool, error){
		func() (found, bool, error) { return fromFlags(opts) },
		func() (found, bool, error) { return fromCI(opts.Getenv) },
		func() (found, bool, error) { return fromGit(opts.Dir, opts.Git) },
	}
	var (
		primary found
		ok      bool
	)
	for _, step := range steps {
		f, has, err := step()
		if !ok {
			if err != nil {
				return Info{}, err
			}
			if has {
				primary, ok = f, true
			}
		} else if err == nil && has && f.commit != "" {
			// Only the commit is borrowed; the version stays the tag the
			// deciding source named.
			primary.commit = f.commit
			primary.dirty = f.dirty
		}
		if ok && (primary.commit != "" || primary.tag == "") {
			break
		}
	}
	if !ok {
		return Info{Version: DefaultVersion, Class: Development, Source: SourceDefault}, nil
	}
	info := Info{Commit: primary.commit, Source: primary.source, Dirty: primary.dirty}
	if primary.tag != "" {
		info.Version = primary.tag
	} else {
		info.Version = primary.commit
	}
	info.Class = Classify(info.Version)
	return info, nil
}

// fromFlags reads --tag and --commit.
func fromFlags(opts Options) (found, bool, error) {
	return check(SourceFlag, "--tag", opts.Tag, "--commit", opts.Commit)
}

// check validates what a source named; the variable names go into errors so
// a user knows which setting to fix.
func check(source, tagName, tag, commitName, commit string) (found, bool, error) {
	f := found{source: source}
	if tag != "" {
		if err := ValidateTag(tag); err != nil {
			return f, false, fmt.Errorf("version from %s (%s): %w", source, tagName, err)
		}
		f.tag = tag
	}
	if commit != "" {
		c, err := NormalizeCommit(commit)
		if err != nil {
			return f, false, fmt.Errorf("version from %s (%s): %w", source, commitName, err)
		}
		f.commit = c
	}
	return f, f.tag != "" || f.commit != "", nil
}
