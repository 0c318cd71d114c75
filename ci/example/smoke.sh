#!/bin/sh
# Smoke test for a kvstore release binary.
#
# Usage: smoke.sh <path-to-binary> [runner words...]
#
# Runner words, if given, prefix the binary (e.g. `qemu-arm -cpu arm1176` to
# test a foreign binary). Starts the server on a free port, checks
# --version, then drives the HTTP API with curl. Needs sh, curl, coreutils.
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

command -v curl >/dev/null 2>&1 || fail "curl is not installed"
[ -f "$bin" ] || fail "no such binary: $bin"

tmp=$(mktemp -d)
pid=
cleanup() {
    if [ -n "$pid" ]; then
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    fi
    rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 1' HUP INT TERM

# --version
version=$("$@" "$bin" --version) || fail "'$bin --version' failed"
case $version in
    "kvstore "*) echo "ok: --version prints '$version'" ;;
    *) fail "--version printed '$version', expected 'kvstore <version>'" ;;
esac

# Start the server; its first stdout line is `listening on ADDR:PORT`.
# Create the file first: the loop below reads it before the shell may have.
: >"$tmp/stdout"
"$@" "$bin" --listen 127.0.0.1:0 >"$tmp/stdout" 2>"$tmp/stderr" &
pid=$!
tries=0
while [ "$(wc -l <"$tmp/stdout")" -lt 1 ]; do
    if ! kill -0 "$pid" 2>/dev/null; then
        fail "server exited early: $(cat "$tmp/stderr")"
    fi
    tries=$((tries + 1))
    # 60 s: emulated binaries can be slow to start.
    [ "$tries" -le 600 ] || fail "server did not print its address within 60 s"
    sleep 0.1
done
line=$(head -n 1 "$tmp/stdout")
case $line in
    "listening on "*) addr=${line#listening on } ;;
    *) fail "unexpected first line from server: '$line'" ;;
esac
echo "ok: server listening on $addr"
base="http://$addr"

# request METHOD PATH [BODY-FILE]: sets $code, response body in $tmp/body.
request() {
    if [ "$#" -ge 3 ]; then
        code=$(curl -sS --max-time 30 -o "$tmp/body" -w '%{http_code}' \
            -X "$1" --data-binary "@$3" "$base$2") || fail "curl $1 $2 failed"
    else
        code=$(curl -sS --max-time 30 -o "$tmp/body" -w '%{http_code}' \
            -X "$1" "$base$2") || fail "curl $1 $2 failed"
    fi
}

expect() {
    [ "$code" = "$1" ] || fail "$2: got HTTP $code, expected $1"
    echo "ok: $2 -> $1"
}

key=smoke/hello.txt
printf 'hello from the smoke test\nsecond line\n' >"$tmp/value"

request PUT "/$key" "$tmp/value"
expect 201 "PUT /$key (new key)"

request GET "/$key"
expect 200 "GET /$key"
cmp -s "$tmp/value" "$tmp/body" || fail "GET /$key returned a different body"
echo "ok: GET /$key returned the stored body"

request PUT "/$key" "$tmp/value"
expect 200 "PUT /$key (replace)"

request GET /
expect 200 "GET / (list)"
grep -qx "$key" "$tmp/body" || fail "GET / does not list $key: $(cat "$tmp/body")"
echo "ok: GET / lists $key"

request DELETE "/$key"
expect 204 "DELETE /$key"

request GET "/$key"
expect 404 "GET /$key after delete"

echo "smoke: all checks passed"
