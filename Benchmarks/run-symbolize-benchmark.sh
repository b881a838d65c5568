#!/usr/bin/env bash
# Benchmark `lockscan symbolize --addresses` against llvm-symbolizer,
# eu-addr2line -f -i and GNU addr2line -f -i on a real Debian kernel's debug
# vmlinux, in one paired run on the same inputs: 1, 100, 1000 and 10000 random
# return addresses inside text symbols (fixed seed). Reports wall time, peak
# RSS and ratios, and how many results agree with llvm-symbolizer.
#
#   Benchmarks/run-symbolize-benchmark.sh              # needs VMLINUX= or INSTALL_DBG=1
#
# Environment knobs:
#   VMLINUX      a debug vmlinux to use (e.g. /usr/lib/debug/boot/vmlinux-$(uname -r))
#   INSTALL_DBG  1: install Debian's newest linux-image-*-cloud-amd64-dbg (~280 MB
#                download) when VMLINUX is not given
#   LOCKSCAN     prebuilt lockscan binary (default: swift build -c release)
#   BENCH_DIR    scratch directory (default ${TMPDIR:-/tmp}/lockscan-symbench)
set -euo pipefail

SCRIPT_DIR=$(cd -- "$(dirname -- "${BASH_SOURCE[0]}")" && pwd -P)
REPO_ROOT=$(cd -- "$SCRIPT_DIR/.." && pwd -P)
BENCH_DIR=${BENCH_DIR:-${TMPDIR:-/tmp}/lockscan-symbench}
mkdir -p "$BENCH_DIR" "$SCRIPT_DIR/results"
log() { printf '==> %s\n' "$*" >&2; }
die() { printf 'error: %s\n' "$*" >&2; exit 2; }

sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
need=()
command -v eu-addr2line >/dev/null || need+=(elfutils)
command -v addr2line >/dev/null || need+=(binutils)
command -v nm >/dev/null || need+=(binutils)
if [ ${#need[@]} -gt 0 ]; then
    $sudo apt-get update -qq && $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need[@]}" >/dev/null
fi
LLVM_SYMBOLIZER=$(command -v /opt/swift/usr/bin/llvm-symbolizer || command -v llvm-symbolizer || true)
[ -n "$LLVM_SYMBOLIZER" ] || die "llvm-symbolizer not found (it ships with the Swift toolchain)"

VMLINUX=${VMLINUX:-}
if [ -z "$VMLINUX" ]; then
    VMLINUX=$(ls /usr/lib/debug/boot/vmlinux-*-cloud-amd64 2>/dev/null | sort -V | tail -1 || true)
fi
if [ -z "$VMLINUX" ] && [ "${INSTALL_DBG:-0}" = 1 ]; then
    $sudo apt-get update -qq
    pkg=$(apt-cache search --names-only '^linux-image-[0-9.-]+-cloud-amd64-dbg$' | awk '{print $1}' | sort -V | tail -1)
    [ -n "$pkg" ] || die "no linux-image-*-cloud-amd64-dbg package in the registry"
    log "installing $pkg"
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >/dev/null || die "cannot install $pkg"
    VMLINUX=$(ls /usr/lib/debug/boot/vmlinux-*-cloud-amd64 | sort -V | tail -1)
fi
[ -n "$VMLINUX" ] && [ -r "$VMLINUX" ] || die "no debug vmlinux: set VMLINUX=path or INSTALL_DBG=1"

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

measure() { # name outfile cmd... ; prints "seconds kib"
    local name=$1 out=$2; shift 2
    /usr/bin/time -f "%e %M" -o "$BENCH_DIR/time.$name" "$@" > "$out" 2>/dev/null || true
    cat "$BENCH_DIR/time.$name"
}

report="$SCRIPT_DIR/results/symbolize-latest.md"
{
    echo "# lockscan symbolize benchmark"
    echo
    echo "vmlinux: \`$(basename "$VMLINUX")\` ($(du -m "$VMLINUX" | cut -f1) MiB); machine: nproc=$(nproc); lockscan $(git -C "$REPO_ROOT" rev-parse --short HEAD)"
    echo
    echo "| addresses | lockscan s / MiB | llvm-symbolizer s / MiB | eu-addr2line s / MiB | GNU addr2line s / MiB | lockscan vs llvm | agree with llvm |"
    echo "|---:|---:|---:|---:|---:|---:|---:|"
} > "$report"
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
    ratio=$(python3 -c "print(f'{$vs/$ls:.2f}x' if $ls > 0 else '-')")
    printf '| %s | %s / %d | %s / %d | %s / %d | %s / %d | %s faster | %s |\n' "$n" "$ls" $((lm/1024)) "$vs" $((vm/1024)) "$es" $((em/1024)) "$gs" $((gm/1024)) "$ratio" "$agree" >> "$report"
done
echo >> "$report"
echo "GNU addr2line is skipped above 1000 addresses (minutes per run). Paths are compared relative to the kernel build directory." >> "$report"
cat "$report"
