"""A run's results (results/latest.json) as Markdown (results/latest.md) and
as the summary printed on the terminal. Only formatting: every figure and
verdict is computed by bench.py and baseline.py."""
import baseline


def spread(s, fmt="%.2f"):
    return (fmt + " (" + fmt + "–" + fmt + ")") % (s["median"], s["min"], s["max"])


def goals(c):
    out = []
    for g in c["goals"]:
        out.append("%s ≤ %g: %s" % (g["metric"], g["at_most"], "met" if g["met"] else "**missed**"))
    return "; ".join(out) or "—"


def load_text(r):
    la = r["load_average"]
    during = la["during"]
    text = "%s at the start, %s at the end" % (la["start"], la["end"])
    if during:
        text += "; during the timed runs %.2f (%.2f–%.2f)" % (during["median"], during["min"], during["max"])
    return text


def markdown(r):
    m = r["machine"]
    lines = [
        "# lockscan benchmarks",
        "",
        "Written by `Benchmarks/run%s` on %s, lockscan commit %s. Every ratio is lockscan's figure over its peer's, "
        "taken pair by pair over %d alternating pairs (A B A B …, after one untimed pair) on the same input in the "
        "same run: median (min–max). Below 1 lockscan is faster or smaller." % (
            " --quick" if r["settings"]["quick"] else "", r["date"], r["commit"], r["settings"]["pairs"]),
        "",
        "| | |",
        "|---|---|",
        "| machine | nproc=%s, %s, Linux %s |" % (m["nproc"], m["cpu"], m["kernel"]),
        "| load average (1 min) | %s |" % load_text(r),
    ]
    for tool, version in sorted(r["tools"].items()):
        lines.append("| %s | %s |" % (tool, version))
    lines += [
        "",
        "| comparison | input | lockscan s | peer s | wall ratio | CPU ratio | lockscan peak RSS MiB | RSS ratio | goals |",
        "|---|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for c in r["comparisons"]:
        t = c["timing"]
        lines.append("| %s vs %s | %s | %.3f | %.3f | %s | %s | %.1f | %s | %s |" % (
            c["id"], c["peer"], c["input_desc"], t["lockscan"]["wall_s"]["median"], t["peer"]["wall_s"]["median"],
            spread(t["wall_ratio"]), spread(t["cpu_ratio"]), t["lockscan"]["peak_rss_mib"]["max"],
            spread(t["rss_ratio"]), goals(c)))
    lines += ["", "Sanity checks (every run's output, both sides):", ""]
    for c in r["comparisons"]:
        lines.append("- %s: %s" % (c["id"], c["sanity"]))
    for s in r["skipped"]:
        lines.append("- %s: skipped: %s" % (s["id"], s["why"]))
    lines += ["", "Against `Benchmarks/baseline.json` (rule in `baseline.py`):", "", "```"]
    lines += [baseline.line(v) for v in r["baseline"]]
    lines += ["```", "", "Commands:", "", "```"]
    for c in r["comparisons"]:
        lines.append("%s: %s" % (c["id"], c["lockscan_cmd"]))
        lines.append("%s  %s" % (" " * len(c["id"]), c["peer_cmd"]))
    lines += ["```", ""]
    return "\n".join(lines)


def terminal(r):
    lines = ["", "load average: " + load_text(r), ""]
    for c in r["comparisons"]:
        t = c["timing"]
        lines.append("%-22s lockscan/%-20s wall %s  cpu %s  rss %s  lockscan %.3f s, %.1f MiB" % (
            c["id"], c["peer"], spread(t["wall_ratio"]), spread(t["cpu_ratio"]), spread(t["rss_ratio"]),
            t["lockscan"]["wall_s"]["median"], t["lockscan"]["peak_rss_mib"]["max"]))
        for g in c["goals"]:
            lines.append("%24s goal %s ≤ %g: %s" % ("", g["metric"], g["at_most"], "met" if g["met"] else "MISSED"))
    for s in r["skipped"]:
        lines.append("%-22s skipped: %s" % (s["id"], s["why"]))
    lines.append("")
    lines += [baseline.line(v) for v in r["baseline"]]
    return "\n".join(lines)
