package pipeline

import "dagger.io/dagger"

// Cargo decides whether a local crate is fresh by comparing its source
// files' mtimes with the last build's. The engine does not carry mtimes
// faithfully (files written by the API, e.g. the embedded example, all have
// the same one; a copy made with cp -p keeps old ones), so a target/ cache
// volume could hand back a binary built from other sources. freshSources
// closes that gap the way cargo's own (unstable) checksum freshness would:
// it records the sha256 of every source file next to each build, and
// before the next build it touches exactly the files whose content changed,
// so cargo rebuilds what changed and only that.
const freshSourcesScript = `set -eu
stamp=$1
cd /src
find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum > /tmp/garage-release-sources
if [ ! -f "$stamp" ]; then
  # No record of the last build's sources: make every file newer than it.
  find . -type f -exec touch {} +
  exit 0
fi
grep -vxFf "$stamp" /tmp/garage-release-sources | cut -c67- | while IFS= read -r f; do
  touch -- "$f"
done
`

// sourcesStamp is where a target/ volume records its last build's sources.
const sourcesStamp = "/target/.garage-release-sources"

// withFreshSources runs the mtime repair before a cargo command.
func withFreshSources(ctr *dagger.Container) *dagger.Container {
	return ctr.WithExec([]string{"sh", "-c", freshSourcesScript, "fresh-sources", sourcesStamp})
}

// recordSources keeps the sources' checksums once cargo succeeded.
func recordSources(ctr *dagger.Container) *dagger.Container {
	return ctr.WithExec([]string{"cp", "/tmp/garage-release-sources", sourcesStamp})
}
