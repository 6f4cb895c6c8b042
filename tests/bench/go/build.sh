#!/usr/bin/env bash
# build.sh OUTDIR: builds OUTDIR/wxgate-bench-go-server, the grpc-go baseline,
# from Debian packages only (GOPATH mode, nothing downloaded). Installs the
# missing packages with apt-get; generates the Go code of
# proto/wxgate/v1/signature.proto into OUTDIR/gopath (never into the repo).
# Idempotent: a second run regenerates (cheap) and lets go's cache skip the
# compile. client/go/build.sh, which builds the Go client, does the work.
set -euo pipefail

[[ $# -eq 1 ]] || { echo "usage: $0 OUTDIR" >&2; exit 2; }
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
exec "$here/../../../client/go/build.sh" "$1" "$here" wxgate-bench-go-server \
  wxgate/v1/signature.proto
