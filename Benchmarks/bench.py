#!/usr/bin/env python3
"""The benchmark suite: every goal of issue 15 measured against its peer in
one run. `Benchmarks/run` installs the tools and builds lockscan, then calls
this; see Benchmarks/README.md for what each comparison means.

Exit status: 0 done, 1 a ratio regressed beyond the noise (REGRESSION lines),
2 a tool failed, a peer's output failed its sanity check, or bad usage.
"""
import argparse
import datetime
import hashlib
import json
import os
import platform
import re
import shlex
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import baseline  # noqa: E402
import pairs  # noqa: E402
import report  # noqa: E402
from pairs import Command, SanityError  # noqa: E402

SUITES = ("scan", "symbolize", "timeline")

# knob: (full default, --quick default). The full defaults are the issue's
# inputs and finish in ~10-15 min on a 2-core machine; --quick in ~1-2 min.
SIZES = {
    "SCAN_MB": (1024, 64),             # generate-dmesg.py size, MiB
    "STORM_MB": (64, 8),               # base of the storm inputs, MiB
    "SYM_ADDRESSES": (10000, 10000),   # random text addresses for symbolize --addresses
    "TIMELINE_RECORDS": (10000000, 1000000),
    "PAIRS": (9, 3),
}

# The guest's boot-relative clock in generate-timeline-sources.py's output.
TIMELINE_ANCHOR = "guest:0=2026-11-22T02:53:25Z"
# The recorded kernel whose debug vmlinux symbolize is measured on, and a real
# console capture of that kernel (module frames included) for the whole-log test.
SCENARIO = os.path.join(REPO, "corpora/generated/soft-lockup/scenario.json")
TRACE_LOG = os.path.join(REPO, "corpora/generated/abba-deadlock/guest-console.log")
TRACE_MODULES = os.path.join(REPO, "corpora/generated/modules")
TRACE_FRAMES = 41
FRAME = re.compile(rb"\+0x[0-9a-f]+/0x[0-9a-f]+")


def log(msg):
    print("==> " + msg, file=sys.stderr, flush=True)


class Setup(Exception):
    """Something the run needs is missing: exit 2 with this message."""


def shown(ctx, cmd):
    """A command as the report prints it: scratch paths relative to $BENCH_DIR, lockscan by name."""
    words = ["%s=%s" % kv for kv in sorted(cmd.env.items())] + list(cmd.argv)
    text = shlex.join(words).replace(ctx.bin, "lockscan").replace(ctx.dir, "$BENCH_DIR").replace(REPO + "/", "")
    if ctx.vmlinux:
        text = text.replace(ctx.vmlinux, "$VMLINUX")
    if cmd.stdin != os.devnull:
        text += " < " + cmd.stdin.replace(ctx.dir, "$BENCH_DIR")
    return text


# The neighbour of the comparisons run "with a neighbour": one core kept busy.
NEIGHBOUR = [sys.executable, "-c", "while True: pass"]
NEIGHBOUR_DESC = "a process keeping one core busy (python3 -c 'while True: pass') for the whole comparison"

# Every comparison's baseline checks the wall ratio (what a user waits for)
# and the CPU ratio: under a neighbour's load the wall ratio's spread grows
# far more than the CPU ratio's (a storm's 4.1-18.7 against 10.5-12.8 in
# one run), and the rule's limit grows with the spread, so the CPU ratio is
# the one that still catches a slowdown of a few tens of percent.


class Context:
    def __init__(self, args):
        self.args = args
        self.bin = os.environ.get("LOCKSCAN") or ""
        if not self.bin or not os.access(self.bin, os.X_OK):
            raise Setup("LOCKSCAN=%r is not an executable (Benchmarks/run sets it)" % self.bin)
        self.dir = os.environ.get("BENCH_DIR") or os.path.join(os.environ.get("TMPDIR", "/tmp"), "lockscan-benchmarks")
        os.makedirs(self.dir, exist_ok=True)
        self.sizes = {}
        for knob, (full, quick) in SIZES.items():
            raw = os.environ.get(knob, "")
            if knob == "PAIRS" and args.pairs is not None:
                raw = str(args.pairs)
            if raw == "":
                self.sizes[knob] = quick if args.quick else full
            elif re.fullmatch(r"[1-9][0-9]{0,9}", raw):
                self.sizes[knob] = int(raw)
            else:
                raise Setup("%s must be a positive integer, got %r" % (knob, raw))
        self.comparisons = []
        self.skipped = []
        self.loads = []
        self.tools = {}
        self.vmlinux = None   # set by the symbolize suite, named $VMLINUX in the report

    def path(self, *parts):
        return os.path.join(self.dir, *parts)

    def compare(self, cid, what, input_desc, inputs, a, b, goals, checked, neighbour=False):
        """Runs one comparison: once each (no timing) or in alternating pairs.

        With `neighbour`, a process that keeps one core busy runs for the
        whole comparison: the machine a user shares with a build or a VM.
        """
        entry = {"id": cid, "what": what, "peer": b.name, "input": inputs, "input_desc": input_desc,
                 "lockscan_cmd": shown(self, a), "peer_cmd": shown(self, b), "goals": goals,
                 "checked": checked}
        if neighbour:
            entry["neighbour"] = NEIGHBOUR_DESC
        busy = subprocess.Popen(NEIGHBOUR) if neighbour and not self.args.no_timing else None
        try:
            self.run_comparison(cid, entry, a, b)
        finally:
            if busy is not None:
                busy.kill()
                busy.wait()
        self.comparisons.append(entry)
        return entry

    def run_comparison(self, cid, entry, a, b):
        if self.args.no_timing:
            pairs.run_once(a)
            pairs.run_once(b)
            log("%s: both ran, outputs checked (no timing)" % cid)
        else:
            n = self.sizes["PAIRS"]
            log("%s: %d alternating pairs of lockscan and %s" % (cid, n, b.name))
            entry["timing"] = pairs.alternate(a, b, n, warmup=1, loads=self.loads)
            t = entry["timing"]
            log("%s: lockscan/%s wall %.3f (min %.3f, max %.3f)" % (
                cid, b.name, t["wall_ratio"]["median"], t["wall_ratio"]["min"], t["wall_ratio"]["max"]))

    def skip(self, cid, why):
        log("%s: skipped: %s" % (cid, why))
        self.skipped.append({"id": cid, "why": why})


# --------------------------------------------------------------------------
# Inputs, generated once per (generator, arguments) and then reused
# --------------------------------------------------------------------------

def generated(ctx, out, argv, sources):
    """Runs argv (which writes `out`) unless a stamp shows `out` came from
    these arguments and these generator sources."""
    h = hashlib.sha256(json.dumps(argv).encode())
    for s in sources:
        with open(s, "rb") as f:
            h.update(f.read())
    stamp = out.rstrip("/") + ".stamp"
    if os.path.exists(out) and os.path.exists(stamp) and open(stamp).read() == h.hexdigest():
        return out
    log("generating %s" % out)
    subprocess.run(argv, check=True, stdout=subprocess.DEVNULL)
    with open(stamp, "w") as f:
        f.write(h.hexdigest())
    return out


def warm(paths):
    """Reads files once so every timed run finds them in the page cache."""
    for p in paths:
        with open(p, "rb") as f:
            while f.read(1 << 24):
                pass


def count_lines(path):
    n = 0
    with open(path, "rb") as f:
        while True:
            block = f.read(1 << 24)
            if not block:
                return n
            n += block.count(b"\n")


def tool_output(argv, **kw):
    return subprocess.run(argv, capture_output=True, text=True, **kw).stdout


def version_of(argv):
    try:
        out = tool_output(argv)
    except OSError:
        return "not found"
    return out.strip().splitlines()[0] if out.strip() else "unknown"


# --------------------------------------------------------------------------
# scan: lockscan scan --ndjson vs rg -c -F -f <lockscan's own trigger literals>
# --------------------------------------------------------------------------

def scan_suite(ctx):
    gen = os.path.join(HERE, "generate-dmesg.py")
    storm = os.path.join(HERE, "generate-storm.py")
    mb, storm_mb = ctx.sizes["SCAN_MB"], ctx.sizes["STORM_MB"]
    dmesg = generated(ctx, ctx.path("dmesg-%dM.log" % mb),
                      ["python3", gen, "--size-mb", str(mb), "-o", ctx.path("dmesg-%dM.log" % mb)], [gen])
    base = generated(ctx, ctx.path("dmesg-%dM.log" % storm_mb),
                     ["python3", gen, "--size-mb", str(storm_mb), "-o", ctx.path("dmesg-%dM.log" % storm_mb)], [gen])
    inputs = [("scan.dmesg", dmesg, "%d MiB generated dmesg (generate-dmesg.py)" % mb, {"size_mib": mb})]
    storms = (("full", [], "a whole soft-lockup report every 480 lines"),
              ("lone", ["--lone"], "a lone soft-lockup header every 480 lines"),
              ("stuck", ["--stuck", "--every", "60"], "one stuck CPU's soft-lockup report every 60 lines"))
    for kind, extra, what in storms:
        out = ctx.path("storm-%dM-%s.log" % (storm_mb, kind))
        generated(ctx, out, ["python3", storm, "--base", base, "-o", out] + extra, [gen, storm])
        inputs.append(("scan.storm-" + kind, out, "%d MiB generated dmesg with %s (generate-storm.py%s)"
                       % (storm_mb, what, "".join(" " + x for x in extra)), {"base_mib": storm_mb, "storm": kind}))

    triggers = ctx.path("triggers.txt")
    with open(triggers, "w") as f:
        subprocess.run([ctx.bin, "analyzers", "--triggers"], stdout=f, check=True)
    literals = [l for l in open(triggers, encoding="utf-8", errors="replace").read().split("\n") if l != ""]
    if not literals or open(triggers, "rb").read().count(b"\n\n"):
        raise SanityError("lockscan analyzers --triggers printed no literals, or an empty one (which matches every line)")
    ctx.tools["rg"] = version_of(["rg", "--version"])
    ctx.tools["grep"] = version_of(["grep", "--version"])

    for cid, path, desc, knobs in inputs:
        warm([path])
        # What the timed rg runs must count: GNU grep's count of the same
        # literals, taken once. A peer whose count differs is broken, not fast.
        expected = int(subprocess.run(["grep", "-c", "-F", "-f", triggers, path], capture_output=True, text=True,
                                      env=dict(os.environ, LC_ALL="C")).stdout.strip() or "0")
        if expected == 0:
            raise SanityError("%s: no line of %s holds one of lockscan's literals: nothing to compare (a lockup "
                              "report comes every ~50,000 lines: is the size below ~8 MiB?)" % (cid, path))
        events = {}

        def rg_check(out, expected=expected, cid=cid):
            got = open(out).read().strip()
            if got != str(expected):
                raise SanityError("%s: rg -c -F counted %r lines, grep -c -F counted %d" % (cid, got, expected))

        def lockscan_check(out, events=events, cid=cid):
            n = count_lines(out)
            events.setdefault("n", n)
            if n == 0 or n != events["n"]:
                raise SanityError("%s: lockscan wrote %d NDJSON lines, the first run %d" % (cid, n, events["n"]))

        a = Command("lockscan", [ctx.bin, "scan", "--ndjson", path], ctx.path(cid + ".lockscan.ndjson"),
                    ok_status=(0, 1), check=lockscan_check)
        # The count goes to a file, not /dev/null: GNU tools that see /dev/null
        # stop at the first match.
        b = Command("rg -F", ["rg", "-c", "-F", "-f", triggers, path], ctx.path(cid + ".rg.count"), check=rg_check)
        e = ctx.compare(cid, "scan --ndjson vs rg -c -F -f <lockscan analyzers --triggers>", desc, knobs, a, b,
                        goals=[{"metric": "wall_ratio", "at_most": 1.0},
                               {"metric": "lockscan_peak_rss_mib", "at_most": 64}],
                        checked=["wall_ratio", "cpu_ratio", "lockscan_peak_rss_mib"])
        e["sanity"] = "%d lines, %d MiB; rg -F and grep -F both count %d lines holding one of lockscan's %d literals; " \
                      "lockscan wrote %d NDJSON lines every run" % (
                          count_lines(path), os.path.getsize(path) >> 20, expected, len(literals), events["n"])


# --------------------------------------------------------------------------
# symbolize: --addresses vs llvm-symbolizer (many) and eu-addr2line (one);
# a real console log vs the kernel's scripts/decode_stacktrace.sh
# --------------------------------------------------------------------------

def scenario_versions():
    v = json.load(open(SCENARIO))["versions"]
    return v["kernelPackage"], v["kernelVersion"], v["kernelRelease"]


def find_vmlinux(ctx):
    if os.environ.get("VMLINUX"):
        return os.environ["VMLINUX"]
    fetch = os.path.join(REPO, "corpora/generate/fetch-dbg-vmlinux")
    log("the recorded kernel's debug vmlinux, from %s (a ~280 MB download the first time)" % os.path.relpath(fetch, REPO))
    r = subprocess.run([fetch, SCENARIO], capture_output=True, text=True)
    if r.returncode != 0:
        raise Setup("no debug vmlinux: set VMLINUX=PATH (%s)" % r.stderr.strip())
    return r.stdout.strip()


def llvm_blocks(path):
    """llvm-symbolizer's answer per address: the lines between blank lines."""
    return [b.strip("\n").split("\n") for b in open(path, errors="replace").read().split("\n\n") if b.strip()]


def normalise(block):
    """Function names without compiler suffixes, paths relative to the build directory."""
    out = []
    for i, line in enumerate(block):
        if i % 2 == 0:
            out.append(re.sub(r"\.(isra|constprop|part|cold|llvm)(\.\d+)?", "", line))
        else:
            out.append(re.sub(r"^(debian/build/[^/]+/|/build/[^ ]*?/linux-[0-9.]+/)", "", line))
    return out


def symbolize_suite(ctx):
    vmlinux = find_vmlinux(ctx)
    if not os.access(vmlinux, os.R_OK):
        raise Setup("cannot read the vmlinux %s" % vmlinux)
    ctx.vmlinux = vmlinux
    n = ctx.sizes["SYM_ADDRESSES"]
    gen = os.path.join(HERE, "generate-addresses.py")
    tag = hashlib.sha256(os.path.realpath(vmlinux).encode()).hexdigest()[:8]
    many = generated(ctx, ctx.path("addresses-%s-%d.txt" % (tag, n)),
                     ["python3", gen, "--elf", vmlinux, "--count", str(n), "-o", ctx.path("addresses-%s-%d.txt" % (tag, n))], [gen])
    one = generated(ctx, ctx.path("addresses-%s-1.txt" % tag),
                    ["python3", gen, "--elf", vmlinux, "--count", "1", "-o", ctx.path("addresses-%s-1.txt" % tag)], [gen])
    warm([vmlinux, many])
    llvm = os.environ.get("LLVM_SYMBOLIZER") or "llvm-symbolizer"
    # llvm-symbolizer prints its name on one line and its version on the next.
    llvm_version = [l.strip() for l in tool_output([llvm, "--version"]).splitlines() if "version" in l]
    ctx.tools["llvm-symbolizer"] = "%s (%s)" % (llvm, llvm_version[0] if llvm_version else "version unknown")
    ctx.tools["eu-addr2line"] = version_of(["eu-addr2line", "--version"])
    ctx.tools["vmlinux"] = "%s (%d MiB)" % (os.path.basename(vmlinux), os.path.getsize(vmlinux) >> 20)
    vm_desc = os.path.basename(vmlinux)

    def answers(count, name):
        def check(out):
            got = len(llvm_blocks(out))
            if got != count:
                raise SanityError("symbolize: %s answered %d of %d addresses" % (name, got, count))
        return check

    a = Command("lockscan", [ctx.bin, "symbolize", "--vmlinux", vmlinux, "--addresses", "--output-style", "llvm", many],
                ctx.path("sym.lockscan.txt"), check=answers(n, "lockscan"))
    b = Command("llvm-symbolizer", [llvm, "--obj=" + vmlinux, "--inlining"], ctx.path("sym.llvm.txt"), stdin=many,
                check=answers(n, "llvm-symbolizer"))
    e = ctx.compare("symbolize.addresses", "symbolize --addresses vs llvm-symbolizer --inlining",
                    "%d random text addresses of %s (generate-addresses.py)" % (n, vm_desc),
                    {"addresses": n, "vmlinux": vm_desc}, a, b,
                    goals=[{"metric": "wall_ratio", "at_most": 0.5}, {"metric": "cpu_ratio", "at_most": 0.5},
                           {"metric": "rss_ratio", "at_most": 1.0}],
                    checked=["wall_ratio", "cpu_ratio", "rss_ratio"])
    busy = ctx.compare("symbolize.addresses.neighbour", "symbolize --addresses vs llvm-symbolizer --inlining, with a neighbour",
                "the same %d addresses, one core kept busy by another process" % n,
                {"addresses": n, "vmlinux": vm_desc, "neighbour": 1}, a, b,
                goals=[{"metric": "wall_ratio", "at_most": 0.5}], checked=["wall_ratio", "cpu_ratio"], neighbour=True)
    ours, theirs = llvm_blocks(a.stdout), llvm_blocks(b.stdout)
    unknown = sum(1 for x in theirs if x and x[0].startswith("??"))
    if unknown * 10 > n:
        raise SanityError("symbolize: llvm-symbolizer knew no function for %d of %d addresses" % (unknown, n))
    agree = sum(normalise(x) == normalise(y) for x, y in zip(ours, theirs))
    e["sanity"] = "both answered all %d addresses; %d answers (function chain and file:line with inlines) agree" % (n, agree)
    if agree < n:
        e["sanity"] += "; %d differ (see %s and %s)" % (n - agree, a.stdout, b.stdout)
    busy["sanity"] = ("both answered all %d addresses in every run; the answers compared under symbolize.addresses "
                      "are this comparison's last run's" % n)

    def one_answer(name):
        def check(out):
            lines = open(out, errors="replace").read().split("\n")
            if len(lines) < 2 or lines[0].startswith("??") or ":" not in lines[1]:
                raise SanityError("symbolize: %s gave no function and file:line for the address: %r" % (name, lines[:2]))
        return check

    address = open(one).read().strip()
    a = Command("lockscan", [ctx.bin, "symbolize", "--vmlinux", vmlinux, "--addresses", "--output-style", "gnu", one],
                ctx.path("sym1.lockscan.txt"), check=one_answer("lockscan"))
    b = Command("eu-addr2line", ["eu-addr2line", "-f", "-i", "-e", vmlinux, address], ctx.path("sym1.eu.txt"),
                check=one_answer("eu-addr2line"))
    e = ctx.compare("symbolize.one-address", "symbolize --addresses vs eu-addr2line -f -i, one address (start-up)",
                    "1 address of %s" % vm_desc, {"addresses": 1, "vmlinux": vm_desc}, a, b,
                    goals=[{"metric": "wall_ratio", "at_most": 1.0}], checked=["wall_ratio", "cpu_ratio"])
    e["sanity"] = "both named %s for %s" % (open(a.stdout).readline().strip(), address)

    trace_suite(ctx, vmlinux)


def trace_suite(ctx, vmlinux):
    cid = "symbolize.log"
    _, version, release = scenario_versions()
    if release not in os.path.basename(vmlinux):
        return ctx.skip(cid, "the log is from %s, the vmlinux is %s" % (release, os.path.basename(vmlinux)))
    choice = os.environ.get("DECODE_STACKTRACE", "")
    if choice == "skip":
        return ctx.skip(cid, "DECODE_STACKTRACE=skip")
    if choice:
        decode = choice
        ctx.tools["decode_stacktrace.sh"] = "%s (DECODE_STACKTRACE)" % choice
    else:
        series = ".".join(release.split(".")[:2])
        r = subprocess.run([os.path.join(HERE, "fetch-decode-stacktrace"), series, version, ctx.path("decode-stacktrace")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            return ctx.skip(cid, "no decode_stacktrace.sh to compare with: " + r.stderr.strip())
        decode = r.stdout.strip()
        ctx.tools["decode_stacktrace.sh"] = " ".join(open(ctx.path("decode-stacktrace", "SOURCE")).read().split())

    # The call trace of a real console capture, up to its TRACE_FRAMES-th frame.
    trace = ctx.path("trace.log")
    frames = 0
    with open(TRACE_LOG, "rb") as src, open(trace, "wb") as out:
        started = False
        for line in src:
            line = line.replace(b"\r", b"")
            started = started or b"Call Trace:" in line
            if started:
                out.write(line)
                frames += bool(FRAME.search(line))
                if frames == TRACE_FRAMES:
                    break
    if frames == 0:
        raise SanityError("%s: no call trace in %s" % (cid, TRACE_LOG))

    def annotated(name, pattern):
        """A check that `pattern` (a frame with its file:line, in the tool's own form) covers 90% of the frames."""
        def check(out):
            got = sum(1 for l in open(out, "rb") if re.search(pattern, l))
            if got * 10 < frames * 9:
                raise SanityError("%s: %s gave a file:line to %d of %d frames" % (cid, name, got, frames))
        return check

    a = Command("lockscan", [ctx.bin, "symbolize", "--vmlinux", vmlinux, "--modules", TRACE_MODULES, trace],
                ctx.path("log.lockscan.txt"), check=annotated("lockscan", rb"\+0x[0-9a-f]+/0x[0-9a-f]+.*\xc2\xab\S+:[0-9]+"))
    b = Command("decode_stacktrace.sh", ["bash", decode, vmlinux, "auto", TRACE_MODULES], ctx.path("log.decode.txt"),
                stdin=trace, check=annotated("decode_stacktrace.sh", rb"[\w.]+ \(\S+:[0-9]+"))
    e = ctx.compare(cid, "symbolize LOG vs scripts/decode_stacktrace.sh VMLINUX auto MODULES < LOG",
                    "a %d-frame call trace of a real console capture (corpora/generated/abba-deadlock, module frames "
                    "included)" % frames, {"frames": frames, "vmlinux": os.path.basename(vmlinux)}, a, b,
                    goals=[], checked=["wall_ratio", "cpu_ratio"])
    e["sanity"] = "both gave a file:line to at least 90%% of the %d frames" % frames


# --------------------------------------------------------------------------
# timeline: lockscan timeline --json vs LC_ALL=C sort -m of the same files
# --------------------------------------------------------------------------

def timeline_suite(ctx):
    n = ctx.sizes["TIMELINE_RECORDS"]
    gen = os.path.join(HERE, "generate-timeline-sources.py")
    d = generated(ctx, ctx.path("timeline-%d" % n), ["python3", gen, "--records", str(n), "-o", ctx.path("timeline-%d" % n)], [gen])
    files = [os.path.join(d, f) for f in ("guest-dmesg.log", "host-kern.log", "libvirtd.log", "qmp-events.json")]
    warm(files)
    total = sum(os.path.getsize(f) for f in files)
    placed = {}

    def lockscan_check(out):
        try:
            events = json.load(open(out))["events"]
        except (ValueError, KeyError, TypeError) as err:
            raise SanityError("timeline: lockscan's --json output is not a timeline: %s" % err)
        got = sum(1 for e in events if e.get("time"))
        placed.setdefault("n", got)
        if got == 0 or got != placed["n"]:
            raise SanityError("timeline: lockscan placed %d events, the first run %d" % (got, placed["n"]))

    def sort_check(out):
        if os.path.getsize(out) != total:
            raise SanityError("timeline: sort -m wrote %d bytes of the %d it was given" % (os.path.getsize(out), total))

    a = Command("lockscan", [ctx.bin, "timeline", "--guest", files[0], "--host", files[1], "--libvirt", files[2],
                             "--qmp", files[3], "--anchor", TIMELINE_ANCHOR, "--json"],
                ctx.path("timeline.lockscan.json"), ok_status=(0, 1), check=lockscan_check)
    b = Command("sort -m", ["sort", "-m"] + files, ctx.path("timeline.sorted.txt"), env={"LC_ALL": "C"}, check=sort_check)
    ctx.tools["sort"] = version_of(["sort", "--version"])
    e = ctx.compare("timeline", "timeline --json vs LC_ALL=C sort -m of the same files",
                    "%d records in 4 sources, %d MiB (generate-timeline-sources.py)" % (n, total >> 20),
                    {"records": n}, a, b,
                    goals=[{"metric": "wall_ratio", "at_most": 2.0}],
                    checked=["wall_ratio", "cpu_ratio", "lockscan_peak_rss_mib"])
    e["sanity"] = "sort -m wrote all %d bytes every run; lockscan placed %d events every run" % (total, placed["n"])
    os.unlink(b.stdout)   # as large as the input


# --------------------------------------------------------------------------

def machine():
    cpu = "unknown"
    try:
        for line in open("/proc/cpuinfo"):
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"nproc": os.cpu_count(), "cpu": cpu, "kernel": platform.release()}


def commit():
    r = subprocess.run(["git", "-C", REPO, "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    c = r.stdout.strip() or "unknown"
    # The run's own outputs (results/, a baseline it rewrote) do not make the code it measured dirty.
    dirty = subprocess.run(["git", "-C", REPO, "status", "--porcelain", "--untracked-files=no", "--", ".",
                            ":!Benchmarks/results", ":!Benchmarks/baseline.json"],
                           capture_output=True, text=True).stdout.strip()
    return c + ("+dirty" if dirty else "")


def main():
    ap = argparse.ArgumentParser(prog="Benchmarks/run", description=__doc__.split("\n\n")[0]
                                 + "\n\n" + __doc__.split("\n\n")[-1],
                                 formatter_class=argparse.RawDescriptionHelpFormatter,
                                 epilog="Size knobs (environment): " + ", ".join(
                                     "%s (default %d, --quick %d)" % (k, f, q) for k, (f, q) in SIZES.items())
                                 + "; BENCH_DIR (scratch), VMLINUX, LOCKSCAN, LLVM_SYMBOLIZER, DECODE_STACKTRACE "
                                 "(a decode_stacktrace.sh, or 'skip'; default: fetched from Debian's linux-source).")
    ap.add_argument("--quick", action="store_true", help="smaller inputs and fewer pairs: a smoke run of 1-2 minutes")
    ap.add_argument("--no-timing", action="store_true",
                    help="run every command once and check its output; time nothing (what the test suite runs)")
    ap.add_argument("--update-baseline", action="store_true", help="rewrite baseline.json with this run's figures")
    ap.add_argument("--only", default=",".join(SUITES), help="comma-separated subset of %s" % ",".join(SUITES))
    ap.add_argument("--pairs", type=int, help="timed pairs per comparison (env PAIRS)")
    args = ap.parse_args()
    only = [s for s in args.only.split(",") if s]
    unknown = [s for s in only if s not in SUITES]
    if unknown or not only:
        ap.error("--only takes a comma-separated subset of %s" % ",".join(SUITES))
    if args.pairs is not None and args.pairs < 1:
        ap.error("--pairs must be at least 1")
    if args.update_baseline and (args.no_timing or args.quick):
        ap.error("--update-baseline records a full timed run: not with --quick or --no-timing")

    base_path = os.path.join(HERE, "baseline.json")
    try:
        ctx = Context(args)
        old = baseline.load(base_path) if os.path.exists(base_path) else None
        start = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
                 "load_start": pairs.load_average()}
        ctx.tools["lockscan"] = version_of([ctx.bin, "--version"]) + ", commit " + commit()
        for s in only:
            {"scan": scan_suite, "symbolize": symbolize_suite, "timeline": timeline_suite}[s](ctx)
    except (Setup, SanityError, baseline.SchemaError) as err:
        print("error: %s" % err, file=sys.stderr)
        return 2
    except subprocess.CalledProcessError as err:
        print("error: %s exited with status %d" % (shlex.join(map(str, err.cmd)), err.returncode), file=sys.stderr)
        return 2

    if args.no_timing:
        print("no-timing run: %d comparisons ran once with their outputs checked%s; baseline.json %s" % (
            len(ctx.comparisons), "".join("; skipped %s (%s)" % (s["id"], s["why"]) for s in ctx.skipped),
            "is valid" if old is not None else "is missing"))
        return 0

    loads = [x for x in ctx.loads if x is not None]
    results = {
        "schema": baseline.SCHEMA,
        "date": start["date"],
        "commit": commit(),
        "machine": machine(),
        "settings": {"pairs": ctx.sizes["PAIRS"], "warmup_pairs": 1, "quick": args.quick, "sizes": ctx.sizes},
        "load_average": {"start": start["load_start"], "end": pairs.load_average(),
                         "during": pairs.spread(loads) if loads else None},
        "tools": ctx.tools,
        "comparisons": ctx.comparisons,
        "skipped": ctx.skipped,
    }
    for c in ctx.comparisons:
        for g in c["goals"]:
            # A ratio's goal is about its median; a peak RSS is a bound "at any
            # size", so its largest run counts.
            figure = baseline.metric(c, g["metric"])
            g["measured"] = figure["max"] if g["metric"] in baseline.SIDE_METRICS else figure["median"]
            g["met"] = g["measured"] <= g["at_most"]
    verdicts = baseline.compare(results, old)
    results["baseline"] = verdicts
    os.makedirs(os.path.join(HERE, "results"), exist_ok=True)
    with open(os.path.join(HERE, "results", "latest.json"), "w") as f:
        json.dump(results, f, indent=2)
        f.write("\n")
    md = report.markdown(results)
    with open(os.path.join(HERE, "results", "latest.md"), "w") as f:
        f.write(md)
    print(report.terminal(results))
    if args.update_baseline:
        baseline.save(base_path, baseline.updated(old, results))
        print("baseline.json rewritten from this run")
        return 0
    return 1 if any(v["verdict"] == "REGRESSION" for v in verdicts) else 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except Exception:
        # Exit 1 means a regression; a crash of this script must not look like one.
        import traceback
        traceback.print_exc()
        sys.exit(2)
