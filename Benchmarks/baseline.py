#!/usr/bin/env python3
"""The committed baseline (Benchmarks/baseline.json) and the rule that says
when a run is worse than it beyond the noise.

Every checked figure is lower-is-better: a ratio lockscan/peer taken pair by
pair in one run (so a faster or slower machine cancels out), or lockscan's own
peak RSS. The baseline keeps, per comparison and figure, the min, median and
max of the pairs of the run that recorded it, and the input sizes it was
measured on.

The rule: a new median is a REGRESSION when it lies above the baseline's max
widened by the baseline's own spread (max - min), and by at least MARGIN of its
median. The spread is what the machine's noise did to the same figure in the
recorded run; a second spread on top is room for a run as noisy in the other
direction; MARGIN keeps a figure whose spread was near zero (peak RSS, a quiet
run) from failing on a few percent. A median below the baseline's min by the
same widening is reported as IMPROVED, with a hint to record it. Figures whose
inputs differ from the baseline's (another size, --quick) are not compared,
and the run says so.

  baseline.py validate FILE            check a baseline file's schema
  baseline.py compare LATEST BASELINE  print the verdicts; exit 1 on a regression
"""
import json
import sys

SCHEMA = 1
MARGIN = 0.10
SIDE_METRICS = {"lockscan_peak_rss_mib": ("lockscan", "peak_rss_mib")}


class SchemaError(Exception):
    """baseline.json is not what this code writes."""


def metric(comparison, name):
    """A figure of a timed comparison as {min, median, max}."""
    timing = comparison["timing"]
    if name in SIDE_METRICS:
        who, what = SIDE_METRICS[name]
        return timing[who][what]
    return timing[name]


def validate(data):
    def need(cond, what):
        if not cond:
            raise SchemaError("baseline.json: " + what)
    need(isinstance(data, dict) and data.get("schema") == SCHEMA, "schema must be %d" % SCHEMA)
    need(isinstance(data.get("recorded"), dict), "'recorded' must describe the run it came from")
    comparisons = data.get("comparisons")
    need(isinstance(comparisons, dict) and comparisons, "'comparisons' must be a non-empty object")
    for cid, c in comparisons.items():
        need(isinstance(c, dict) and isinstance(c.get("input"), dict), "%s: needs its 'input' sizes" % cid)
        figures = c.get("metrics")
        need(isinstance(figures, dict) and figures, "%s: needs 'metrics'" % cid)
        for name, s in figures.items():
            need(isinstance(s, dict) and set(s) == {"min", "median", "max"}, "%s.%s: needs min, median, max" % (cid, name))
            need(all(isinstance(v, (int, float)) and v >= 0 for v in s.values()),
                 "%s.%s: figures must be non-negative numbers" % (cid, name))
            need(s["min"] <= s["median"] <= s["max"], "%s.%s: needs min <= median <= max" % (cid, name))
    return data


def load(path):
    try:
        with open(path) as f:
            return validate(json.load(f))
    except ValueError as err:
        raise SchemaError("%s is not JSON: %s" % (path, err))


def save(path, data):
    validate(data)
    with open(path, "w") as f:
        json.dump(data, f, indent=2, sort_keys=True)
        f.write("\n")


def limits(b):
    """(improved below, regression above) for a baseline figure {min, median, max}."""
    widen = max(b["max"] - b["min"], MARGIN * b["median"])
    return b["min"] - widen, b["max"] + widen


def compare(results, base):
    """One verdict per checked figure of every timed comparison."""
    verdicts = []
    for c in results["comparisons"]:
        for name in c["checked"]:
            new = metric(c, name)
            v = {"id": c["id"], "metric": name, "median": new["median"], "min": new["min"], "max": new["max"]}
            entry = (base or {}).get("comparisons", {}).get(c["id"])
            if base is None:
                v.update(verdict="not compared", why="there is no baseline.json")
            elif entry is None or name not in entry["metrics"]:
                v.update(verdict="not compared", why="the baseline has no %s for %s" % (name, c["id"]))
            elif entry["input"] != c["input"]:
                v.update(verdict="not compared", why="inputs differ from the baseline's %s" % json.dumps(entry["input"]))
            else:
                b = entry["metrics"][name]
                low, high = limits(b)
                v["baseline"] = b
                v["limit"] = high
                if new["median"] > high:
                    v["verdict"] = "REGRESSION"
                elif new["median"] < low:
                    v["verdict"] = "IMPROVED"
                else:
                    v["verdict"] = "ok"
            verdicts.append(v)
    return verdicts


def updated(old, results):
    """The baseline with this run's comparisons replacing theirs; others kept."""
    data = old or {"schema": SCHEMA, "comparisons": {}}
    data = {"schema": SCHEMA, "comparisons": dict(data["comparisons"])}
    for c in results["comparisons"]:
        data["comparisons"][c["id"]] = {"input": c["input"], "metrics": {n: metric(c, n) for n in c["checked"]}}
    data["recorded"] = {"date": results["date"], "commit": results["commit"], "pairs": results["settings"]["pairs"],
                        "load_average": results["load_average"], "machine": results["machine"]}
    return data


def line(v):
    """A verdict as one printed line."""
    head = "%-10s %s %s: median %.3f (min %.3f, max %.3f)" % (
        v["verdict"], v["id"], v["metric"], v["median"], v["min"], v["max"])
    if "baseline" in v:
        b = v["baseline"]
        tail = "; baseline median %.3f (min %.3f, max %.3f), regression above %.3f" % (
            b["median"], b["min"], b["max"], v["limit"])
        if v["verdict"] == "IMPROVED":
            tail += " (record it with --update-baseline)"
        return head + tail
    return head + "; " + v["why"]


def main(argv):
    if len(argv) == 3 and argv[1] == "validate":
        try:
            load(argv[2])
        except (SchemaError, OSError) as err:
            print("invalid: %s" % err)
            return 1
        print("valid")
        return 0
    if len(argv) == 4 and argv[1] == "compare":
        try:
            results = json.load(open(argv[2]))
            verdicts = compare(results, load(argv[3]))
        except (SchemaError, OSError, ValueError, KeyError) as err:
            print("error: %s" % err)
            return 2
        for v in verdicts:
            print(line(v))
        return 1 if any(v["verdict"] == "REGRESSION" for v in verdicts) else 0
    print(__doc__.strip().split("\n\n")[-1])
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv))
