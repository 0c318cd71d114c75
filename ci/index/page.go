package index

import (
	"fmt"
	"strings"
	"time"

	"github.com/garage-release/garage-release/ci/manifest"
	"github.com/garage-release/garage-release/ci/target"
)

// The page's view model: everything the template prints is computed here, so
// the template has no logic beyond loops and conditionals.
type page struct {
	Title     string
	Generated time.Time
	JSONHref  string
	Sections  []section
}

type section struct {
	ID, Heading, Empty string
	// Collapsed sections are wrapped in <details>, closed by default.
	Collapsed bool
	Builds    []build
}

type build struct {
	Version, Class, Binary  string
	Latest                  bool
	Date                    time.Time
	Commit, ShortCommit     string
	Anchor                  string
	SumsHref, ManifestHref  string
	DocsHref                string
	ImageRef, ImagePlatform string
	Artifacts               []artifact
	// Logs link each stage's full output; Warnings are check findings the
	// project reports rather than fails on.
	Logs     []logLink
	Warnings []string
	// The supply chain (supplychain.go): SBOM and provenance links, and for
	// a signed release its signature files; Verify holds the commands.
	SBOMHref, ProvenanceHref string
	Signed                   bool
	Sig                      *signedLinks
	Verify                   verify
}

type logLink struct{ Name, Href string }

type artifact struct {
	Target, Triple, Description string
	// ChecksumHref is empty where binaries have no .sha256 file.
	Href, ChecksumHref string
	Size               string
	Bytes              int64
	SHA256             string

	// SigHref is the binary's cosign signature, when signed.
	SigHref string
}

func (idx Index) page(l links) page {
	p := page{Title: "Releases", Generated: idx.Generated, JSONHref: l.jsonFile}
	for _, group := range [][]*manifest.Manifest{idx.Stable, idx.Extra, idx.Development} {
		if len(group) > 0 && group[0].Binary != "" {
			p.Title = group[0].Binary + " releases"
			break
		}
	}
	latest := idx.Latest()
	p.Sections = []section{
		{ID: "stable", Heading: "Stable releases", Empty: "No stable releases yet.", Builds: builds(idx.Stable, latest, l)},
		{ID: "extra", Heading: "Extra releases", Empty: "No extra releases yet.", Collapsed: true, Builds: builds(idx.Extra, "", l)},
		{ID: "development", Heading: "Development releases", Empty: "No development releases yet.", Collapsed: true, Builds: builds(idx.Development, "", l)},
	}
	return p
}

func builds(ms []*manifest.Manifest, latest string, l links) []build {
	out := make([]build, 0, len(ms))
	for _, m := range ms {
		pre := l.release(m.Version)
		b := build{
			Version: m.Version, Class: m.Class, Binary: m.Binary,
			Latest: latest != "" && m.Version == latest,
			Date:   m.Date.UTC(), Commit: m.Commit, ShortCommit: shortCommit(m.Commit),
			Anchor:       "release-" + m.Version,
			SumsHref:     pre + manifest.SumsName,
			ManifestHref: pre + manifest.FileName,
		}
		if m.Docs != "" {
			b.DocsHref = l.docs(m)
		}
		if m.Image != nil && m.Image.Ref != "" {
			b.ImageRef = m.Image.Ref
			if m.Image.Digest != "" {
				b.ImageRef += "@" + m.Image.Digest
			}
			b.ImagePlatform = strings.Join(m.Image.Platforms, ", ")
		}
		for _, lf := range m.Logs {
			name := strings.TrimSuffix(strings.TrimPrefix(lf, "logs/"), ".log")
			b.Logs = append(b.Logs, logLink{Name: name, Href: pre + href(lf)})
		}
		b.Warnings = m.Warnings
		for _, a := range m.Targets {
			art := artifact{
				Target: a.Target, Triple: a.Triple, Description: describe(a),
				Href: pre + href(a.Path),
				Size: humanSize(a.Size), Bytes: a.Size, SHA256: a.SHA256,
			}
			if l.checksums {
				art.ChecksumHref = art.Href + ChecksumSuffix
			}
			b.Artifacts = append(b.Artifacts, art)
		}
		b.supplyChain(m, pre)
		b.Verify.Open = b.Latest
		out = append(out, b)
	}
	return out
}

// describe names the hardware a binary runs on, from the target table, so
// the page says "ARMv5TE soft-float: runs on ARMv6 ..." and never guesses
// from the triple.
func describe(a manifest.Artifact) string {
	for _, name := range []string{a.Target, a.Triple} {
		if t, err := target.Lookup(name); err == nil {
			return t.Description
		}
	}
	return a.Platform
}

// shortCommit is the 12-hex-digit prefix shown on the page; the full SHA is
// in the title attribute.
func shortCommit(c string) string {
	if len(c) > 12 {
		return c[:12]
	}
	return c
}

// humanSize prints a byte count with binary units, one decimal: "1.2 MiB".
func humanSize(n int64) string {
	if n < 1024 {
		return fmt.Sprintf("%d B", n)
	}
	units := []string{"KiB", "MiB", "GiB", "TiB"}
	f, i := float64(n)/1024, 0
	for f >= 1024 && i < len(units)-1 {
		f /= 1024
		i++
	}
	return fmt.Sprintf("%.1f %s", f, units[i])
}
