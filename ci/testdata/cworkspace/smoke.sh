#!/bin/sh
# Smoke test for a cw release binary.
#
# Usage: smoke.sh <path-to-binary> [runner words...]
#
# Runner words, if given, prefix the binary (e.g. `qemu-arm -cpu arm1176`).
# Env: RELEASE_TARGET (amd64, i386, arm64 or arm), RELEASE_VERSION.
# Proves the C code of both -sys crates is inside and built for the target:
# `cw --selftest` prints the architecture libmix's preprocessor saw, the
# --host its configure recorded, a hash it computed, libzstd's version and a
# compress/decompress roundtrip.
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
    amd64) arch=x86_64 triple=x86_64-unknown-linux-gnu ;;
    i386) arch=i386 triple=i686-unknown-linux-gnu ;;
    arm64) arch=aarch64 triple=aarch64-unknown-linux-gnu ;;
    arm) arch=armv5te triple=armv5te-unknown-linux-gnueabi ;;
    "") fail "RELEASE_TARGET is not set (amd64, i386, arm64 or arm)" ;;
    *) fail "unknown RELEASE_TARGET '$RELEASE_TARGET'" ;;
esac

# --version: the pipeline builds with GIT_VERSION=$RELEASE_VERSION.
version=$("$@" "$bin" --version) || fail "'$bin --version' failed"
v=${RELEASE_VERSION:-}
case $version in
    "cw $v" | "cw ${v#v}") echo "ok: --version prints '$version'" ;;
    "cw "*) [ -z "$v" ] || fail "--version printed '$version', expected 'cw $v'"
        echo "ok: --version prints '$version'" ;;
    *) fail "--version printed '$version', expected 'cw ${v:-<version>}'" ;;
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

# expect LINE: --selftest printed LINE exactly.
expect() {
    printf '%s\n' "$out" | grep -qxF -- "$1" ||
        fail "--selftest did not print '$1'; it printed:
$out"
    echo "ok: $1"
}

expect "mix arch: $arch"
expect "mix host: $triple"
expect "fnv1a(hello) = 4f9f2cab"

l=$(line 'zstd [0-9]+\.[0-9]+\.[0-9]+' "'zstd <major.minor.patch>'")
echo "ok: $l"

l=$(line 'roundtrip ok \([0-9]+ -> [0-9]+ bytes\)' "'roundtrip ok (<n> -> <m> bytes)'")
n=${l#roundtrip ok (}
n=${n%% *}
m=${l#* -> }
m=${m%% *}
[ "$m" -lt "$n" ] || fail "'$l': the compressed data is not smaller"
echo "ok: $l"

echo "smoke: all checks passed"
