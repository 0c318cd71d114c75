package index

import (
	"sort"
	"time"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/version"
)

// Index is the content of the release page, grouped and sorted.
type Index struct {
	// Stable is sorted by semantic version, newest first.
	Stable []*manifest.Manifest
	// Extra and Development are sorted by build date, newest first.
	Extra       []*manifest.Manifest
	Development []*manifest.Manifest
	// Generated is when the index was built; the page shows it.
	Generated time.Time
}

// Build groups manifests by their class and sorts each group. A manifest
// whose Class is not one of the three known ones is classified again from its
// version, so an old or hand-written manifest still shows up somewhere. Nil
// entries are skipped. Generated is set to the current time.
func Build(ms []*manifest.Manifest) Index {
	idx := Index{Generated: time.Now().UTC().Truncate(time.Second)}
	for _, m := range ms {
		if m == nil {
			continue
		}
		class := version.Class(m.Class)
		switch class {
		case version.Stable, version.Extra, version.Development:
		default:
			class = version.Classify(m.Version)
		}
		switch class {
		case version.Stable:
			idx.Stable = append(idx.Stable, m)
		case version.Extra:
			idx.Extra = append(idx.Extra, m)
		default:
			idx.Development = append(idx.Development, m)
		}
	}
	sort.SliceStable(idx.Stable, func(i, j int) bool {
		a, b := idx.Stable[i], idx.Stable[j]
		if c := version.Compare(a.Version, b.Version); c != 0 {
			return c > 0
		}
		return a.Date.After(b.Date)
	})
	byDate(idx.Extra)
	byDate(idx.Development)
	return idx
}

// byDate sorts newest first; equal dates fall back to the version so the page
// does not reshuffle between two rebuilds of the same bucket.
func byDate(ms []*manifest.Manifest) {
	sort.SliceStable(ms, func(i, j int) bool {
		if !ms[i].Date.Equal(ms[j].Date) {
			return ms[i].Date.After(ms[j].Date)
		}
		return ms[i].Version < ms[j].Version
	})
}

// Latest is the version `latest` points to: the highest stable version, or ""
// when there is no stable release.
func (idx Index) Latest() string {
	if len(idx.Stable) == 0 {
		return ""
	}
	return idx.Stable[0].Version
}
