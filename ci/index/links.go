package index

import (
	"net/url"
	"strings"

	"github.com/garage-release/garage-release/ci/manifest"
)

// links places a release's files relative to the page that lists them. The
// bucket page (_releases.html) and the page in dist/ (index.html) show the
// same builds but find their files in different places.
type links struct {
	// release is the escaped folder of a release's files, ending in "/" or "".
	release func(version string) string
	// docs is the escaped link to a release's docs, for a manifest with docs.
	docs func(m *manifest.Manifest) string
	// checksums is true when each binary has a <binary>.sha256 file.
	checksums bool
	// jsonFile is the page's machine-readable twin.
	jsonFile string
}

// bucketLinks follows layout.go: the page at the bucket root.
var bucketLinks = links{
	release:   func(v string) string { return ReleasePrefix(url.PathEscape(v)) },
	docs:      func(m *manifest.Manifest) string { return DocsIndexKey(url.PathEscape(m.Version)) },
	checksums: true,
	jsonFile:  JSONKey,
}

// LocalHTMLName and LocalJSONName are the page and list written into dist/,
// next to one release's files.
const (
	LocalHTMLName = "index.html"
	LocalJSONName = "releases.json"
)

// localLinks is dist/: the release's files sit next to the page, its docs in
// the manifest's Docs folder, and there are no per-binary .sha256 files (the
// release's SHA256SUMS covers them).
var localLinks = links{
	release: func(string) string { return "" },
	docs: func(m *manifest.Manifest) string {
		return href(strings.TrimSuffix(m.Docs, "/")) + "/index.html"
	},
	jsonFile: LocalJSONName,
}

// href escapes each segment of a relative path for use in a link. Versions
// and paths are validated before they get here, but a manifest must never be
// able to add a query, a fragment, a scheme or a folder to a link: the
// version is escaped as a single segment, other paths segment by segment.
func href(path string) string {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		parts[i] = url.PathEscape(p)
	}
	return strings.Join(parts, "/")
}
