#!/usr/bin/env bash
# Benchmark `lockscan scan` throughput against `rg -c` and `grep -cE` on a
# generated dmesg (default 1 GiB).  See Benchmarks/README.md.
#
#   Benchmarks/run-scan-benchmark.sh            # from any directory
#
# Environment knobs:
#   SIZE_MB    input size in MiB                     (default 1024)
#   LOCKSCAN   prebuilt lockscan binary; skips the `swift build` step
#   BENCH_DIR  scratch dir for the generated input   (default ${TMPDIR:-/tmp}/lockscan-bench)
#   RUNS       timed runs per tool                   (default 3; median is reported)
#   HYPERFINE  auto | 0  (0: skip hyperfine, use the built-in wall-clock timer)
#   STORM      (unset) | full | lone: insert a soft-lockup report (or its header
#              alone) every 480 lines (generate-storm.py), the user's worst case
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
RESULTS_DIR="$SCRIPT_DIR/results"
GENERATOR="$SCRIPT_DIR/generate-dmesg.py"

SIZE_MB=${SIZE_MB:-1024}
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/lockscan-bench}
RUNS=${RUNS:-3}
LOCKSCAN=${LOCKSCAN:-}
HYPERFINE=${HYPERFINE:-auto}
STORM=${STORM:-}

# The trigger words, as one alternation of fixed strings (no regex metacharacters
# inside the words, so `rg -e` and `grep -E` see exactly the same pattern).
TRIGGERS=('hard LOCKUP' 'Hard LOCKUP' 'soft lockup' 'RT throttling' 'double_rq_lock'
          'unstable' 'NMI backtrace' 'Call Trace' 'exception RIP')
TRIGGER_RE=$(IFS='|'; printf '%s' "${TRIGGERS[*]}")

log()  { printf '==> %s\n' "$*" >&2; }
warn() { printf 'warning: %s\n' "$*" >&2; }
die()  { printf 'error: %s\n' "$*" >&2; exit 1; }

case "${1:-}" in
    -h|--help) awk 'NR > 1 && !/^#/ { exit } NR > 1 { sub(/^# ?/, ""); print }' "${BASH_SOURCE[0]}"; exit 0 ;;
    "") ;;
    *) die "unexpected argument '$1' (configuration is via environment variables; see --help)" ;;
esac

[[ $SIZE_MB =~ ^[1-9][0-9]*$ ]] || die "SIZE_MB must be a positive integer (MiB), got '$SIZE_MB'"
[[ $RUNS =~ ^[1-9][0-9]*$ ]]    || die "RUNS must be a positive integer, got '$RUNS'"
[[ -z $STORM || $STORM == full || $STORM == lone ]] || die "STORM must be full or lone, got '$STORM'"

# ---------------------------------------------------------------------------
# 1. Tools
# ---------------------------------------------------------------------------
APT_UPDATED=0
apt_install() {
    local -a sudo=()
    if [[ $(id -u) -ne 0 ]]; then
        command -v sudo >/dev/null 2>&1 || return 1
        sudo=(sudo -n)
    fi
    command -v apt-get >/dev/null 2>&1 || return 1
    if [[ $APT_UPDATED -eq 0 ]]; then
        log "apt-get update"
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2 || return 1
        APT_UPDATED=1
    fi
    log "apt-get install -y $*"
    "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >&2
}

missing=()
command -v rg      >/dev/null 2>&1 || missing+=(ripgrep)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [[ ${#missing[@]} -gt 0 ]]; then
    apt_install "${missing[@]}" || die "could not install ${missing[*]}; install them and re-run"
fi
HAVE_HYPERFINE=0
if [[ $HYPERFINE != 0 ]]; then
    if ! command -v hyperfine >/dev/null 2>&1; then
        apt_install hyperfine || warn "hyperfine not available; falling back to plain wall-clock timing"
    fi
    command -v hyperfine >/dev/null 2>&1 && HAVE_HYPERFINE=1
fi

# ---------------------------------------------------------------------------
# 2. lockscan (release build unless LOCKSCAN points at a binary)
# ---------------------------------------------------------------------------
if [[ -n $LOCKSCAN ]]; then
    BIN=$LOCKSCAN
    [[ -f $BIN && -x $BIN ]] || BIN=$(command -v -- "$LOCKSCAN" 2>/dev/null) || die "LOCKSCAN='$LOCKSCAN' is not an executable"
    log "using LOCKSCAN=$BIN (no build)"
else
    command -v swift >/dev/null 2>&1 \
        || die "swift not found; install a Swift 6 toolchain or set LOCKSCAN=/path/to/lockscan"
    log "swift build -c release --product lockscan (in $REPO_ROOT)"
    (cd "$REPO_ROOT" && swift build -c release --product lockscan) >&2 \
        || die "release build failed (set LOCKSCAN=/path/to/lockscan to benchmark a prebuilt binary)"
    BIN="$(cd "$REPO_ROOT" && swift build -c release --show-bin-path)/lockscan"
    [[ -x $BIN ]] || die "built binary not found at $BIN"
fi

COMMIT=$(git -C "$REPO_ROOT" rev-parse --short HEAD 2>/dev/null) || COMMIT="(no commit)"
if [[ -n $(git -C "$REPO_ROOT" status --porcelain --untracked-files=no 2>/dev/null || true) ]]; then
    COMMIT="$COMMIT+dirty"
fi
LS_VERSION=unknown
if ls_version_out=$(timeout 20 "$BIN" --version 2>/dev/null < /dev/null) && [[ -n $ls_version_out ]]; then
    LS_VERSION=${ls_version_out%%$'\n'*}
fi

# ---------------------------------------------------------------------------
# 3. Input: generated once per (size, generator version), then reused
# ---------------------------------------------------------------------------
mkdir -p -- "$BENCH_DIR"
INPUT="$BENCH_DIR/dmesg-${SIZE_MB}M.log"
STAMP="$INPUT.stamp"
SIZE_BYTES=$((SIZE_MB * 1024 * 1024))
GEN_ID="size_mb=$SIZE_MB generator_sha256=$(sha256sum "$GENERATOR" | cut -d' ' -f1)"

file_size() { stat -c %s -- "$1" 2>/dev/null || echo -1; }
if [[ -f $INPUT && $(file_size "$INPUT") -eq $SIZE_BYTES && -f $STAMP && $(cat "$STAMP") == "$GEN_ID" ]]; then
    log "reusing $INPUT"
else
    rm -f -- "$INPUT" "$STAMP"
    avail_kb=$(df -Pk -- "$BENCH_DIR" | awk 'NR == 2 { print $4 }')
    if [[ -n $avail_kb && $avail_kb -lt $(((SIZE_MB + 64) * 1024)) ]]; then
        die "not enough space in $BENCH_DIR for a ${SIZE_MB} MiB input (set BENCH_DIR elsewhere)"
    fi
    log "generating ${SIZE_MB} MiB dmesg into $INPUT"
    python3 "$GENERATOR" --size-mb "$SIZE_MB" -o "$INPUT"
    printf '%s\n' "$GEN_ID" > "$STAMP"
fi
if [[ -n $STORM ]]; then
    BASE_INPUT=$INPUT
    INPUT="$BENCH_DIR/dmesg-${SIZE_MB}M-storm-$STORM.log"
    STORM_ID="$GEN_ID storm=$STORM storm_sha256=$(sha256sum "$SCRIPT_DIR/generate-storm.py" | cut -d' ' -f1)"
    if [[ -f $INPUT && -f $INPUT.stamp && $(cat "$INPUT.stamp") == "$STORM_ID" ]]; then
        log "reusing $INPUT"
    else
        storm_args=(--base "$BASE_INPUT" -o "$INPUT")
        [[ $STORM == lone ]] && storm_args+=(--lone)
        python3 "$SCRIPT_DIR/generate-storm.py" "${storm_args[@]}" >&2
        printf '%s\n' "$STORM_ID" > "$INPUT.stamp"
    fi
fi
LINES=$(wc -l < "$INPUT")

mem_avail_kb=$(awk '/^MemAvailable:/ { print $2 }' /proc/meminfo 2>/dev/null || true)
if [[ -n $mem_avail_kb && $mem_avail_kb -lt $(((SIZE_MB + 512) * 1024)) ]]; then
    warn "MemAvailable ($((mem_avail_kb / 1024)) MiB) may not hold the input in the page cache; timings may include disk reads"
fi

# ---------------------------------------------------------------------------
# 4. Warm-up and correctness check (one run each, outside the timings)
# ---------------------------------------------------------------------------
log "warming the page cache"
cat -- "$INPUT" > /dev/null

# Exit status 1 means "no match" for rg/grep and "found warning-or-worse events"
# for lockscan; both are successful runs.  Anything else is a failure.
check_rc() { # name rc stderr-file
    if [[ $2 -gt 1 ]]; then
        printf 'error: %s exited with status %s\n' "$1" "$2" >&2
        [[ -s $3 ]] && sed 's/^/    /' "$3" >&2
        exit 1
    fi
}
ERR="$BENCH_DIR/stderr.txt"
# lockscan's own literals (every analyzer's triggers, the report headers some
# analyzers asked for, the input layer's own): the search the scan's fast path
# does, so `rg -F -f` with them is the floor a scan can reach.
LITERALS="$BENCH_DIR/triggers.txt"
"$BIN" analyzers --triggers > "$LITERALS" || die "lockscan analyzers --triggers failed"
rc=0; RGF_COUNT=$(rg -c -F -f "$LITERALS" -- "$INPUT" 2>"$ERR") || rc=$?
check_rc rg-F "$rc" "$ERR"; RGF_COUNT=${RGF_COUNT:-0}
rc=0; RG_COUNT=$(rg -c -e "$TRIGGER_RE" -- "$INPUT" 2>"$ERR") || rc=$?
check_rc rg "$rc" "$ERR"; RG_COUNT=${RG_COUNT:-0}
rc=0; GREP_COUNT=$(LC_ALL=C grep -cE -- "$TRIGGER_RE" "$INPUT" 2>"$ERR") || rc=$?
check_rc grep "$rc" "$ERR"
rc=0; "$BIN" scan --ndjson "$INPUT" > "$BENCH_DIR/lockscan.ndjson" 2>"$ERR" || rc=$?
check_rc lockscan "$rc" "$ERR"
LS_RC=$rc
LS_EVENTS=$(wc -l < "$BENCH_DIR/lockscan.ndjson")
[[ $RG_COUNT == "$GREP_COUNT" ]] || warn "rg counted $RG_COUNT matching lines but grep counted $GREP_COUNT"
log "matching lines: rg=$RG_COUNT grep=$GREP_COUNT; lockscan: $LS_EVENTS NDJSON lines, exit $LS_RC"

# ---------------------------------------------------------------------------
# 5. Timing
# ---------------------------------------------------------------------------
NAMES=(lockscan rg-F rg grep)
q() { printf '%q' "$1"; }
# bash command lines (hyperfine runs them with --shell=bash); `|| [ $? -eq 1 ]`
# accepts exit status 1, which the check above already validated.
# rg/grep write their count to a file, NOT to /dev/null: GNU grep detects a
# /dev/null stdout and stops at the first match (even with -c), which would
# time a ~10 ms early exit instead of a full pass over the file.
RGF_OUT="$BENCH_DIR/rg-F.count"
RG_OUT="$BENCH_DIR/rg.count"
GREP_OUT="$BENCH_DIR/grep.count"
CMDS=(
    "$(q "$BIN") scan --ndjson $(q "$INPUT") > /dev/null || [ \$? -eq 1 ]"
    "rg -c -F -f $(q "$LITERALS") $(q "$INPUT") > $(q "$RGF_OUT") || [ \$? -eq 1 ]"
    "rg -c -e '$TRIGGER_RE' $(q "$INPUT") > $(q "$RG_OUT") || [ \$? -eq 1 ]"
    "LC_ALL=C grep -cE '$TRIGGER_RE' $(q "$INPUT") > $(q "$GREP_OUT") || [ \$? -eq 1 ]"
)
rm -f -- "$RGF_OUT" "$RG_OUT" "$GREP_OUT"
TIMES="$BENCH_DIR/times.tsv"   # name <TAB> median seconds
: > "$TIMES"

if [[ $HAVE_HYPERFINE -eq 1 ]]; then
    METHOD="hyperfine $(hyperfine --version | awk '{ print $2 }'), --warmup 1 --runs $RUNS, median"
    JSON="$BENCH_DIR/hyperfine.json"
    hf_args=(--warmup 1 --runs "$RUNS" --shell=bash --export-json "$JSON")
    for i in "${!NAMES[@]}"; do
        hf_args+=(--command-name "${NAMES[$i]}" "${CMDS[$i]}")
    done
    log "hyperfine ${hf_args[*]:0:7} ..."
    hyperfine "${hf_args[@]}" >&2
    python3 - "$JSON" > "$TIMES" <<'PY'
import json, sys
for r in json.load(open(sys.argv[1]))["results"]:
    print("%s\t%.6f" % (r["command"], r["median"]))
PY
else
    METHOD="bash wall clock, 1 warm-up + $RUNS runs, median"
    now() { local t=${EPOCHREALTIME:-}; if [[ -n $t ]]; then printf '%s' "${t/,/.}"; else date +%s.%N; fi; }
    for i in "${!NAMES[@]}"; do
        samples=()
        for ((run = 0; run <= RUNS; run++)); do
            t0=$(now)
            bash -c "${CMDS[$i]}" || die "${NAMES[$i]} failed during timing"
            t1=$(now)
            ((run == 0)) && continue   # warm-up
            samples+=("$(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.6f", b - a }')")
        done
        median=$(printf '%s\n' "${samples[@]}" | sort -g \
            | awk '{ v[NR] = $1 } END { if (NR % 2) print v[(NR + 1) / 2]; else printf "%.6f\n", (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
        log "${NAMES[$i]}: ${samples[*]} s -> median $median s"
        printf '%s\t%s\n' "${NAMES[$i]}" "$median" >> "$TIMES"
    done
fi

# The timed runs must have done the full search (same count as the check run).
rgf_timed=$(cat -- "$RGF_OUT" 2>/dev/null || true)
[[ ${rgf_timed:-0} == "$RGF_COUNT" ]]   || die "timed rg -F runs counted '${rgf_timed}', expected $RGF_COUNT"
rg_timed=$(cat -- "$RG_OUT" 2>/dev/null || true)
grep_timed=$(cat -- "$GREP_OUT" 2>/dev/null || true)
[[ ${rg_timed:-0} == "$RG_COUNT" ]]     || die "timed rg runs counted '${rg_timed}', expected $RG_COUNT"
[[ ${grep_timed:-0} == "$GREP_COUNT" ]] || die "timed grep runs counted '${grep_timed}', expected $GREP_COUNT"

# ---------------------------------------------------------------------------
# 6. Report (terminal + Benchmarks/results/latest.md)
# ---------------------------------------------------------------------------
# rows: tool <TAB> median <TAB> MiB/s <TAB> ratio (lockscan time / tool time)
ROWS=$(awk -F'\t' -v mib="$SIZE_MB" '
    { name[NR] = $1; t[NR] = $2; if ($1 == "lockscan") ls = $2 }
    END {
        for (i = 1; i <= NR; i++) {
            rate  = (t[i] > 0) ? sprintf("%.1f", mib / t[i]) : "inf"
            ratio = (t[i] > 0) ? sprintf("%.2f", ls / t[i]) : "n/a"
            printf "%s\t%.3f\t%s\t%s\n", name[i], t[i], rate, ratio
        }
    }' "$TIMES")
SUMMARY=$(awk -F'\t' '
    { name[NR] = $1; t[NR] = $2; if ($1 == "lockscan") ls = $2 }
    END {
        for (i = 1; i <= NR; i++) {
            if (name[i] == "lockscan" || t[i] <= 0 || ls <= 0) continue
            if (ls >= t[i]) printf "lockscan is %.2fx slower than %s\n", ls / t[i], name[i]
            else printf "lockscan is %.2fx faster than %s\n", t[i] / ls, name[i]
        }
    }' "$TIMES")

NPROC=$(nproc)
CPU_MODEL=$(awk -F': ' '/^model name/ { print $2; exit }' /proc/cpuinfo 2>/dev/null || true)
CPU_MODEL=${CPU_MODEL:-unknown}
RG_VERSION=$(rg --version | sed -n 1p)
GREP_VERSION=$(grep --version | sed -n 1p)
LS_DESC="$LS_VERSION, commit $COMMIT"
[[ -n $LOCKSCAN ]] && LS_DESC="$LS_DESC (LOCKSCAN override: $BIN)"

echo
echo "lockscan scan benchmark: ${SIZE_MB} MiB, $LINES lines ($INPUT)"
echo "machine:   nproc=$NPROC, $CPU_MODEL"
echo "lockscan:  $LS_DESC"
echo "timing:    $METHOD"
echo
printf '%-10s %12s %10s %16s\n' tool "median (s)" "MiB/s" "lockscan / tool"
printf '%s\n' "$ROWS" | awk -F'\t' '{ printf "%-10s %12s %10s %15sx\n", $1, $2, $3, $4 }'
echo
printf '%s\n' "$SUMMARY"

mkdir -p -- "$RESULTS_DIR"
MD="$RESULTS_DIR/latest.md"
{
    echo "# lockscan scan benchmark"
    echo
    echo "Generated by \`Benchmarks/run-scan-benchmark.sh\` on $(date -u '+%Y-%m-%d %H:%M UTC')."
    echo
    echo "| | |"
    echo "|---|---|"
    echo "| input | ${SIZE_MB} MiB generated dmesg, $LINES lines (\`generate-dmesg.py\`, default seed) |"
    echo "| machine | nproc=$NPROC, $CPU_MODEL, $(uname -sr) |"
    echo "| lockscan | $LS_DESC |"
    echo "| rg | $RG_VERSION |"
    echo "| grep | $GREP_VERSION |"
    echo "| timing | $METHOD, page cache warm |"
    echo "| matching lines | rg -F with lockscan's $(wc -l < "$LITERALS") literals: $RGF_COUNT; rg: $RG_COUNT, grep: $GREP_COUNT; lockscan: $LS_EVENTS NDJSON lines (exit $LS_RC) |"
    echo
    echo "| tool | median (s) | MiB/s | lockscan time / tool time |"
    echo "|---|---:|---:|---:|"
    printf '%s\n' "$ROWS" | awk -F'\t' '{ printf "| %s | %s | %s | %s× |\n", $1, $2, $3, $4 }'
    echo
    printf '%s\n' "$SUMMARY" | sed 's/^/- /'
    echo
    echo "Commands:"
    echo
    echo '```'
    echo "lockscan scan --ndjson FILE > /dev/null"
    echo "rg -c -F -f triggers.txt FILE > rg-F.count   # triggers.txt: lockscan analyzers --triggers"
    echo "rg -c -e '$TRIGGER_RE' FILE > rg.count"
    echo "LC_ALL=C grep -cE '$TRIGGER_RE' FILE > grep.count"
    echo '```'
} > "$MD"
echo
echo "wrote $MD"
