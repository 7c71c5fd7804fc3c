#!/usr/bin/env bash
# Benchmarks dossier against the stock tools on the shared corpora, with
# alternating runs in one invocation, and prints a markdown table of
# medians and ratios (wall time, CPU seconds, peak RSS, output size).
#
#   scripts/bench.sh                       # 1G corpora, 5 runs each
#   BENCH_SIZE=256M BENCH_RUNS=3 scripts/bench.sh
#   BENCH_BIG=1 scripts/bench.sh           # also peak RSS at 8 GiB and 100,000 files
#   BENCH_ONLY=big scripts/bench.sh        # only those memory runs, then the report
#                                          # (1G rows from the last full run's results)
#
# Settings (environment): BENCH_SIZE (corpus size, default 1G), BENCH_RUNS
# (alternating runs per comparison, default 5), BENCH_GPG_RUNS (default 3:
# gpg is slow), BENCH_DIR (work folder on the file system to measure,
# default /tmp/dossier-bench; corpora are kept there between runs),
# BENCH_BIG (1 to add the memory runs). Not part of the test suite: timings
# are measured here, never asserted in tests.
set -euo pipefail
repo="$(cd "$(dirname "$0")/.." && pwd)"
shared="$repo/../shared/bench/corpusgen"
SIZE="${BENCH_SIZE:-1G}"
RUNS="${BENCH_RUNS:-5}"
GPG_RUNS="${BENCH_GPG_RUNS:-3}"
WORK="${BENCH_DIR:-/tmp/dossier-bench}"
mkdir -p "$WORK/bin" "$WORK/out"
[ "${BENCH_ONLY:-}" = big ] || rm -f "$WORK/sizes.txt" "$WORK/floor.txt"
log() { echo "bench: $*" >&2; }

# --- tools --------------------------------------------------------------
need=()
command -v zstd >/dev/null || need+=(zstd)
command -v gpg >/dev/null || need+=(gnupg)
[ -x /usr/bin/time ] || need+=(time)
if [ ${#need[@]} -gt 0 ]; then
  log "installing ${need[*]}"
  if [ "$(id -u)" = 0 ]; then SUDO=; else SUDO=sudo; fi
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need[@]}" >/dev/null
fi
tools="${DOSSIER_TOOLS:-${XDG_CACHE_HOME:-${HOME:-/tmp}/.cache}/dossier-tools}"
AGE="$tools/bin/age"
if [ ! -x "$AGE" ]; then
  log "building stock age v1.3.2"
  GOBIN="$tools/bin" GOFLAGS=-mod=mod go install filippo.io/age/cmd/...@v1.3.2
fi
log "building dossier"
(cd "$repo" && go build -trimpath -o "$WORK/bin/dossier" ./cmd/dossier && go build -o "$WORK/bin/floor" ./scripts/floor)
D="$WORK/bin/dossier"
export DOSSIER_HOME="$WORK/home"

# --- corpora and keys ---------------------------------------------------
for profile in mixed text; do
  dir="$WORK/corpus-$SIZE/$profile"
  if [ ! -d "$dir" ]; then
    log "generating the $profile corpus ($SIZE)"
    (cd "$shared" && go run . -out "$dir" -profile "$profile" -size "$SIZE" -seed 1 >/dev/null)
  fi
done
keys="$WORK/keys"
if [ ! -f "$keys/bob.card" ]; then
  mkdir -p "$keys"
  "$D" -q keygen --name Alice --identity "$keys/alice.id" --card "$keys/alice.card" --no-passphrase
  "$D" -q keygen --name Bob --identity "$keys/bob.id" --card "$keys/bob.card" --no-passphrase
  "$D" key age-identity -i "$keys/bob.id" > "$keys/bob.agekey"
  "$AGE"-keygen -o "$keys/x25519.key" 2>/dev/null
fi
PQ_RECIPIENT=$("$D" --json key age-identity -i "$keys/bob.id" | sed -n 's/.*"age_recipient": "\(.*\)".*/\1/p')
X_RECIPIENT=$("$AGE"-keygen -y "$keys/x25519.key")
export GNUPGHOME="$WORK/gnupg"
if [ ! -d "$GNUPGHOME" ]; then
  mkdir -m 700 "$GNUPGHOME"
  gpg --batch --quiet --passphrase '' --quick-gen-key 'Bench <bench@example.invalid>' default default never 2>/dev/null
fi

# --- measuring ----------------------------------------------------------
results="$WORK/results.txt"
if [ "${BENCH_ONLY:-}" = big ]; then
  touch "$results"; sed -i '/^mem-/d' "$results"
else
  : > "$results"
fi
# run LABEL COMMAND: time one run of COMMAND (a bash snippet) and record
# wall seconds, CPU seconds (user+sys) and peak RSS (KiB). The wall time is
# bash's own clock around COMMAND, to the millisecond: /usr/bin/time's
# counts only hundredths (a tenth of an extract) and includes starting
# the bash that runs COMMAND (some 4 ms here, where starting /bin/true
# takes 14). CPU seconds (hundredths) and peak RSS come from
# /usr/bin/time. Untimed before
# it: PREP (a bash snippet, if set: removing what the last runs wrote, for
# runs whose output nothing after them reads), then sync. The stock pipelines leave what they wrote in the page cache, not
# yet on disk, and dossier's open syncs its file system before it
# publishes (syncfs): without the sync here, an open run right after an
# anchor run wrote back the anchor's 1.1 GB too (a sync then took
# 1.1–1.3 s), on dossier's clock.
run() {
  local label=$1; shift
  local t="$WORK/time.txt"
  if [ -n "${PREP:-}" ]; then bash -c "$PREP"; fi
  sync
  /usr/bin/time -f '%U %S %M' -o "$t" bash -c "TIMEFORMAT=%3R; time { $*"$'\n'"}" >/dev/null 2>"$WORK/stderr.txt" || {
    log "FAILED: $label: $*"; cat "$WORK/stderr.txt" >&2; exit 1; }
  read -r user sys rss < "$t"
  wall=$(tail -n 1 "$WORK/stderr.txt")
  echo "$label $wall $(awk -v u="$user" -v s="$sys" 'BEGIN { print u + s }') $rss" >> "$results"
}
# alternate N A_LABEL A_CMD B_LABEL B_CMD ...: one warm-up round, then N
# rounds running each command once in turn.
alternate() {
  local n=$1; shift
  local -a pairs=("$@")
  for ((round = 0; round <= n; round++)); do
    for ((i = 0; i < ${#pairs[@]}; i += 2)); do
      local label=${pairs[i]}
      [ $round -eq 0 ] && label="warmup"
      run "$label" "${pairs[i+1]}"
    done
  done
}
median() { # LABEL FIELD(2=wall,3=cpu,4=rss)
  awk -v l="$1" -v f="$2" '$1==l {print $f}' "$results" | sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "n/a"; else if (a / b < 0.1) printf "%.3f", a / b; else printf "%.2f", a / b }'; }
mb() { awk -v k="$1" 'BEGIN { printf "%.0f", k / 1024 }'; }

for profile in mixed text; do
  [ "${BENCH_ONLY:-}" = big ] && break
  dir="$WORK/corpus-$SIZE/$profile"
  parent=$(dirname "$dir")
  o="$WORK/out/$profile"
  rm -rf "$o"; mkdir -p "$o"
  log "pack, $profile corpus"
  alternate "$RUNS" \
    "pack-dossier-$profile" "rm -f $o/b.dossier $o/b.dossier.minisig; $D -q pack -i $keys/alice.id -r $keys/bob.card -o $o/b.dossier --default-category other $dir" \
    "pack-anchor-$profile" "tar -C $parent -cf - $profile | zstd -3 -T0 -q | $AGE -r $PQ_RECIPIENT > $o/b.age"
  if [ "$profile" = mixed ]; then
    alternate "$RUNS" \
      "pack-anchor-pq-$profile" "tar -C $parent -cf - $profile | zstd -3 -T0 -q | $AGE -r $PQ_RECIPIENT > $o/pq.age" \
      "pack-anchor-x25519-$profile" "tar -C $parent -cf - $profile | zstd -3 -T0 -q | $AGE -r $X_RECIPIENT > $o/x.age"
  fi
  alternate "$GPG_RUNS" \
    "pack-gpg-$profile" "tar -C $parent -cf - $profile | gpg --batch --yes --quiet -r bench@example.invalid --sign --encrypt -o $o/b.gpg" \
    "pack-anchor2-$profile" "tar -C $parent -cf - $profile | zstd -3 -T0 -q | $AGE -r $PQ_RECIPIENT > $o/b.age"
  size_d=$(stat -c %s "$o/b.dossier"); size_a=$(stat -c %s "$o/b.age"); size_g=$(stat -c %s "$o/b.gpg")
  echo "$profile $size_d $size_a $size_g" >> "$WORK/sizes.txt"

  log "verify and open, $profile corpus"
  alternate "$RUNS" \
    "verify-dossier-$profile" "$D -q verify $o/b.dossier -i $keys/bob.id --from $keys/alice.card" \
    "verify-anchor-$profile" "$AGE -d -i $keys/bob.agekey $o/b.age | zstd -d -q | tar -tf - > /dev/null"
  PREP="rm -rf $o/opened $o/untarred; mkdir $o/untarred" alternate "$RUNS" \
    "open-dossier-$profile" "$D -q open --allow-reopen $o/b.dossier -i $keys/bob.id --from $keys/alice.card -o $o/opened" \
    "open-anchor-$profile" "$AGE -d -i $keys/bob.agekey $o/b.age | zstd -d -q | tar -xf - -C $o/untarred"
  # One document of about 1 MiB (the largest file under 1.5 MiB).
  one=$(cd "$parent" && find "$profile" -type f -size -1536k -printf '%s %p\n' | sort -n | tail -1 | cut -d' ' -f2-)
  PREP="rm -f $o/one" alternate "$RUNS" \
    "extract-dossier-$profile" "$D -q extract $o/b.dossier -i $keys/bob.id --from $keys/alice.card '$one' -o $o/one" \
    "verify2-dossier-$profile" "$D -q verify $o/b.dossier -i $keys/bob.id --from $keys/alice.card"
  rm -rf "$o/opened" "$o/untarred"
  # The work dossier cannot skip, each step timed alone on one thread
  # (scripts/floor): what the format allows at best on this machine.
  log "floor, $profile corpus"
  for ((r = 0; r < 3; r++)); do
    echo "$profile $("$WORK/bin/floor" -dir "$dir" -bundle "$o/b.dossier")" >> "$WORK/floor.txt"
  done
done

if [ "${BENCH_BIG:-}" = 1 ] || [ "${BENCH_ONLY:-}" = big ]; then
  big="$WORK/corpus-8G/mixed"
  if [ ! -d "$big" ]; then
    log "generating the 8G mixed corpus"
    (cd "$shared" && go run . -out "$big" -profile mixed -size 8G -seed 2 >/dev/null)
  fi
  many="$WORK/corpus-100k/many"
  if [ ! -d "$many" ]; then
    log "generating 100,000 small files"
    mkdir -p "$many"
    (cd "$repo" && go run ./scripts/smallfiles -out "$many" -n 100000)
  fi
  for c in "8g:$big" "100k:$many"; do
    name=${c%%:*}; dir=${c#*:}
    o="$WORK/out/$name"; rm -rf "$o"; mkdir -p "$o"
    log "memory runs: $name"
    run "mem-pack-$name" "$D -q pack -i $keys/alice.id -r $keys/bob.card -o $o/b.dossier --default-category other $dir"
    run "mem-verify-$name" "$D -q verify $o/b.dossier -i $keys/bob.id --from $keys/alice.card"
    run "mem-open-$name" "$D -q open $o/b.dossier -i $keys/bob.id --from $keys/alice.card -o $o/opened"
    run "mem-verifydir-$name" "$D -q verify $o/opened --from $keys/alice.card"
    # -quit, not | head -1: under pipefail, find's SIGPIPE would end the script.
    one=$(cd "$(dirname "$dir")" && find "$(basename "$dir")" -type f -print -quit)
    run "mem-extract-$name" "$D -q extract $o/b.dossier -i $keys/bob.id --from $keys/alice.card '$one' -o $o/one"
    rm -rf "$o"
  done
fi

# --- report -------------------------------------------------------------
corpus_bytes() { du -sb "$WORK/corpus-$SIZE/$1" | cut -f1; }
echo
echo "Machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(sed -n 's/^model name\s*: //p' /proc/cpuinfo | head -1); corpora: $SIZE (shared corpusgen, seed 1); medians of $RUNS alternating runs ($GPG_RUNS for gpg); $(date -u +%Y-%m-%d)."
echo
echo "| measurement | corpus | dossier | baseline | ratio (target) | dossier CPU s / ratio | dossier peak RSS |"
echo "|---|---|---|---|---|---|---|"
row() { # name profile dossierlabel baselinelabel target
  local dw bw dc bc rss
  dw=$(median "$3" 2); bw=$(median "$4" 2); dc=$(median "$3" 3); bc=$(median "$4" 3); rss=$(median "$3" 4)
  echo "| $1 | $2 | ${dw} s | ${bw} s | $(ratio "$dw" "$bw") ($5) | ${dc} / $(ratio "$dc" "$bc") | $(mb "$rss") MiB |"
}
for p in mixed text; do
  bytes=$(corpus_bytes "$p")
  t=0.55; [ "$p" = text ] && t=0.70
  row "pack vs tar \| zstd -3 -T0 \| age (PQ)" "$p ($((bytes / 1000000)) MB)" "pack-dossier-$p" "pack-anchor-$p" "≤ $t"
  row "pack vs tar \| gpg --sign --encrypt" "$p" "pack-dossier-$p" "pack-gpg-$p" "—"
  row "verify -i vs age -d \| zstd -d \| tar -t" "$p" "verify-dossier-$p" "verify-anchor-$p" "≤ 0.6"
  row "open vs age -d \| zstd -d \| tar -x" "$p" "open-dossier-$p" "open-anchor-$p" "≤ 1.1"
  row "extract 1 file vs full verify" "$p" "extract-dossier-$p" "verify2-dossier-$p" "≤ 0.05"
done
echo
echo "| anchor pipeline | corpus | wall s | CPU s | peak RSS |"
echo "|---|---|---|---|---|"
for l in pack-anchor-mixed pack-anchor-text pack-gpg-mixed pack-gpg-text verify-anchor-mixed verify-anchor-text open-anchor-mixed open-anchor-text; do
  echo "| ${l%-*} | ${l##*-} | $(median "$l" 2) | $(median "$l" 3) | $(mb "$(median "$l" 4)") MiB |"
done
echo
echo "Floor: the work dossier's format cannot skip, each step timed alone on one thread (\`scripts/floor\`, CPU s, medians of 3), and that work spread perfectly over $(nproc) cores:"
echo
echo "| corpus | read files | SHA-256 | zstd | unzstd | ChaCha20-Poly1305 | BLAKE2b (seal) | read bundle | pack floor / anchor | verify floor / anchor |"
echo "|---|---|---|---|---|---|---|---|---|---|"
cores=$(nproc)
for p in mixed text; do
  fm() { awk -v p="$p" -v f="$1" '$1==p {print $f}' "$WORK/floor.txt" | sort -g | awk '{a[NR]=$1} END {if (NR==0) {print "nan"} else if (NR%2) {print a[(NR+1)/2]} else {print (a[NR/2]+a[NR/2+1])/2}}'; }
  rd=$(fm 2); sha=$(fm 3); z=$(fm 4); uz=$(fm 5); cc=$(fm 6); b2=$(fm 7); rb=$(fm 8)
  pf=$(awk -v a="$rd" -v b="$sha" -v c="$z" -v d="$cc" -v e="$b2" -v n="$cores" 'BEGIN { printf "%.2f", (a+b+c+d+e)/n }')
  vf=$(awk -v a="$rb" -v b="$sha" -v c="$uz" -v d="$cc" -v e="$b2" -v n="$cores" 'BEGIN { printf "%.2f", (a+b+c+d+e)/n }')
  echo "| $p | $rd | $sha | $z | $uz | $cc | $b2 | $rb | $pf s / $(median "pack-anchor-$p" 2) s = $(ratio "$pf" "$(median "pack-anchor-$p" 2)") | $vf s / $(median "verify-anchor-$p" 2) s = $(ratio "$vf" "$(median "verify-anchor-$p" 2)") |"
done
pq=$(median pack-anchor-pq-mixed 2); x=$(median pack-anchor-x25519-mixed 2)
echo
echo "Post-quantum vs X25519 recipient (stock age, mixed): $pq s vs $x s = $(ratio "$pq" "$x") (target ≤ 1.02)."
echo
echo "| output size | dossier | tar \| zstd -3 \| age | ratio (target ≤ 1.02) | gpg |"
echo "|---|---|---|---|---|"
while read -r p d a g; do
  echo "| $p | $d | $a | $(ratio "$d" "$a") | $g |"
done < "$WORK/sizes.txt"
if [ "${BENCH_BIG:-}" = 1 ] || [ "${BENCH_ONLY:-}" = big ]; then
  echo
  echo "| peak RSS (target ≤ 64 MiB) | pack | verify | open | extract | verify DIR |"
  echo "|---|---|---|---|---|---|"
  files_in() { # 8g|100k: how many files that corpus holds
    local d="$WORK/corpus-8G/mixed"; [ "$1" = 100k ] && d="$WORK/corpus-100k/many"
    find "$d" -type f | wc -l
  }
  for name in 8g 100k; do
    echo "| $name ($(files_in "$name") files) | $(mb "$(median mem-pack-$name 4)") MiB | $(mb "$(median mem-verify-$name 4)") MiB | $(mb "$(median mem-open-$name 4)") MiB | $(mb "$(median mem-extract-$name 4)") MiB | $(mb "$(median mem-verifydir-$name 4)") MiB |"
  done
fi
