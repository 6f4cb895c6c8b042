#!/usr/bin/env bash
# build.sh OUTDIR: builds OUTDIR/wxgate-bench-go-server, the grpc-go baseline,
# from Debian packages only (GOPATH mode, nothing downloaded). Installs the
# missing packages with apt-get; generates the Go code of
# proto/wxgate/v1/signature.proto into OUTDIR/gopath (never into the repo).
# Idempotent: a second run regenerates (cheap) and lets go's cache skip the
# compile.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
# shellcheck source=../../../scripts/lib.sh
source "$here/../../../scripts/lib.sh"

ensure_packages golang-go protobuf-compiler protoc-gen-go protoc-gen-go-grpc \
  golang-google-grpc-dev golang-google-protobuf-dev golang-github-golang-protobuf-1-5-dev

mkdir -p "$1"
out="$(cd "$1" && pwd)"
gopath="$out/gopath"
gen="$gopath/src/wxgate/gen/wxgate/v1"   # the proto's go_package

# Generate into a scratch directory and swap it in, so an interrupted run
# never leaves half a package behind.
tmp="$(mktemp -d "$out/gen.XXXXXX")"
trap 'rm -rf "$tmp"' EXIT
protoc -I"$WXGATE_ROOT/proto" --go_out="$tmp" --go-grpc_out="$tmp" \
  "$WXGATE_ROOT/proto/wxgate/v1/signature.proto"
mkdir -p "$gen"
for f in signature.pb.go signature_grpc.pb.go; do
  cmp -s "$tmp/wxgate/gen/wxgate/v1/$f" "$gen/$f" 2>/dev/null || mv "$tmp/wxgate/gen/wxgate/v1/$f" "$gen/$f"
done

# GOPATH mode with Debian's /usr/share/gocode; no proxy, no VCS, no network.
export GO111MODULE=off GOPATH="$gopath:/usr/share/gocode" GOCACHE="$out/gocache"
export GOPROXY=off GOFLAGS= CGO_ENABLED=0
log "building $out/wxgate-bench-go-server"
(cd "$here" && go build -trimpath -o "$out/wxgate-bench-go-server" .)
