package index

import (
	"encoding/json"
	"fmt"
	"strings"
	"time"

	"github.com/garage-release/garage-release/ci/manifest"
)

// Format is the version of the _releases.json shape described in the package
// documentation. It changes only if a field changes meaning.
const Format = 1

// jsonIndex is the document written to JSONKey.
type jsonIndex struct {
	Format      int           `json:"format"`
	Generated   time.Time     `json:"generated"`
	Latest      string        `json:"latest,omitempty"`
	Stable      []jsonRelease `json:"stable"`
	Extra       []jsonRelease `json:"extra"`
	Development []jsonRelease `json:"development"`
}

// jsonRelease is a manifest plus where its files are, so a script needs no
// knowledge of the layout to download a binary.
type jsonRelease struct {
	*manifest.Manifest
	Prefix  string `json:"prefix"`
	DocsURL string `json:"docs_url,omitempty"`
	jsonLinks
}

// JSON renders the index as the indented _releases.json document for the
// bucket root: prefixes are "_releases/<version>/".
func (idx Index) JSON() ([]byte, error) {
	return idx.json(JSONKey, ReleasePrefix, func(m *manifest.Manifest) string { return DocsIndexKey(m.Version) })
}

// LocalJSON renders the same document for dist/releases.json, whose one
// release sits next to it: the prefix is "" and docs_url is in the
// manifest's Docs folder.
func (idx Index) LocalJSON() ([]byte, error) {
	return idx.json(LocalJSONName,
		func(string) string { return "" },
		func(m *manifest.Manifest) string { return strings.TrimSuffix(m.Docs, "/") + "/index.html" })
}

func (idx Index) json(name string, prefix func(string) string, docs func(*manifest.Manifest) string) ([]byte, error) {
	releases := func(ms []*manifest.Manifest) []jsonRelease {
		out := make([]jsonRelease, 0, len(ms))
		for _, m := range ms {
			r := jsonRelease{Manifest: m, Prefix: prefix(m.Version)}
			r.jsonLinks = supplyChainJSON(m, r.Prefix)
			if m.Docs != "" {
				r.DocsURL = docs(m)
			}
			out = append(out, r)
		}
		return out
	}
	doc := jsonIndex{
		Format:      Format,
		Generated:   idx.Generated,
		Latest:      idx.Latest(),
		Stable:      releases(idx.Stable),
		Extra:       releases(idx.Extra),
		Development: releases(idx.Development),
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("rendering %s: %w", name, err)
	}
	return append(b, '\n'), nil
}
