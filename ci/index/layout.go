package index

import "github.com/garage-release/garage-release/ci/manifest"

// Keys at the bucket root. The release page sits next to the folders it links
// to, so its relative links work wherever the bucket is served.
const (
	// JSONKey is the machine-readable list of releases.
	JSONKey = "_releases.json"
	// HTMLKey is the release page.
	HTMLKey = "_releases.html"
	// ReleasesDir holds one folder per release (Garage's layout).
	ReleasesDir = "_releases/"
	// DocsDir holds one docs site per release.
	DocsDir = "_docs/"
	// ChecksumSuffix is appended to a binary's key for its `sha256sum` file.
	ChecksumSuffix = ".sha256"
)

// ReleasePrefix is the folder of a release: "_releases/<version>/".
func ReleasePrefix(version string) string { return ReleasesDir + version + "/" }

// DocsPrefix is the folder of a release's docs site: "_docs/<version>/".
func DocsPrefix(version string) string { return DocsDir + version + "/" }

// DocsIndexKey is the docs site's front page: "_docs/<version>/index.html".
func DocsIndexKey(version string) string { return DocsPrefix(version) + "index.html" }

// ManifestKey is "_releases/<version>/manifest.json".
func ManifestKey(version string) string { return ReleasePrefix(version) + manifest.FileName }

// SumsKey is "_releases/<version>/SHA256SUMS".
func SumsKey(version string) string { return ReleasePrefix(version) + manifest.SumsName }

// BinaryKey is "_releases/<version>/<triple>/<binary>" for an artifact.
func BinaryKey(version string, a manifest.Artifact) string { return ReleasePrefix(version) + a.Path }

// FileKey is a file of a release's folder by its path relative to the
// release root, such as the manifest's SBOM, Provenance and Signatures paths:
// "_releases/<version>/sbom.cdx.json".
func FileKey(version, rel string) string { return ReleasePrefix(version) + rel }

// ChecksumKey is the binary's key plus ".sha256".
func ChecksumKey(version string, a manifest.Artifact) string {
	return BinaryKey(version, a) + ChecksumSuffix
}
