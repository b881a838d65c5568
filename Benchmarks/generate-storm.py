#!/usr/bin/env python3
"""Turn a generated dmesg into a soft-lockup storm, for the scan benchmark.

A CPU that stays stuck repeats its soft-lockup report every ~28 s for as long
as it stays stuck, so real logs have thousands of them between ordinary
lines. This is the case the scan's per-line cost matters most for: every
header opens a window in which every following line becomes a record. The
tool inserts, after every EVERY-th line of BASE (a file written by
generate-dmesg.py), either a whole soft-lockup report as generate-dmesg.py
writes one (header, modules, banner, registers, call trace) or, with
--lone, the header line alone, each stamped with the stamp of the line it
follows. With --stuck every report is the same CPU's, task's and stack's,
its "stuck for" growing by 26 s a time, as one CPU that never recovers
prints it: every report joins the one before into one incident, the case
where what a scan keeps per report shows. Fixed seed: the same arguments
always give the same bytes.

Usage: generate-storm.py --base dmesg-20M.log [--every 480] [--lone | --stuck] -o FILE
"""

import argparse
import importlib.util
import os
import random
import re

HERE = os.path.dirname(os.path.abspath(__file__))


def load_generator():
    spec = importlib.util.spec_from_file_location("generate_dmesg", os.path.join(HERE, "generate-dmesg.py"))
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--base", required=True, help="a dmesg written by generate-dmesg.py")
    ap.add_argument("--every", type=int, default=480, help="lines of BASE between two reports (default 480)")
    ap.add_argument("--lone", action="store_true", help="insert only the header line of each report")
    ap.add_argument("--stuck", action="store_true", help="every report is one stuck CPU's, repeated")
    ap.add_argument("--seed", type=int, default=20240229, help="RNG seed (default %(default)s)")
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    if a.every < 1:
        ap.error("--every must be >= 1")
    if a.lone and a.stuck:
        ap.error("--lone and --stuck are two kinds of storm; give one")
    gen = load_generator()
    r = random.Random(a.seed)
    reports = 0
    stuck = gen.b_soft_lockup(r) if a.stuck else None
    with open(a.base, "rb") as src, open(a.output, "wb") as out:
        for n, line in enumerate(src, 1):
            out.write(line)
            if n % a.every or not line.startswith(b"[") or b"]" not in line:
                continue
            stamp = line[: line.index(b"]") + 1]
            if stuck:
                seconds = "stuck for %ds!" % (22 + 26 * reports)
                body = [re.sub(r"stuck for \d+s!", seconds, stuck[0])] + stuck[1:]
            else:
                body = gen.b_soft_lockup(r)
            for message in body[:1] if a.lone else body:
                out.write(stamp + b" " + message.encode() + b"\n")
            reports += 1
    print("generate-storm: %d soft-lockup %s inserted into %s"
          % (reports, "headers" if a.lone else "reports of one stuck CPU" if a.stuck else "reports", a.output))


if __name__ == "__main__":
    main()
