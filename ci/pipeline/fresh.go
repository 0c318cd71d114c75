package pipeline

import "dagger.io/dagger"

// Cargo decides whether a local crate is fresh by comparing its source
// files' mtimes with the last build's. The engine does not carry mtimes
// faithfully (files written by the API, e.g. the embedded example, all have
// the same one; a copy made with cp -p keeps old ones), so a target/ cache
// volume could hand back a binary built from other sources. freshSources
// closes that gap the way cargo's own (unstable) checksum freshness would.
//
// Each target/ volume keeps, in sourcesStamp, every "sha256  path" line its
// artifacts may have been built from: the last successful build's sources
// plus those of every attempt since (a failed or interrupted build leaves
// artifacts of its own sources behind). Before a build, a file is touched
// when any recorded version of it differs from its content now (or it was
// never recorded): cargo then rebuilds what changed, and only that. After a
// successful build the record is just that build's sources.
const freshSourcesScript = `set -eu
stamp=$1 src=$2 now=$3
cd "$src"
find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum > "$now"
if [ ! -f "$stamp" ]; then
  # No record: make every file newer than anything in target/.
  find . -type f -exec touch {} +
else
  awk 'FNR == NR { seen[substr($0, 67)] = seen[substr($0, 67)] " " substr($0, 1, 64); next }
       { p = substr($0, 67); n = split(seen[p], hs, " ")
         if (n == 0) { print p; next }
         for (i = 1; i <= n; i++) if (hs[i] != substr($0, 1, 64)) { print p; next } }' \
    "$stamp" "$now" | while IFS= read -r f; do touch -- "$f"; done
fi
# This attempt's sources join the record before cargo writes anything.
cat "$now" >> "$stamp"
LC_ALL=C sort -u -o "$stamp" "$stamp"
`

// sourcesStamp is where a target/ volume records its sources; sourcesNow
// holds this run's, from the repair to the record.
const (
	sourcesStamp = "/target/.garage-release-sources.v2" // v2: every version since the last success
	sourcesNow   = "/tmp/garage-release-sources"
)

// withFreshSources runs the mtime repair before a cargo command.
func withFreshSources(ctr *dagger.Container) *dagger.Container {
	return ctr.WithExec([]string{"sh", "-c", freshSourcesScript, "fresh-sources", sourcesStamp, "/src", sourcesNow})
}

// recordSources narrows the record to this build's sources once cargo
// succeeded: every artifact is now built from them.
func recordSources(ctr *dagger.Container) *dagger.Container {
	return ctr.WithExec([]string{"cp", sourcesNow, sourcesStamp})
}
