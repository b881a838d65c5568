"""Alternating-pair timing of lockscan against a peer.

The machines this runs on are shared and their speed drifts within seconds, so
a ratio of two separately taken medians can be off by more than the effect
being measured. Here the two commands run in turn, A B A B ..., and the ratio
A/B is taken pair by pair: both halves of a pair saw nearly the same machine.
What is reported is min, median and max of those ratios (and of each side's
own figures); the spread says how noisy the machine was.

Every run's output goes to a file and is handed to a check before the next
run starts, so a peer that fails or stops early is an error, not a fast peer.
Each run's wall time is a monotonic clock around fork/exec and wait4; CPU time
and peak RSS are the kernel's own accounting of the reaped child.
"""

import os
import statistics
import time
from dataclasses import dataclass, field


@dataclass
class Command:
    """One side of a comparison: what to run and how to judge its output."""
    name: str
    argv: list
    stdout: str                          # every run writes here (truncated first)
    stdin: str = os.devnull
    env: dict = field(default_factory=dict)
    ok_status: tuple = (0,)              # exit statuses that mean "ran to the end"
    check: object = None                 # check(stdout_path) -> None, raises SanityError


class SanityError(Exception):
    """A tool's output shows it did not do the work (wrong count, empty file, bad status)."""


@dataclass
class Run:
    wall: float
    cpu: float
    peak_kib: int


def load_average():
    """The 1-minute load average, or None where /proc is not there."""
    try:
        with open("/proc/loadavg") as f:
            return float(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        return None


def run_once(cmd):
    """Runs cmd once, checks its exit status and output, returns its figures."""
    env = dict(os.environ)
    env.update(cmd.env)
    with open(cmd.stdin, "rb") as i, open(cmd.stdout, "wb") as o, open(cmd.stdout + ".err", "wb") as e:
        start = time.perf_counter()
        pid = os.fork()
        if pid == 0:
            try:
                os.dup2(i.fileno(), 0)
                os.dup2(o.fileno(), 1)
                os.dup2(e.fileno(), 2)
                os.execvpe(cmd.argv[0], cmd.argv, env)
            finally:
                os._exit(127)
        _, status, usage = os.wait4(pid, 0)
        wall = time.perf_counter() - start
    if os.WIFSIGNALED(status):
        raise SanityError("%s was killed by signal %d%s" % (cmd.name, os.WTERMSIG(status), stderr_tail(cmd)))
    code = os.WEXITSTATUS(status)
    if code not in cmd.ok_status:
        raise SanityError("%s exited with status %d%s" % (cmd.name, code, stderr_tail(cmd)))
    if os.path.getsize(cmd.stdout) == 0:
        raise SanityError("%s wrote nothing to %s" % (cmd.name, cmd.stdout))
    if cmd.check is not None:
        cmd.check(cmd.stdout)
    return Run(wall, usage.ru_utime + usage.ru_stime, usage.ru_maxrss)


def stderr_tail(cmd):
    try:
        with open(cmd.stdout + ".err", "rb") as f:
            text = f.read()[-2000:].decode("utf-8", "replace").strip()
    except OSError:
        return ""
    return (":\n    " + text.replace("\n", "\n    ")) if text else ""


def spread(values):
    """min, median and max of a list of numbers."""
    return {"min": min(values), "median": statistics.median(values), "max": max(values)}


def ratio(a, b):
    return a / b if b > 0 else float("inf")


def alternate(a, b, pairs, warmup=1, loads=None):
    """Times a (lockscan) and b (its peer) in alternating pairs after `warmup` untimed pairs.

    Returns per-side spreads of wall, CPU and peak RSS, and spreads of the
    per-pair ratios a/b. `loads`, a list, collects the load average sampled
    before every run.
    """
    for _ in range(warmup):
        run_once(a)
        run_once(b)
    runs_a, runs_b = [], []
    for _ in range(pairs):
        if loads is not None:
            loads.append(load_average())
        runs_a.append(run_once(a))
        if loads is not None:
            loads.append(load_average())
        runs_b.append(run_once(b))
    return {
        "pairs": pairs,
        "wall_ratio": spread([ratio(x.wall, y.wall) for x, y in zip(runs_a, runs_b)]),
        "cpu_ratio": spread([ratio(x.cpu, y.cpu) for x, y in zip(runs_a, runs_b)]),
        "rss_ratio": spread([ratio(x.peak_kib, y.peak_kib) for x, y in zip(runs_a, runs_b)]),
        "lockscan": side(runs_a),
        "peer": side(runs_b),
    }


def side(runs):
    return {
        "wall_s": spread([r.wall for r in runs]),
        "cpu_s": spread([r.cpu for r in runs]),
        "peak_rss_mib": spread([r.peak_kib / 1024 for r in runs]),
    }
