#!/usr/bin/env python3
"""measure.py RUNS OUT STDIN CMD...: run CMD RUNS times with stdin from STDIN
and stdout to OUT (stderr discarded), and print "median-seconds peak-KiB":
wall clock to the microsecond, peak RSS from wait4. Shared by the
benchmark scripts, which compare tools run exactly alike."""
import os
import statistics
import sys
import time

runs, out, stdin, cmd = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4:]
times, peak = [], 0
for _ in range(runs):
    with open(stdin, "rb") as i, open(out, "wb") as o, open(os.devnull, "wb") as e:
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            os.dup2(i.fileno(), 0)
            os.dup2(o.fileno(), 1)
            os.dup2(e.fileno(), 2)
            try:
                os.execvp(cmd[0], cmd)
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        times.append(time.perf_counter() - start)
        peak = max(peak, usage.ru_maxrss)
print(f"{statistics.median(times):.3f} {peak}")
