#!/bin/sh
# Smoke test for a mixer release binary.
#
# Usage: smoke.sh <path-to-binary> [runner words...]
#
# Runner words, if given, prefix the binary (e.g. `qemu-arm -cpu arm1176`).
# Env: RELEASE_TARGET (amd64, i386, arm64 or arm), RELEASE_VERSION.
# Proves libmix, the C library build.rs builds with configure + make, is
# inside and was compiled for the target: `mixer --selftest` prints the
# architecture the C preprocessor saw and the --host configure recorded.
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
    "mixer $v" | "mixer ${v#v}") echo "ok: --version prints '$version'" ;;
    "mixer "*) [ -z "$v" ] || fail "--version printed '$version', expected 'mixer $v'"
        echo "ok: --version prints '$version'" ;;
    *) fail "--version printed '$version', expected 'mixer ${v:-<version>}'" ;;
esac

out=$("$@" "$bin" --selftest) || fail "'$bin --selftest' failed; it printed:
$out"

# expect LINE: --selftest printed LINE (exactly, as a whole line).
expect() {
    printf '%s\n' "$out" | grep -qxF -- "$1" ||
        fail "--selftest did not print '$1'; it printed:
$out"
    echo "ok: $1"
}
expect "mix arch: $arch"
expect "mix host: $triple"
expect "fnv1a(hello) = 4f9f2cab"

echo "smoke: all checks passed"
