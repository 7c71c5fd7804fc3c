#!/usr/bin/env bash
# Cross-builds static dossier binaries for the supported systems and writes
# SHA-256 checksums beside them.
#
#   scripts/build.sh [OUTDIR]     # default: $TMPDIR/dossier-dist
set -euo pipefail
cd "$(dirname "$0")/.."
out="${1:-${TMPDIR:-/tmp}/dossier-dist}"
mkdir -p "$out"
version=$(git describe --tags --always --dirty 2>/dev/null || echo dev)
for target in linux/amd64 linux/arm64 windows/amd64 darwin/amd64 darwin/arm64; do
  os=${target%/*}; arch=${target#*/}
  ext=""; [ "$os" = windows ] && ext=".exe"
  name="dossier-$version-$os-$arch$ext"
  echo "build.sh: $name"
  CGO_ENABLED=0 GOOS=$os GOARCH=$arch go build -trimpath \
    -ldflags "-s -w -X main.version=$version" -o "$out/$name" ./cmd/dossier
done
(cd "$out" && sha256sum dossier-"$version"-* > "SHA256SUMS-$version" && cat "SHA256SUMS-$version")
