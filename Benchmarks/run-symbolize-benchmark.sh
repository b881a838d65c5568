#!/usr/bin/env bash
# Benchmark `lockscan symbolize` on a real Debian kernel's debug vmlinux, in
# one paired run on the same inputs:
#   1. --addresses on 1, 100, 1000 and 10000 random return addresses inside
#      text symbols (fixed seed) against llvm-symbolizer, eu-addr2line -f -i
#      and GNU addr2line -f -i: median wall time of RUNS runs, peak RSS, and
#      how many results agree with llvm-symbolizer;
#   2. a real 41-frame call trace from corpora/generated (a console of the
#      recorded kernel, module frames included) against the kernel's own
#      scripts/decode_stacktrace.sh, fetched from Debian's linux-source
#      package at run time (never committed); skipped with a message when
#      the vmlinux is not the recorded kernel or the package is not served.
# Then the issue's targets, each as met/missed with the measured ratio.
#
#   Benchmarks/run-symbolize-benchmark.sh
#
# Environment knobs:
#   VMLINUX      a debug vmlinux (default: /usr/lib/debug/boot/vmlinux-*-cloud-amd64,
#                else the recorded kernel's one fetched by corpora/generate/fetch-dbg-vmlinux)
#   INSTALL_DBG  1: install the recorded kernel's linux-image-*-cloud-amd64-dbg package
#                (or the newest one) with apt when no vmlinux is found (~280 MB download)
#   RUNS         timed runs per tool and input (default 5; the median is reported)
#   LOCKSCAN     prebuilt lockscan binary (default: swift build -c release)
#   BENCH_DIR    scratch directory (default ${TMPDIR:-/tmp}/lockscan-symbench)
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/lockscan-symbench}
RUNS=${RUNS:-5}
mkdir -p "$BENCH_DIR" "$SCRIPT_DIR/results"
log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo -n"
need=()
command -v eu-addr2line >/dev/null || need+=(elfutils)
command -v addr2line >/dev/null || need+=(binutils)
command -v nm >/dev/null || need+=(binutils)
command -v python3 >/dev/null || need+=(python3)
if [ ${#need[@]} -gt 0 ]; then
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
LLVM_SYMBOLIZER=$(command -v /opt/swift/usr/bin/llvm-symbolizer || command -v llvm-symbolizer || true)
[ -n "$LLVM_SYMBOLIZER" ] || die "llvm-symbolizer not found (it ships with the Swift toolchain)"

# The kernel the generated corpus was captured on: its traces need exactly this vmlinux.
SCENARIO="$REPO_ROOT/corpora/generated/abba-deadlock/scenario.json"
read -r PKG KVER RELEASE < <(python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))["versions"]; print(v["kernelPackage"], v["kernelVersion"], v["kernelRelease"])' "$SCENARIO")

VMLINUX=${VMLINUX:-}
if [ -z "$VMLINUX" ]; then
    VMLINUX=$(ls /usr/lib/debug/boot/vmlinux-*-cloud-amd64 2>/dev/null | sort -V | tail -1 || true)
fi
if [ -z "$VMLINUX" ] && [ "${INSTALL_DBG:-0}" = 1 ]; then
    $sudo apt-get update -qq
    pkg="$PKG-dbg=$KVER"
    if ! apt-cache show "$pkg" >/dev/null 2>&1; then
        pkg=$(apt-cache search --names-only '^linux-image-[0-9.-]+-cloud-amd64-dbg$' | awk '{print $1}' | sort -V | tail -1)
    fi
    [ -n "$pkg" ] || die "no linux-image-*-cloud-amd64-dbg package in the registry"
    log "installing $pkg"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null || die "cannot install $pkg"
    VMLINUX=$(ls /usr/lib/debug/boot/vmlinux-*-cloud-amd64 | sort -V | tail -1)
fi
if [ -z "$VMLINUX" ]; then
    log "no debug vmlinux installed: fetching $PKG-dbg $KVER into scratch"
    VMLINUX=$("$REPO_ROOT/corpora/generate/fetch-dbg-vmlinux" "$SCENARIO") || die "set VMLINUX=path or INSTALL_DBG=1"
fi
[ -r "$VMLINUX" ] || die "cannot read $VMLINUX"

if [ -z "${LOCKSCAN:-}" ]; then
    (cd "$REPO_ROOT" && swift build -c release --product lockscan >&2)
    LOCKSCAN="$(cd "$REPO_ROOT" && swift build -c release --show-bin-path)/lockscan"
fi

log "addresses from $VMLINUX"
python3 - "$VMLINUX" "$BENCH_DIR" <<'PY'
import random, subprocess, sys
vm, out = sys.argv[1], sys.argv[2]
syms = []
for l in subprocess.run(["nm", "-S", "--defined-only", vm], capture_output=True, text=True).stdout.splitlines():
    p = l.split()
    if len(p) == 4 and p[2] in "tT" and int(p[1], 16) > 8:
        syms.append((int(p[0], 16), int(p[1], 16)))
random.seed(20261122)
for n in (1, 100, 1000, 10000):
    with open(f"{out}/addrs-{n}.txt", "w") as f:
        for _ in range(n):
            a, s = random.choice(syms)
            f.write(hex(a + random.randrange(1, s)) + "\n")
PY

# measure NAME OUTFILE CMD...: runs CMD RUNS times (stdout to OUTFILE), prints
# "median-seconds max-KiB". stdin comes from $MEASURE_STDIN when set.
measure() {
    local name=$1 out=$2; shift 2
    python3 "$SCRIPT_DIR/measure.py" "$RUNS" "$out" "${MEASURE_STDIN:-/dev/null}" "$@"
}
ratio() { python3 -c "import sys; a, b = float(sys.argv[1]), float(sys.argv[2]); print(f'{a/b:.2f}' if b > 0 else 'inf')" "$1" "$2"; }

report="$SCRIPT_DIR/results/symbolize-latest.md"
{
    echo "# lockscan symbolize benchmark"
    echo
    echo "vmlinux: \`$(basename "$VMLINUX")\` ($(du -m "$VMLINUX" | cut -f1) MiB); machine: nproc=$(nproc); lockscan $(git -C "$REPO_ROOT" rev-parse --short HEAD); median of $RUNS runs, peak RSS of any run"
    echo
    echo "| addresses | lockscan s / MiB | llvm-symbolizer s / MiB | eu-addr2line s / MiB | GNU addr2line s / MiB | lockscan vs llvm | agree with llvm |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
} > "$report"
declare -A T M
for n in 1 100 1000 10000; do
    in="$BENCH_DIR/addrs-$n.txt"
    read -r ls lm < <(measure lockscan "$BENCH_DIR/ours-$n.txt" "$LOCKSCAN" symbolize --vmlinux "$VMLINUX" --addresses --output-style llvm "$in")
    read -r vs vm < <(measure llvm "$BENCH_DIR/llvm-$n.txt" "$LLVM_SYMBOLIZER" --obj="$VMLINUX" --inlining "@$in")
    read -r es em < <(measure eu "$BENCH_DIR/eu-$n.txt" eu-addr2line -f -i -e "$VMLINUX" $(cat "$in"))
    if [ "$n" -le 1000 ]; then
        read -r gs gm < <(measure gnu "$BENCH_DIR/gnu-$n.txt" addr2line -f -i -e "$VMLINUX" $(cat "$in"))
    else
        gs="-"; gm=0
    fi
    T[ours$n]=$ls; M[ours$n]=$lm; T[llvm$n]=$vs; M[llvm$n]=$vm; T[eu$n]=$es; M[eu$n]=$em
    agree=$(python3 - "$BENCH_DIR/ours-$n.txt" "$BENCH_DIR/llvm-$n.txt" <<'PY'
import re, sys
def blocks(p): return [b.strip("\n").split("\n") for b in open(p).read().split("\n\n") if b.strip()]
def norm(b):
    return [re.sub(r"\.(isra|constprop|part|cold|llvm)(\.\d+)?", "", x) if i % 2 == 0
            else re.sub(r"^(debian/build/[^/]+/|/build/[^ ]*?/linux-[0-9.]+/)", "", x) for i, x in enumerate(b)]
o, l = blocks(sys.argv[1]), blocks(sys.argv[2])
same = sum(norm(a) == norm(b) for a, b in zip(o, l))
print(f"{same}/{len(l)}")
PY
)
    printf '| %s | %s / %d | %s / %d | %s / %d | %s / %d | %sx faster | %s |\n' "$n" "$ls" $((lm/1024)) "$vs" $((vm/1024)) "$es" $((em/1024)) "$gs" $((gm/1024)) "$(ratio "$vs" "$ls")" "$agree" >> "$report"
done
{
    echo
    echo "GNU addr2line is skipped above 1000 addresses (minutes per run). Paths are compared relative to the kernel build directory."
} >> "$report"

# --- the 41-frame trace against decode_stacktrace.sh --------------------------
trace="$BENCH_DIR/trace41.txt"
# awk stops reading at the 41st frame: tr may then die of SIGPIPE, which
# pipefail would turn into the script's exit status.
{ tr -d '\r' < "$REPO_ROOT/corpora/generated/abba-deadlock/guest-console.log" || true; } |
    awk '/Call Trace:/{s=1} s{print; if ($0 ~ /\+0x[0-9a-f]+\/0x[0-9a-f]+/) n++; if (n == 41) exit}' > "$trace"
frames=$(grep -cE '\+0x[0-9a-f]+/0x[0-9a-f]+' "$trace")
decode=""
trace_note=""
case "$(basename "$VMLINUX")" in
    *"$RELEASE"*) ;;
    *) trace_note="skipped: the trace is from $RELEASE, the vmlinux is $(basename "$VMLINUX") (set VMLINUX to the recorded kernel's)";;
esac
if [ -z "$trace_note" ]; then
    series=$(echo "$RELEASE" | cut -d. -f1,2)
    src="$BENCH_DIR/linux-source-$series"
    if [ ! -f "$src/scripts/decode_stacktrace.sh" ]; then
        log "fetching scripts/decode_stacktrace.sh from Debian's linux-source-$series"
        rm -rf "$src.deb.d" && mkdir -p "$src.deb.d" "$src"
        if (cd "$src.deb.d" && apt-get download "linux-source-$series" >/dev/null 2>&1 ||
                { $sudo apt-get update -qq && apt-get download "linux-source-$series" >/dev/null 2>&1; }) &&
            dpkg-deb --fsys-tarfile "$src.deb.d"/linux-source-*.deb |
                tar -xO --wildcards "./usr/src/linux-source-$series.tar.xz" |
                tar -xJ -C "$src" --strip-components=1 --wildcards '*/scripts/decode_stacktrace.sh' '*/scripts/decodecode'; then
            rm -rf "$src.deb.d"
        else
            trace_note="skipped: linux-source-$series is not served here, so there is no decode_stacktrace.sh to compare with"
        fi
    fi
    [ -f "$src/scripts/decode_stacktrace.sh" ] && decode="$src/scripts/decode_stacktrace.sh"
fi
modules="$REPO_ROOT/corpora/generated/modules"
{
    echo
    echo "## A real $frames-frame call trace (corpora/generated/abba-deadlock, module frames included)"
    echo
} >> "$report"
if [ -n "$decode" ]; then
    read -r ts tm < <(measure trace "$BENCH_DIR/ours-trace.txt" "$LOCKSCAN" symbolize --vmlinux "$VMLINUX" --modules "$modules" "$trace")
    read -r ds dm < <(MEASURE_STDIN="$trace" measure decode "$BENCH_DIR/decode-trace.txt" bash "$decode" "$VMLINUX" auto "$modules")
    T[trace]=$ts; T[decode]=$ds
    ours_lines=$(grep -c '«' "$BENCH_DIR/ours-trace.txt" || true)
    decode_lines=$(grep -cE '\((/|[a-z]).*:[0-9]+' "$BENCH_DIR/decode-trace.txt" || true)
    {
        echo "| tool | s / MiB | frames given a file:line |"
        echo "|---|---:|---:|"
        echo "| lockscan symbolize | $ts / $((tm/1024)) | $(grep -cE '\+0x[0-9a-f]+/0x[0-9a-f]+.*«' "$BENCH_DIR/ours-trace.txt") of $frames ($ours_lines annotations with inlines) |"
        echo "| scripts/decode_stacktrace.sh (linux-source-$series) | $ds / $((dm/1024)) | $decode_lines of $frames |"
        echo
        echo "lockscan is $(ratio "$ds" "$ts")x faster. decode_stacktrace.sh runs GNU addr2line once per frame on the 563 MiB vmlinux; it looks up return addresses as printed, lockscan at address-1 (the call), so a few lines differ by design."
    } >> "$report"
else
    echo "$trace_note" >> "$report"
fi

# --- the targets -------------------------------------------------------------
target() { # label value op limit
    if python3 -c "import sys; v, l = float(sys.argv[1]), float(sys.argv[3]); sys.exit(0 if (v >= l if sys.argv[2] == '>=' else v <= l) else 1)" "$2" "$3" "$4"; then
        echo "| $1 | $2 | $3 $4 | met |"
    else
        echo "| $1 | $2 | $3 $4 | missed |"
    fi
}
{
    echo
    echo "## Targets"
    echo
    echo "| target | measured | wanted | |"
    echo "|---|---:|---:|---|"
    target "10,000 addresses: llvm-symbolizer time / lockscan time" "$(ratio "${T[llvm10000]}" "${T[ours10000]}")" ">=" 2
    target "1 address: lockscan time / eu-addr2line time" "$(ratio "${T[ours1]}" "${T[eu1]}")" "<=" 2
    target "10,000 addresses: lockscan peak RSS / llvm-symbolizer's" "$(ratio "${M[ours10000]}" "${M[llvm10000]}")" "<=" 1
    if [ -n "${T[decode]:-}" ]; then
        target "$frames-frame trace: decode_stacktrace.sh time / lockscan time" "$(ratio "${T[decode]}" "${T[trace]}")" ">=" 100
    fi
} >> "$report"
cat "$report"
