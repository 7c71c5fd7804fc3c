#!/bin/sh
# Runs every Go fuzz target of the module for a set time and prints a
# summary.
#
#   scripts/fuzz.sh [SECONDS] [REGEXP]
#
# SECONDS is the time per target (default 30); REGEXP, if given, keeps
# only targets whose "package/FuzzName" matches it (grep -E), e.g.
#   scripts/fuzz.sh 600 'bundle/FuzzOpen'
# Targets are found with `go test -list`, so new ones are picked up.
# Inputs that found new coverage stay in Go's fuzz cache ($(go env GOCACHE)/fuzz);
# a failing input is written to PKG/testdata/fuzz/FuzzName/ by go test:
# commit it as a regression seed once the bug is fixed.
# FUZZ_MINIMIZE (default 20x) bounds the minimisation of new inputs, which
# otherwise eats the time of slow targets (signing, decrypting).
# Exit status: 0 if every target passed, 1 otherwise.
set -u
cd "$(dirname "$0")/.." || exit 1

secs=${1:-30}
filter=${2:-}
case $secs in
'' | *[!0-9]*) echo "usage: scripts/fuzz.sh [SECONDS] [REGEXP]" >&2; exit 2 ;;
esac
minimize=${FUZZ_MINIMIZE:-20x}
logs=$(mktemp -d "${TMPDIR:-/tmp}/dossier-fuzz.XXXXXX") || exit 1

# "PACKAGE FuzzName" lines: go test -list prints a package's target names,
# then "ok  PACKAGE".
go test -list '^Fuzz' ./... 2>"$logs/list.err" | awk '
	/^Fuzz/ { names[n++] = $1; next }
	/^ok / { for (i = 0; i < n; i++) print $2, names[i]; n = 0; next }
	{ n = 0 }
' >"$logs/targets"
if grep -q . "$logs/list.err"; then
	echo "warning: some packages did not build and are skipped:" >&2
	sed 's/^/  /' "$logs/list.err" >&2
fi
if [ -n "$filter" ]; then
	awk '{ print $1 "/" $2, $0 }' "$logs/targets" | grep -E -- "$filter" | cut -d' ' -f2- >"$logs/t2"
	mv "$logs/t2" "$logs/targets"
fi
total=$(wc -l <"$logs/targets" | tr -d ' ')
if [ "$total" -eq 0 ]; then
	echo "no fuzz targets found" >&2
	exit 1
fi
echo "fuzzing $total targets for ${secs}s each (logs in $logs)"

failed=0
i=0
: >"$logs/summary"
while read -r pkg name; do
	i=$((i + 1))
	short=${pkg#github.com/dossier-evidence/dossier/}
	log="$logs/$(echo "$short" | tr / _)_$name.log"
	printf '[%d/%d] %s %s ... ' "$i" "$total" "$short" "$name"
	start=$(date +%s)
	if go test -run '^$' -fuzz "^$name\$" -fuzztime "${secs}s" -fuzzminimizetime "$minimize" "$pkg" >"$log" 2>&1 </dev/null; then
		result=PASS
	else
		result=FAIL
		failed=$((failed + 1))
	fi
	took=$(($(date +%s) - start))
	execs=$(grep -o 'execs: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	corpus=$(grep -o 'total: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
	echo "$result (${took}s, ${execs:-?} execs)"
	printf '%-4s %-24s %-20s %10s execs %6s corpus %5ss\n' "$result" "$short" "$name" "${execs:-?}" "${corpus:-?}" "$took" >>"$logs/summary"
	if [ "$result" = FAIL ]; then
		sed 's/^/    /' "$log" | grep -v '^    fuzz: elapsed' | tail -n 25
		grep -h 'Failing input written to' "$log" | sed 's/^ */    /'
	fi
done <"$logs/targets"

echo
echo "summary (${secs}s per target):"
cat "$logs/summary"
if [ "$failed" -gt 0 ]; then
	echo "$failed of $total targets FAILED (logs in $logs)"
	exit 1
fi
echo "all $total targets passed"
rm -rf "$logs"
