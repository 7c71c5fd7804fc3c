#!/usr/bin/env bash
# Runs dossier's Windows build under Wine (Debian's wine64).
#
#   scripts/wine.sh setup   # prepare a Wine prefix; prints the two
#                           # variables the Go tests read (DOSSIER_WINE,
#                           # WINEPREFIX) as shell assignments
#   scripts/wine.sh test    # the package tests of every pkg/... package,
#                           # cross-compiled for windows/amd64, run under Wine
#
# The prefix lives in $DOSSIER_TOOLS/wineprefix (default
# ~/.cache/dossier-tools). scripts/test.sh installs the packages (wine64,
# binutils-mingw-w64-x86-64) and calls both.
#
# Go 1.24 and later need ProcessPrng from bcryptprimitives.dll, which
# Debian 12's Wine 8 lacks. setup builds a stand-in whose only export
# forwards ProcessPrng to advapi32's SystemFunction036 (RtlGenRandom),
# Wine's own system random generator, with the MinGW linker: no code of
# ours, only a forwarding entry in the export table.
#
# What cannot run under Wine, and why:
# - cmd/dossier's tests drive the Linux binary with sh, pseudo-terminals,
#   unshare and seccomp; the Windows binary is exercised instead by
#   testdata/script/wine.txtar (pack on one system, open on the other),
#   which `go test ./cmd/dossier` runs through Wine.
# - Tests that start the stock age or minisign (Linux programs) skip under
#   Wine; they run natively in the same scripts/test.sh.
# - A few package tests skip under Wine, and say so in their output: Wine's
#   CreateSymbolicLink does nothing, it ignores renames that change only
#   case, and it keeps access lists as Unix modes (no inheritance).
set -euo pipefail
cd "$(dirname "$0")/.."

tools="${DOSSIER_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/dossier-tools}"
export WINEPREFIX="${WINEPREFIX:-$tools/wineprefix}"
export WINEDEBUG=-all

find_wine() {
  local w
  for w in "$(command -v wine64 2>/dev/null || true)" /usr/lib/wine/wine64 /usr/bin/wine; do
    if [ -n "$w" ] && [ -x "$w" ]; then echo "$w"; return 0; fi
  done
  echo "wine.sh: no wine64 found (apt-get install wine64)" >&2
  return 1
}

setup() {
  local wine; wine=$(find_wine)
  local sys32="$WINEPREFIX/drive_c/windows/system32"
  if [ ! -d "$sys32" ]; then
    echo "wine.sh: creating the Wine prefix $WINEPREFIX" >&2
    mkdir -p "$WINEPREFIX"
    "$wine" wineboot --init >/dev/null 2>&1 || true
    wineserver_wait "$wine"
  fi
  if [ ! -d "$sys32" ]; then
    echo "wine.sh: wineboot did not create $sys32" >&2
    return 1
  fi
  if [ ! -f "$sys32/bcryptprimitives.dll" ]; then
    local work; work=$(mktemp -d)
    printf 'LIBRARY bcryptprimitives.dll\nEXPORTS\nProcessPrng = advapi32.SystemFunction036\n' >"$work/shim.def"
    printf '.text\n' >"$work/empty.s"
    x86_64-w64-mingw32-as "$work/empty.s" -o "$work/empty.o"
    x86_64-w64-mingw32-ld -shared -e 0 -o "$work/bcryptprimitives.dll" "$work/shim.def" "$work/empty.o"
    cp "$work/bcryptprimitives.dll" "$sys32/"
    rm -rf "$work"
  fi
  echo "DOSSIER_WINE=$wine"
  echo "WINEPREFIX=$WINEPREFIX"
}

wineserver_wait() {
  local server
  server="$(dirname "$1")/wineserver"
  [ -x "$server" ] || server=$(command -v wineserver 2>/dev/null || true)
  [ -n "$server" ] && "$server" -w || true
}

run_tests() {
  local wine; wine=$(find_wine)
  local bin; bin=$(mktemp -d)
  trap 'rm -rf "$bin"' RETURN
  local failed=() pkg name dir
  for pkg in $(go list -f '{{if or .TestGoFiles .XTestGoFiles}}{{.ImportPath}}{{end}}' ./pkg/...); do
    name=$(echo "${pkg#*/pkg/}" | tr / _)
    GOOS=windows GOARCH=amd64 CGO_ENABLED=0 go test -c -o "$bin/$name.test.exe" "$pkg"
    dir=$(go list -f '{{.Dir}}' "$pkg")
    # The stock age and minisign are Linux programs that a Windows test
    # cannot start; the tests that use them run natively and skip here.
    run_one() {
      (cd "$dir" && env -u DOSSIER_REQUIRE_TOOLS -u DOSSIER_AGE \
        "$wine" "$bin/$name.test.exe" -test.count=1 >"$bin/$name.log" 2>&1)
    }
    # A test binary that failed without printing a byte never ran: Wine
    # failed to start it (seen once, in a run of the suite on a fresh
    # clone, for a package that then passed five times in a row). It is
    # started once more, and says so; a test that fails prints at least
    # its name, and is not run again.
    local passed=0
    if run_one; then
      passed=1
    elif [ ! -s "$bin/$name.log" ]; then
      echo "wine.sh: $pkg failed and printed nothing (Wine did not start it?): once more" >&2
      run_one && passed=1
    fi
    if [ $passed = 1 ]; then
      printf 'ok   %s (windows/amd64 under Wine)\n' "$pkg"
    else
      printf 'FAIL %s (windows/amd64 under Wine)\n' "$pkg"
      tail -n 40 "$bin/$name.log"
      failed+=("$pkg")
    fi
  done
  wineserver_wait "$wine"
  if [ ${#failed[@]} -gt 0 ]; then
    echo "wine.sh: ${#failed[@]} package(s) failed under Wine: ${failed[*]}"
    return 1
  fi
}

case "${1:-}" in
  setup) setup ;;
  test) run_tests ;;
  *) echo "usage: scripts/wine.sh setup|test" >&2; exit 2 ;;
esac
