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

// cargoFreshScript runs one cargo command between the mtime repair and the
// record, in a single exec: with the target/ volume LOCKED, another release
// of the same project on the same engine cannot slip in between. For a
// release build, COPY_BINARY names the binary to copy out of the volume,
// in the same exec for the same reason.
const cargoFreshScript = `set -eu
fresh() {
` + freshSourcesScript + `}
fresh "$STAMP" /src "$SOURCES_NOW"
"$@"
cp "$SOURCES_NOW" "$STAMP"
if [ -n "${COPY_BINARY:-}" ]; then
  mkdir -p /out
  cp "$COPY_BINARY" /out/
  echo "${GIT_VERSION:-} $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$BUILD_LOG"
fi
`

// CargoFreshName is the $0 of the wrapper: failure reports show the cargo
// command it ran, not the wrapper.
const CargoFreshName = "cargo-fresh"

// sourcesStamp is where a target/ volume records its sources; sourcesNow
// holds this run's, from the repair to the record.
const (
	sourcesStamp = "/target/.garage-release-sources.v2" // v2: every version since the last success
	sourcesNow   = "/tmp/garage-release-sources"
)

// withCargo runs a cargo command with fresh sources (see freshSourcesScript).
func withCargo(ctr *dagger.Container, args ...string) *dagger.Container {
	return ctr.
		WithEnvVariable("STAMP", sourcesStamp).
		WithEnvVariable("SOURCES_NOW", sourcesNow).
		WithExec(append([]string{"sh", "-c", cargoFreshScript, CargoFreshName}, args...))
}
