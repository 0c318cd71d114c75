// Package outdir guards the folder results are written to (--out). That
// folder is replaced as a whole, so a mistaken --out (".", "..", "~", "src")
// would delete whatever it names: it may be replaced only when it is
// missing, empty, or was written by garage-release before, and never when
// it is, or contains, a folder the user works in.
package outdir

import (
	"bytes"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"syscall"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
)

// Marker is the file written into every output folder, so that the next run
// knows it may replace the folder.
const Marker = ".garage-release"

// MarkerText is Marker's content. It is constant (no date, no version) so
// that two runs of the same build give the same folder byte for byte. The
// pipeline puts it in dist/ too, so an output exported by `dagger call`
// is recognised as well.
const MarkerText = "Written by garage-release: the next run replaces this whole folder, so keep nothing else in it.\n"

// markerPrefix is what a file named Marker must start with to count: a file
// of that name that someone else wrote does not make a folder ours.
const markerPrefix = "Written by garage-release"

// Refusal says why a folder must not be replaced, and what to do instead.
type Refusal struct {
	Path   string // the folder, symlinks resolved
	Reason string // why it is not replaced
	Fix    string // what the user can do
}

func (r *Refusal) Error() string {
	return fmt.Sprintf("will not replace %s: %s.\n%s", r.Path, r.Reason, r.Fix)
}

// ourNames are the top-level entries earlier versions wrote, before the
// marker existed: the files and folders of dist/ (see pipeline.Run), true for
// folders.
func ourNames() map[string]bool {
	names := map[string]bool{
		manifest.FileName: false, manifest.SumsName: false, "image.tar": false,
		"index.html": false, "releases.json": false, Marker: false, "docs": true, "logs": true,
	}
	for _, t := range target.All {
		names[t.Triple] = true
	}
	return names
}

// Resolve returns path made absolute with its symlinks resolved. A path that
// does not exist yet is resolved through its deepest existing ancestor, so
// that "out/../x" and a link to the project are judged by where they lead.
func Resolve(path string) (string, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("resolve %s: %w", path, err)
	}
	cur, rest := abs, ""
	for {
		real, err := filepath.EvalSymlinks(cur)
		if err == nil {
			return filepath.Join(real, rest), nil
		}
		if !missing(err) {
			return "", fmt.Errorf("resolve %s: %w", path, err)
		}
		parent := filepath.Dir(cur)
		if parent == cur {
			return abs, nil
		}
		rest = filepath.Join(filepath.Base(cur), rest)
		cur = parent
	}
}

// missing is true for errors that mean "nothing there yet": a missing
// entry, or a path that runs through a file (checked separately).
func missing(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Check returns a *Refusal when out must not be replaced as a whole: when it
// is, or contains, the root folder or one of protected (the project, the
// working folder, the home folder), when it is not a folder, or when it
// holds anything garage-release did not write. A missing or empty out
// passes. Other errors (an unreadable folder) are returned as they are.
func Check(out string, protected ...string) error {
	real, err := Resolve(out)
	if err != nil {
		return err
	}
	return check(real, protected)
}

func check(real string, protected []string) error {
	if filepath.Dir(real) == real {
		return &Refusal{Path: real, Reason: "it is the root folder", Fix: fixElsewhere}
	}
	for _, p := range protected {
		if p == "" {
			continue
		}
		rp, err := Resolve(p)
		if err != nil {
			return err
		}
		if rp == real {
			return &Refusal{Path: real, Reason: "it is a folder that is never replaced (the project, the current folder or the home folder)", Fix: fixElsewhere}
		}
		if within(real, rp) {
			return &Refusal{Path: real, Reason: fmt.Sprintf("it contains %s, a folder that is never replaced (the project, the current folder or the home folder)", rp), Fix: fixElsewhere}
		}
	}
	fi, err := os.Lstat(real)
	if missing(err) {
		return checkAncestors(real)
	}
	if err != nil {
		return fmt.Errorf("inspect %s: %w", real, err)
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		// Resolve only stops at a link whose target is missing.
		return &Refusal{Path: real, Reason: "it is a symlink to a path that does not exist", Fix: fmt.Sprintf("Pass --out a folder, or remove the link %s yourself.", real)}
	case !fi.IsDir():
		return &Refusal{Path: real, Reason: "it is a file, not a folder", Fix: fmt.Sprintf("Pass --out a folder, or remove the file %s yourself.", real)}
	}
	reason, err := foreign(real)
	if err != nil {
		return err
	}
	if reason != "" {
		return &Refusal{Path: real, Reason: reason, Fix: fmt.Sprintf("Pass --out another folder, or remove %s yourself if nothing in it is needed.", real)}
	}
	return nil
}

const fixElsewhere = "Pass --out a folder of its own for the results, such as dist (the default)."

// within is true when dir lies inside (strictly below) parent.
func within(parent, dir string) bool {
	rel, err := filepath.Rel(parent, dir)
	return err == nil && rel != "." && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator)) && !filepath.IsAbs(rel)
}

// checkAncestors refuses a missing out whose deepest existing ancestor is a
// file: the folder could not be created there.
func checkAncestors(real string) error {
	for dir := filepath.Dir(real); ; dir = filepath.Dir(dir) {
		fi, err := os.Lstat(dir)
		if err == nil {
			if !fi.IsDir() {
				return &Refusal{Path: real, Reason: fmt.Sprintf("%s is a file, not a folder", dir), Fix: "Pass --out a path inside a folder."}
			}
			return nil
		}
		if !missing(err) {
			return fmt.Errorf("inspect %s: %w", dir, err)
		}
		if filepath.Dir(dir) == dir {
			return nil
		}
	}
}

// foreign returns why dir is not garage-release's output, or "" when it is:
// empty, marked, or an unmarked output of an earlier version (a valid
// manifest.json and nothing but names dist/ holds).
func foreign(dir string) (string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return "", fmt.Errorf("read %s: %w", dir, err)
	}
	if len(entries) == 0 {
		return "", nil
	}
	if marked(dir) {
		return "", nil
	}
	names := ourNames()
	var others []string
	for _, e := range entries {
		isDir, ok := names[e.Name()]
		if !ok || isDir != e.IsDir() || (!isDir && !e.Type().IsRegular()) {
			others = append(others, e.Name())
		}
	}
	if len(others) > 0 {
		sort.Strings(others)
		list := strings.Join(others, ", ")
		if len(others) > 3 {
			list = fmt.Sprintf("%s and %d more", strings.Join(others[:3], ", "), len(others)-3)
		}
		return fmt.Sprintf("it holds %s, which garage-release did not write", list), nil
	}
	data, err := os.ReadFile(filepath.Join(dir, manifest.FileName))
	if missing(err) {
		return fmt.Sprintf("it has neither a %s marker nor a %s, so garage-release did not write it", Marker, manifest.FileName), nil
	}
	if err != nil {
		return "", fmt.Errorf("read %s: %w", filepath.Join(dir, manifest.FileName), err)
	}
	if _, err := manifest.Parse(data); err != nil {
		return fmt.Sprintf("its %s is not one garage-release wrote (%v)", manifest.FileName, err), nil
	}
	return "", nil
}

// Mark writes the marker into dir, making it an output the next run may
// replace.
func Mark(dir string) error {
	return os.WriteFile(filepath.Join(dir, Marker), []byte(MarkerText), 0o644)
}

// marked is true when dir holds the marker file garage-release writes.
func marked(dir string) bool {
	p := filepath.Join(dir, Marker)
	fi, err := os.Lstat(p)
	if err != nil || !fi.Mode().IsRegular() || fi.Size() > 4096 {
		return false
	}
	data, err := os.ReadFile(p)
	return err == nil && bytes.HasPrefix(data, []byte(markerPrefix))
}

// Replace writes a new out as a whole. fill writes the results into a fresh
// temporary folder next to out; only when it succeeded is out checked again
// (a long build leaves time for it to change) and swapped for it. Whatever
// goes wrong, Replace removes only folders it created itself or moved aside
// after checking they are garage-release's: a failed fill leaves out as it
// was. It works on out's symlink-resolved path, so a link to the output
// folder stays a link. protected are as for Check.
func Replace(out string, fill func(tmp string) error, protected ...string) error {
	real, err := Resolve(out)
	if err != nil {
		return err
	}
	if err := check(real, protected); err != nil {
		return err
	}
	parent, base := filepath.Dir(real), filepath.Base(real)
	if err := os.MkdirAll(parent, 0o755); err != nil {
		return fmt.Errorf("create %s: %w", parent, err)
	}
	// Unique names: a run never takes over a folder of the same name that
	// the user or another run owns (the old fixed "dist.partial" did).
	tmp, err := os.MkdirTemp(parent, "."+base+".garage-release-*")
	if err != nil {
		return fmt.Errorf("create a temporary folder next to %s: %w", real, err)
	}
	swapped := false
	defer func() {
		if !swapped {
			os.RemoveAll(tmp)
		}
	}()
	if err := fill(tmp); err != nil {
		return err
	}
	// MkdirTemp makes it private; results are shared like any folder.
	if err := os.Chmod(tmp, 0o755); err != nil {
		return fmt.Errorf("write %s: %w", real, err)
	}
	if err := Mark(tmp); err != nil {
		return fmt.Errorf("write %s: %w", real, err)
	}
	if err := check(real, protected); err != nil {
		var r *Refusal
		if errors.As(err, &r) {
			r.Reason += " (it changed during the run)"
		}
		return err
	}
	aside := ""
	if _, err := os.Lstat(real); err == nil {
		// Move the old output into a folder of ours, then look at what was
		// actually moved: it is removed only if it is still ours.
		holder, err := os.MkdirTemp(parent, "."+base+".garage-release-old-*")
		if err != nil {
			return fmt.Errorf("create a temporary folder next to %s: %w", real, err)
		}
		aside = filepath.Join(holder, base)
		if err := os.Rename(real, aside); err != nil {
			os.Remove(holder)
			return fmt.Errorf("move the previous %s aside: %w", real, err)
		}
		if reason, err := foreign(aside); err != nil || reason != "" {
			if rerr := putBack(aside, real); rerr != nil {
				return rerr
			}
			if err != nil {
				return err
			}
			return &Refusal{Path: real, Reason: reason + " (it changed during the run)", Fix: fmt.Sprintf("Pass --out another folder, or remove %s yourself if nothing in it is needed.", real)}
		}
	} else if !missing(err) {
		return fmt.Errorf("inspect %s: %w", real, err)
	}
	if err := os.Rename(tmp, real); err != nil {
		// Something took the name meanwhile: put the old output back.
		if aside != "" {
			if rerr := putBack(aside, real); rerr != nil {
				return fmt.Errorf("replace %s: %w; %w", real, err, rerr)
			}
		}
		return fmt.Errorf("replace %s: %w", real, err)
	}
	swapped = true
	if aside != "" {
		if err := os.RemoveAll(filepath.Dir(aside)); err != nil {
			return fmt.Errorf("remove the previous %s (moved to %s): %w", real, aside, err)
		}
	}
	return nil
}

// putBack returns a folder moved aside to its place. Should that fail, the
// error says where it is: it is never removed.
func putBack(aside, real string) error {
	if err := os.Rename(aside, real); err != nil {
		return fmt.Errorf("could not move %s back from %s, where it stays: %w", real, aside, err)
	}
	os.Remove(filepath.Dir(aside)) // our holder, now empty
	return nil
}
