#!/usr/bin/env bash
# Writes a man page for every dossier command (dossier.1, dossier-pack.1,
# …) into a folder, made by cobra's doc generator from the command tree.
#
#   scripts/man.sh            # into ./man
#   scripts/man.sh DIR        # into DIR
#
# The date in the pages is SOURCE_DATE_EPOCH's if set (reproducible
# builds), else today's. Read one with: man -l man/dossier-pack.1
set -euo pipefail

dir="${1:-man}"
case "$dir" in
  /*) ;;
  *) dir="$(pwd)/$dir" ;;  # relative to where the script was run from
esac
cd "$(dirname "$0")/.."
go run -tags man ./cmd/dossier __man "$dir"
