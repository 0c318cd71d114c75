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
//
// The other way round, a file newer than the record whose every recorded
// version is its content now is given an old mtime (OldMtime): its
// artifacts were built from exactly these bytes. A fresh clone (every
// file as new as the checkout) over a restored target/ snapshot then
// rebuilds nothing that did not change, as cargo's checksum freshness
// would, instead of every local crate.
const freshSourcesScript = `set -eu
stamp=$1 src=$2 now=$3
cd "$src"
if [ -n "${SOURCES_HASHED:-}" ] && [ -f "$SOURCES_HASHED" ]; then
  cp "$SOURCES_HASHED" "$now"
else
  find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum > "$now"
fi
if [ ! -s "$stamp" ]; then
  # No record, or an empty one: make every file newer than anything in
  # target/. (Empty, awk would take the current sources for the record.)
  find . -type f -exec touch {} +
else
  # Only files newer than the record can look changed to cargo.
  find . -type f -newer "$stamp" > "$now.newer"
  awk -v newer="$now.newer" -v touched="$now.touch" -v same="$now.old" '
       BEGIN { while ((getline l < newer) > 0) nw[l] = 1; printf "" > touched; printf "" > same }
       FNR == NR { seen[substr($0, 67)] = seen[substr($0, 67)] " " substr($0, 1, 64); next }
       { p = substr($0, 67); n = split(seen[p], hs, " ")
         if (n == 0) { print p > touched; next }
         for (i = 1; i <= n; i++) if (hs[i] != substr($0, 1, 64)) { print p > touched; next }
         if (p in nw) print p > same }' "$stamp" "$now"
  xargs -r -d '\n' touch -- < "$now.touch"
  xargs -r -d '\n' touch -d @` + OldMtime + ` -- < "$now.old"
  rm -f "$now.newer" "$now.touch" "$now.old"
fi
# This attempt's sources join the record before cargo writes anything.
# Written aside and renamed: a stage killed here (cancelled by another
# stage's failure) leaves the old record or the new one, never a cut one.
cat "$stamp" "$now" 2>/dev/null | LC_ALL=C sort -u > "$stamp.new"
mv -f "$stamp.new" "$stamp"
`

// logScript defines run_logged: it runs a command with its stdout and
// stderr together appended to $LOG_FILE (and passed on to stdout, which the
// engine keeps, for failure reports), so every stage leaves its full output
// as a file. Cargo's progress bar (forced on with CARGO_TERM_PROGRESS_WHEN)
// is kept out of the log: its latest "n/m: crates" goes to $PROGRESS_FILE,
// in a shared cache volume the CLI reads while the stage runs. With
// $TOLERATE set, a failure is recorded in that file and not returned (lint
// findings reported as warnings).
const logScript = `run_logged() {
  log=${LOG_FILE:-/var/log/garage-release/stage.log}
  mkdir -p "${log%/*}"
  if [ -n "${PROGRESS_FILE:-}" ]; then mkdir -p "${PROGRESS_FILE%/*}"; : > "$PROGRESS_FILE"; fi
  printf '$ %s\n' "$*" >> "$log"
  # Cargo's progress must reach the progress file as it is drawn: tr
  # buffers its output on a pipe, and mawk (Debian's awk) waits to fill its
  # input buffer unless interactive; either one held the count back until
  # the end on a real project.
  unbuffered=
  command -v stdbuf >/dev/null 2>&1 && unbuffered="stdbuf -o0"
  interactive=
  awk -W version 2>/dev/null | grep -qi mawk && interactive="-W interactive"
  # An && || list: set -e must not end the group before the status is kept.
  { "$@" 2>&1 && echo 0 > "$log.rc" || echo $? > "$log.rc"; } | $unbuffered tr '\r' '\n' |
    awk $interactive -v prog="${PROGRESS_FILE:-}" '
      /^ *Building \[/ { if (prog != "") { l = $0; sub(/^.*\] */, "", l); print l > prog; close(prog) } next }
      { print; fflush() }' | tee -a "$log"
  rc=$(cat "$log.rc")
  rm -f "$log.rc"
  if [ "$rc" != 0 ] && [ -n "${TOLERATE:-}" ]; then
    echo "$rc" > "$TOLERATE"
    return 0
  fi
  return "$rc"
}
`

// OldMtime (2000-01-01, in seconds) is the mtime of a source file whose
// content is what its artifacts were built from: older than any build.
const OldMtime = "946684800"

// LoggedName is the $0 of a logged command that is not cargo.
const LoggedName = "logged"

// logDir holds the stage logs inside a stage's container.
const logDir = "/var/log/garage-release"

// logPath is the container path of a stage's log.
func logPath(name string) string { return logDir + "/" + name + ".log" }

// withLogged runs argv in ctr with its output appended to the log of the
// stage named log (see logScript).
func withLogged(ctr *dagger.Container, log string, argv ...string) *dagger.Container {
	return ctr.
		WithEnvVariable("LOG_FILE", logPath(log)).
		WithExec(append([]string{"sh", "-c", "set -eu\n" + logScript + `run_logged "$@"`, LoggedName}, argv...))
}

// cargoFreshScript runs one cargo command between the mtime repair and the
// record, in a single exec: with the target/ volume LOCKED, another release
// of the same project on the same engine cannot slip in between. For a
// release build, COPY_BINARY names the binary to copy out of the volume,
// in the same exec for the same reason.
const cargoFreshScript = `set -eu
fresh() {
` + freshSourcesScript + `}
` + logScript + sccacheScript + `fresh "$STAMP" /src "$SOURCES_NOW"
sccache_start
run_logged "$@"
sccache_stop
# Narrowed only after a stage's last command: an earlier one (cargo build
# before cargo test) leaves other artifacts in the volume (the test
# binaries) built from any recorded version.
if [ "${NARROW_RECORD:-1}" = 1 ]; then
  cp "$SOURCES_NOW" "$STAMP.new"
  mv -f "$STAMP.new" "$STAMP"
fi
if [ -n "${COPY_BINARY:-}" ]; then
  mkdir -p /out
  cp "$COPY_BINARY" /out/
  echo "${GIT_VERSION:-} $(date -u +%Y-%m-%dT%H:%M:%SZ)" >> "$BUILD_LOG"
fi
`

// CargoFreshName is the $0 of the wrapper: failure reports show the cargo
// command it ran, not the wrapper.
const CargoFreshName = "cargo-fresh"

// sourcesHashesScript lists the sources' checksums as freshSourcesScript
// would: once per source, shared by every cargo command (see
// Pipeline.sourceHashes), instead of once per target.
const sourcesHashesScript = `set -eu
cd "$1"
find . -type f -print0 | LC_ALL=C sort -z | xargs -0r sha256sum > "$2"
`

// sourcesHashed is where a cargo container finds that list.
const sourcesHashed = "/var/lib/garage-release/sources.sha256"

// sourcesStamp is where a target/ volume records its sources; sourcesNow
// holds this run's, from the repair to the record.
const (
	sourcesStamp = "/target/.garage-release-sources.v3" // v3: narrowed after a stage, not a command (a v2 record may hide a stale test binary: starting without one rebuilds once)
	sourcesNow   = "/tmp/garage-release-sources"
)

// withCargo runs a cargo command with fresh sources (see freshSourcesScript),
// its output appended to the log of the stage named log. It is the stage's
// last command: on success the record is narrowed to its sources.
func withCargo(ctr *dagger.Container, log string, args ...string) *dagger.Container {
	return withCargoStep(ctr, log, true, args...)
}

// withCargoStep is withCargo for one of a stage's several commands; last
// says whether it is the stage's last (see the record in cargoFreshScript).
func withCargoStep(ctr *dagger.Container, log string, last bool, args ...string) *dagger.Container {
	narrow := "0"
	if last {
		narrow = "1"
	}
	return ctr.
		WithEnvVariable("NARROW_RECORD", narrow).
		WithEnvVariable("LOG_FILE", logPath(log)).
		WithEnvVariable("PROGRESS_FILE", progressDir+"/"+log).
		WithEnvVariable("STAMP", sourcesStamp).
		WithEnvVariable("SOURCES_NOW", sourcesNow).
		WithEnvVariable("SCCACHE_STATS", sccacheStatsFile(log)).
		WithEnvVariable("CACHE_NOTES", cacheNotesFile(log)).
		WithExec(append([]string{"sh", "-c", cargoFreshScript, CargoFreshName}, args...))
}
