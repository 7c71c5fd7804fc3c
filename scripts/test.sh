#!/usr/bin/env bash
# Runs every test of dossier. On a fresh Debian machine it first installs
# what the tests need: Debian's zstd and minisign (stock-tool recovery and
# seal tests), wine64 and the MinGW binutils (the Windows build's tests,
# see scripts/wine.sh), and a stock age v1.3.2 CLI built with `go install`
# (kept in ~/.cache/dossier-tools, or $DOSSIER_TOOLS; not put on PATH).
#
#   scripts/test.sh            # everything
#   scripts/test.sh -run Pack  # extra arguments go to `go test`
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${DOSSIER_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/dossier-tools}"
mkdir -p "$tools/bin"

need_apt=()
command -v zstd >/dev/null 2>&1 || need_apt+=(zstd)
command -v tar >/dev/null 2>&1 || need_apt+=(tar)
command -v minisign >/dev/null 2>&1 || need_apt+=(minisign)
{ command -v wine64 >/dev/null 2>&1 || [ -x /usr/lib/wine/wine64 ]; } || need_apt+=(wine64)
command -v x86_64-w64-mingw32-ld >/dev/null 2>&1 || need_apt+=(binutils-mingw-w64-x86-64)
if [ ${#need_apt[@]} -gt 0 ]; then
  echo "test.sh: installing Debian packages: ${need_apt[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$tools/bin/age" ] || ! "$tools/bin/age" --version 2>/dev/null | grep -q 'v1.3.2'; then
  echo "test.sh: building stock age v1.3.2 into $tools/bin"
  GOBIN="$tools/bin" GOFLAGS=-mod=mod go install filippo.io/age/cmd/...@v1.3.2
fi

# The tests look the stock tools up here and fail (rather than skip) when
# DOSSIER_REQUIRE_TOOLS is set and one is missing.
export DOSSIER_AGE="$tools/bin/age"
export DOSSIER_REQUIRE_TOOLS=1

echo "test.sh: preparing Wine for the Windows build"
wine_env=$(DOSSIER_TOOLS="$tools" scripts/wine.sh setup) # fails the run if Wine cannot be set up
eval "$wine_env"
export DOSSIER_WINE WINEPREFIX

echo "test.sh: gofmt and go vet"
unformatted=$(gofmt -l cmd pkg scripts)
if [ -n "$unformatted" ]; then
  echo "gofmt would change:"; echo "$unformatted"; exit 1
fi
go vet ./...

echo "test.sh: checking that pkg/ never depends on cobra or progressbar"
if go list -deps ./pkg/... | grep -E 'spf13/cobra|progressbar'; then
  echo "pkg/ must stay free of terminal concerns"; exit 1
fi

echo "test.sh: go build ./scripts/... (the generators have no tests of their own)"
go build ./scripts/...

echo "test.sh: the man pages, built with -tags man as scripts/man.sh builds them"
go vet -tags man ./cmd/dossier
go test -count=1 -tags man -run 'TestScripts/^man$' ./cmd/dossier
if go list -deps ./cmd/dossier | grep -E 'spf13/cobra/doc'; then
  echo "the dossier binary must not carry cobra's doc generator (see cmd/dossier/man.go)"; exit 1
fi

echo "test.sh: go test"
go test -count=1 "$@" ./cmd/... ./pkg/...

if [ $# -eq 0 ]; then
  echo "test.sh: the package tests of the Windows build, under Wine"
  DOSSIER_TOOLS="$tools" scripts/wine.sh test
fi
