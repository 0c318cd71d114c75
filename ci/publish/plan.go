package publish

import (
	"context"
	"fmt"
	"io"
	"os"
	"slices"
	"text/tabwriter"

	"github.com/garage-release/garage-release/ci/index"
	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
	"github.com/garage-release/garage-release/ci/version"
)

// KeyStatus compares a key the publish would write with the bucket.
type KeyStatus string

// Key statuses in a plan.
const (
	// KeyAbsent: the key is not in the bucket; it would be uploaded.
	KeyAbsent KeyStatus = "absent"
	// KeySame: the remote sha256 equals the local one; it would be skipped.
	KeySame KeyStatus = "same"
	// KeyDifferent: the remote object differs; it would be overwritten.
	KeyDifferent KeyStatus = "different"
	// KeyExists: the key exists; without dist/ there is nothing to compare.
	KeyExists KeyStatus = "exists"
)

// PlanReport says what a publish would do, without doing it.
type PlanReport struct {
	Version string `json:"version"`
	Class   string `json:"class"`
	// Bucket names the bucket and endpoint.
	Bucket  string       `json:"bucket"`
	Targets []PlanTarget `json:"targets"`
	// Objects lists every key the publish writes, in upload order.
	Objects []PlanObject `json:"objects"`
	Images  []PlanImage  `json:"images,omitempty"`
	// Refused says why the publish would be refused ("" if it would run).
	Refused  string   `json:"refused,omitempty"`
	Warnings []string `json:"warnings,omitempty"`
}

// PlanTarget is one target of the build.
type PlanTarget struct {
	Name     string `json:"name"`
	Triple   string `json:"triple"`
	Platform string `json:"platform"`
}

// PlanObject is one key and how it compares with the bucket.
type PlanObject struct {
	Key    string    `json:"key"`
	Status KeyStatus `json:"status"`
}

// PlanImage is one tag the publish would push.
type PlanImage struct {
	Ref string `json:"ref"`
	// Exists is true when the tag is in the registry already (it would
	// move to the new image).
	Exists bool `json:"exists"`
}

// Plan lists what Publish would write for m: its class and targets, every
// S3 key with its status, the image tags (the version, and latest when
// LatestDecision says so) and whether they exist. With distDir, keys
// are compared by sha256 (and docs are listed); with distDir "", the keys
// come from m's targets (or the whole target table when it has none) and the
// binary name, and only their existence is checked. imageRepo "" skips the
// registry; registry credentials come from REGISTRY_USERNAME/PASSWORD, and a
// registry that cannot be read is a warning, not an error.
func Plan(ctx context.Context, cfg Config, m *manifest.Manifest, distDir string, imageRepo string) (PlanReport, error) {
	if m == nil || m.Version == "" || m.Binary == "" {
		return PlanReport{}, fmt.Errorf("plan: the manifest needs a version and a binary name")
	}
	if err := version.ValidateTag(m.Version); err != nil {
		return PlanReport{}, fmt.Errorf("plan: %w", err)
	}
	c, err := newClient(cfg)
	if err != nil {
		return PlanReport{}, err
	}
	class := m.Class
	if class == "" {
		class = string(version.Classify(m.Version))
	}
	rep := PlanReport{Version: m.Version, Class: class, Bucket: c.cfg.where()}

	var objs []object
	if distDir != "" {
		rel, err := readDist(c.cfg, distDir, m)
		if err != nil {
			return rep, fmt.Errorf("plan: %w", err)
		}
		objs = append(rel.Files, rel.Manifest)
	} else {
		objs, err = plannedKeys(c.cfg, m)
		if err != nil {
			return rep, fmt.Errorf("plan: %w", err)
		}
	}
	rep.Targets, err = planTargets(m)
	if err != nil {
		return rep, fmt.Errorf("plan: %w", err)
	}
	if err := c.check(ctx); err != nil {
		return rep, err
	}
	for _, o := range objs {
		st, err := c.stat(ctx, o.Key)
		if err != nil {
			return rep, err
		}
		rep.Objects = append(rep.Objects, PlanObject{Key: o.Key, Status: compare(o, st)})
	}
	manifestKey := c.cfg.key(index.ManifestKey(m.Version))
	for _, o := range rep.Objects {
		if o.Key == manifestKey && o.Status != KeyAbsent && o.Status != KeySame && class == string(version.Stable) {
			rep.Refused = fmt.Sprintf("stable release %s is already published: the publish would be refused without --force", m.Version)
		}
	}
	// The index is rewritten by every publish.
	for _, k := range []string{index.JSONKey, index.HTMLKey} {
		st, err := c.stat(ctx, c.cfg.key(k))
		if err != nil {
			return rep, err
		}
		status := KeyAbsent
		if st.Exists {
			status = KeyDifferent
		}
		rep.Objects = append(rep.Objects, PlanObject{Key: c.cfg.key(k), Status: status})
	}
	if imageRepo != "" {
		rep.Images, rep.Warnings = planImages(ctx, imageRepo, m.Version)
	}
	return rep, nil
}

// compare turns a local object and its remote state into a status; an
// object with no local checksum can only be found or not.
func compare(o object, st remoteState) KeyStatus {
	switch {
	case !st.Exists:
		return KeyAbsent
	case o.SHA256 == "":
		return KeyExists
	case st.SHA256 == o.SHA256 && st.Size == o.Size:
		return KeySame
	default:
		return KeyDifferent
	}
}

// plannedKeys names the keys of m without a dist/ to read.
func plannedKeys(cfg Config, m *manifest.Manifest) ([]object, error) {
	ts, err := manifestTargets(m)
	if err != nil {
		return nil, err
	}
	prefix := cfg.key(index.ReleasePrefix(m.Version))
	var out []object
	for _, t := range ts {
		key := prefix + t.BinaryPath(m.Binary)
		out = append(out, object{Key: key}, object{Key: key + index.ChecksumSuffix})
	}
	out = append(out, object{Key: prefix + manifest.SumsName}, object{Key: prefix + manifest.FileName})
	return out, nil
}

// manifestTargets resolves m's targets in the target table; none means all.
func manifestTargets(m *manifest.Manifest) ([]target.Target, error) {
	var names []string
	for _, a := range m.Targets {
		names = append(names, a.Target)
	}
	return target.Parse(names)
}

func planTargets(m *manifest.Manifest) ([]PlanTarget, error) {
	ts, err := manifestTargets(m)
	if err != nil {
		return nil, err
	}
	out := make([]PlanTarget, len(ts))
	for i, t := range ts {
		out[i] = PlanTarget{Name: t.Name, Triple: t.Triple, Platform: t.Platform}
	}
	return out, nil
}

// planImages lists the tags a publish would push to repo.
func planImages(ctx context.Context, repo, v string) ([]PlanImage, []string) {
	tags, err := ListTags(ctx, repo, RegistryAuth(os.Getenv), false)
	if err != nil {
		return []PlanImage{{Ref: repo + ":" + v}}, []string{fmt.Sprintf("could not read the registry, so tag states and the latest decision are unknown: %v", err)}
	}
	out := []PlanImage{{Ref: repo + ":" + v, Exists: slices.Contains(tags, v)}}
	if LatestDecision(v, tags) {
		out = append(out, PlanImage{Ref: repo + ":" + LatestTag, Exists: slices.Contains(tags, LatestTag)})
	}
	return out, nil
}

// Text writes the plan for people, one key per line.
func (r PlanReport) Text(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintf(tw, "publish %s (%s) to %s\n", r.Version, r.Class, r.Bucket)
	if r.Refused != "" {
		fmt.Fprintf(tw, "REFUSED: %s\n", r.Refused)
	}
	fmt.Fprintf(tw, "targets:\n")
	for _, t := range r.Targets {
		fmt.Fprintf(tw, "  %s\t%s\t%s\n", t.Name, t.Triple, t.Platform)
	}
	fmt.Fprintf(tw, "objects (%d):\n", len(r.Objects))
	for _, o := range r.Objects {
		fmt.Fprintf(tw, "  %s\t%s\n", o.Status, o.Key)
	}
	if len(r.Images) > 0 {
		fmt.Fprintf(tw, "image tags:\n")
		for _, im := range r.Images {
			state := "new"
			if im.Exists {
				state = "moves"
			}
			fmt.Fprintf(tw, "  %s\t%s\n", state, im.Ref)
		}
	}
	for _, wn := range r.Warnings {
		fmt.Fprintf(tw, "warning: %s\n", wn)
	}
	return tw.Flush()
}
