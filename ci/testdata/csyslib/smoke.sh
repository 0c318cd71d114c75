#!/bin/sh
# Smoke test for a zinfo release binary.
#
# Usage: smoke.sh <path-to-binary> [runner words...]
#
# Runner words, if given, prefix the binary (e.g. `qemu-arm -cpu arm1176`).
# Env: RELEASE_TARGET (amd64, i386, arm64 or arm), RELEASE_VERSION.
# Proves libzstd (found with pkg-config) is linked in and works, and that
# zinfo's own C code was compiled for the target: `zinfo --selftest` prints
# the zstd version, a compress/decompress roundtrip and the architecture the
# C preprocessor saw.
set -eu

if [ "$#" -lt 1 ]; then
    echo "usage: $0 <path-to-binary> [runner words...]" >&2
    exit 2
fi
bin=$1
shift

fail() {
    echo "smoke: FAIL: $*" >&2
    exit 1
}

[ -f "$bin" ] || fail "no such binary: $bin"
case ${RELEASE_TARGET:-} in
    amd64) arch=x86_64 ;;
    i386) arch=i386 ;;
    arm64) arch=aarch64 ;;
    arm) arch=armv5te ;;
    "") fail "RELEASE_TARGET is not set (amd64, i386, arm64 or arm)" ;;
    *) fail "unknown RELEASE_TARGET '$RELEASE_TARGET'" ;;
esac

# --version: the pipeline builds with GIT_VERSION=$RELEASE_VERSION.
version=$("$@" "$bin" --version) || fail "'$bin --version' failed"
v=${RELEASE_VERSION:-}
case $version in
    "zinfo $v" | "zinfo ${v#v}") echo "ok: --version prints '$version'" ;;
    "zinfo "*) [ -z "$v" ] || fail "--version printed '$version', expected 'zinfo $v'"
        echo "ok: --version prints '$version'" ;;
    *) fail "--version printed '$version', expected 'zinfo ${v:-<version>}'" ;;
esac

out=$("$@" "$bin" --selftest) || fail "'$bin --selftest' failed; it printed:
$out"

# line PATTERN WHAT: the line of --selftest's output matching the extended
# regular expression PATTERN (whole line), else fail naming WHAT.
line() {
    printf '%s\n' "$out" | grep -xE -- "$1" | head -n 1 | grep . ||
        fail "--selftest printed no $2 line; it printed:
$out"
}

l=$(line 'zstd [0-9]+\.[0-9]+\.[0-9]+' "'zstd <major.minor.patch>'")
echo "ok: $l"

l=$(line "arch: .*" "'arch: <arch>'")
[ "$l" = "arch: $arch" ] || fail "--selftest printed '$l', expected 'arch: $arch'"
echo "ok: $l"

l=$(line 'roundtrip ok \([0-9]+ -> [0-9]+ bytes\)' "'roundtrip ok (<n> -> <m> bytes)'")
n=${l#roundtrip ok (}
n=${n%% *}
m=${l#* -> }
m=${m%% *}
[ "$m" -lt "$n" ] || fail "'$l': the compressed data is not smaller"
echo "ok: $l"

echo "smoke: all checks passed"
