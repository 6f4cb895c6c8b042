#!/usr/bin/env bash
# build.sh OUTDIR [PACKAGE_DIR BINARY PROTO...]: builds OUTDIR/wxgate-go-client,
# this client, from Debian packages only: GOPATH mode, no module proxy,
# nothing downloaded. Installs the missing packages with apt-get and generates
# the stubs of proto/wxgate/v1 into OUTDIR/gopath (never into the repo).
# Given PACKAGE_DIR, BINARY and the PROTOs (paths under proto/), builds that
# main package as OUTDIR/BINARY against those protos' stubs instead
# (tests/bench/go/build.sh does). A second run regenerates (cheap) and Go's
# build cache skips the compile.
set -euo pipefail

[[ $# -eq 1 || $# -ge 4 ]] || { echo "usage: $0 OUTDIR [PACKAGE_DIR BINARY PROTO...]" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../scripts/lib.sh
source "$here/../../scripts/lib.sh"

mkdir -p "$1"
out="$(cd "$1" && pwd)"
if [[ $# -eq 1 ]]; then
  set -- "$out" "$here" wxgate-go-client \
    wxgate/v1/identity.proto wxgate/v1/signature.proto wxgate/v1/token.proto
fi
pkg="$(cd "$2" && pwd)"
binary="$3"
shift 3

# golang-google-grpc-dev brings golang-google-genproto-dev (errdetails).
ensure_packages golang-go protobuf-compiler protoc-gen-go protoc-gen-go-grpc \
  golang-google-grpc-dev golang-google-genproto-dev golang-google-protobuf-dev \
  golang-github-golang-protobuf-1-5-dev

# Generate into a scratch directory and swap it in, so an interrupted run
# never leaves half a package behind.
gopath="$out/gopath"
gen="$gopath/src/wxgate/gen/wxgate/v1"   # the protos' go_package
tmp="$(mktemp -d "$out/gen.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
protoc -I"$WXGATE_ROOT/proto" --go_out="$tmp" --go-grpc_out="$tmp" "${@/#/$WXGATE_ROOT/proto/}"
mkdir -p "$(dirname "$gen")"
rm -rf "$gen"
mv "$tmp/wxgate/gen/wxgate/v1" "$gen"

# Debian's Go libraries live in /usr/share/gocode. GOCACHE: the caller's,
# else Go's default (shared by build trees: a second tree compiles nothing),
# else, with no home directory, one in OUTDIR.
export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOPROXY=off GOFLAGS='' CGO_ENABLED=0
GOCACHE="${GOCACHE:-$(go env GOCACHE 2>/dev/null || true)}"
[[ -n "$GOCACHE" && "$GOCACHE" != off ]] || GOCACHE="$out/gocache"
export GOCACHE
log "building $out/$binary"
(cd "$pkg" && go build -trimpath -o "$out/$binary" .)
