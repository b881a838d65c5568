#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Write scenario.json: what boot.py recorded plus the events a correct
analyzer must report, read from the kernel's own headers in guest-console.log
(independently of lockscan).

    expect.py --partial WORK/scenario.partial.json CAPTURE_DIR

Each expected event: kind, line (the header's line in guest-console.log),
cpu, comm, pid (as the kernel printed them; null when the report has none),
topFunction (the function lockscan's title must end in), and where it helps
ripFunction, incidentCPUs, incidentLocks.  topFunction follows the
bug-tracker (syzkaller) convention for stalls and hangs: the frame just above
the dispatch point (kthread, syscall entry, work item) of the reported task,
past the locking and scheduling primitives — for these scenarios that is the
function of our module named below, which the script checks is really in
the printed stack of that report.
"""
import argparse
import json
import os
import re
import sys

TS = r"^(?:\[\s*\d+\.\d+\] ?)"
SOFT = re.compile(TS + r"watchdog: BUG: soft lockup - CPU#(\d+) stuck for (\d+)s! \[(.*):(\d+)\]")
RCU_SELF = re.compile(TS + r"rcu: INFO: (rcu_\w+) self-detected stall on CPU")
RCU_DET = re.compile(TS + r"rcu: INFO: (rcu_\w+) detected stalls on CPUs/tasks:")
RCU_CPU = re.compile(TS + r"rcu: \t(\d+)-")
RCU_STARVED = re.compile(TS + r"rcu: \w+ kthread starved for \d+ jiffies!.*->cpu=(\d+)")
HUNG = re.compile(TS + r"INFO: task (.*):(\d+) blocked for more than (\d+) seconds\.")
RT = re.compile(TS + r"sched: RT throttling activated")
SYSRQ_L = re.compile(TS + r"sysrq: Show backtrace of all active CPUs")
NMI_BT = re.compile(TS + r"NMI backtrace for cpu (\d+)")
CPULINE = re.compile(TS + r"CPU: (\d+) PID: (\d+) Comm: (\S+)")
LOCKMSG = re.compile(r"lockscan_abba: thread [AB] on CPU (\d+) takes lock [AB] \(([0-9a-f]+)\) then [AB] \(([0-9a-f]+)\)")
HEADER = re.compile(TS + r"(watchdog: BUG: soft lockup|rcu: INFO: |INFO: task |sysrq: |Kernel panic|lockscan: )")

# The function each report's title must end in (see the docstring), per
# scenario, kind and CPU ("*" = any CPU), and the function RIP points into.
TOP = {
    "soft-lockup": {("soft_lockup", "*"): ("lockscan_spin_thread", "lockscan_spin_forever"),
                    ("rcu_stall", "*"): ("lockscan_spin_thread", "lockscan_spin_forever")},
    "abba-deadlock": {("soft_lockup", 0): ("lockscan_abba_thread_b", "native_queued_spin_lock_slowpath"),
                      ("rcu_stall", 0): ("lockscan_abba_thread_b", "native_queued_spin_lock_slowpath"),
                      ("soft_lockup", 1): ("lockscan_abba_thread_a", "native_queued_spin_lock_slowpath"),
                      ("rcu_stall", 1): ("lockscan_abba_thread_a", "native_queued_spin_lock_slowpath")},
    "hung-task": {("hung_task", "*"): ("lockscan_hung_acquire", None)},
}
# Expectations lockscan did not meet when this generator was written: the
# test reports them instead of failing.  (scenario, kind, check) -> what
# lockscan said.
KNOWN_GAPS = {
    ("rq-lock", "rq_lock_deadlock", "holderCPU"):
        "lockscan reports holderCPU \"unknown\" and shows CPU 1 as \"running\": its stack "
        "(lockscan_rq_hold <- kprobe <- task_tick_fair <- scheduler_tick, in <IRQ>) holds "
        "CPU 1's runqueue lock, which scheduler_tick() takes around task_tick()",
}

# Kinds that must not be reported (besides what is expected).
FORBIDDEN = {
    "vm-pause": ["soft_lockup", "rcu_stall", "hung_task", "hard_lockup", "rt_throttling", "workqueue_lockup"],
    "sysrq-c-kaslr": ["soft_lockup", "rcu_stall", "hung_task", "hard_lockup"],
    "sysrq-l": ["soft_lockup", "rcu_stall", "hung_task", "hard_lockup"],
    "rt-throttling": ["soft_lockup", "rcu_stall", "hung_task", "hard_lockup"],
}


def block_end(lines, i):
    """The end (exclusive) of the report starting at line index i: the next header."""
    j = i + 1
    while j < len(lines) and not HEADER.match(lines[j]):
        j += 1
    return j


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--partial", required=True)
    ap.add_argument("capture")
    a = ap.parse_args()
    sc = json.load(open(a.partial))
    name = sc["scenario"]
    raw = open(os.path.join(a.capture, "guest-console.log"), "rb").read().decode("utf-8", "replace")
    lines = [l.rstrip("\r") for l in raw.split("\n")]
    top = TOP.get(name, {})
    events = []
    problems = []

    def functions(name_, kind, cpu):
        return top.get((kind, cpu)) or top.get((kind, "*")) or (None, None)

    def nmi_cpus(start, end):
        """CPUs whose backtraces follow a report: the CPU line of the report
        itself and every `NMI backtrace for cpu N`."""
        cpus = []
        for k in range(start, end):
            m = NMI_BT.match(lines[k]) or CPULINE.match(lines[k])
            if m and int(m.group(1)) not in cpus:
                cpus.append(int(m.group(1)))
        return cpus

    def check_in_stack(ev, start, end):
        if ev.get("topFunction"):
            text = "\n".join(lines[start:end])
            if not re.search(r"\b%s\+0x" % re.escape(ev["topFunction"]), text):
                problems.append("line %d: %s not in the printed stack" % (ev["line"], ev["topFunction"]))

    def comm_after(start, cpu=None):
        for k in range(start, min(start + 200, len(lines))):
            m = CPULINE.match(lines[k])
            if m and (cpu is None or int(m.group(1)) == cpu):
                return m.group(3), int(m.group(2))
        return None, None

    def rq_lock_event(i):
        """rq-lock: the sysrq-l dump the holder asked for shows the waiter
        spinning on a runqueue lock (double_rq_lock here) and the holder in
        lockscan_rq_hold under task_tick_fair <- scheduler_tick, which holds
        its CPU's rq lock."""
        starts = [k for k in range(i + 1, block_end(lines, i)) if NMI_BT.match(lines[k])]
        waiter = holder = None
        for n, k in enumerate(starts):
            end = starts[n + 1] if n + 1 < len(starts) else block_end(lines, i)
            text = "\n".join(lines[k:end])
            cpu = int(NMI_BT.match(lines[k]).group(1))
            comm, pid = comm_after(k + 1, cpu)
            if "lockscan_rq_hold+" in text:
                holder = (cpu, comm)
            else:
                for f in ("double_rq_lock", "raw_spin_rq_lock_nested", "task_rq_lock", "__task_rq_lock"):
                    if re.search(r"\b%s\+0x" % f, text):
                        waiter = (k, cpu, comm, pid, f)
                        break
        if waiter is None:
            problems.append("rq-lock: no CPU caught spinning on a runqueue lock in the sysrq-l dump")
            return
        k, cpu, comm, pid, f = waiter
        # No bug-tracker title convention exists for this kind: the checks are
        # the waiting CPU, where it waits, and the holder.
        ev = {"kind": "rq_lock_deadlock", "line": k + 1, "cpu": cpu, "comm": comm, "pid": pid,
              "topFunction": None, "waitingIn": f}
        if holder:
            ev["holderCPU"] = holder[0]
            ev["holderFunction"] = "lockscan_rq_hold"
            ev["incidentCPUs"] = sorted({cpu, holder[0]})
        events.append(ev)

    for i, l in enumerate(lines):
        m = SOFT.match(l)
        if m:
            cpu = int(m.group(1))
            f, rip = functions(name, "soft_lockup", cpu)
            ev = {"kind": "soft_lockup", "line": i + 1, "cpu": cpu, "comm": m.group(3), "pid": int(m.group(4)),
                  "stuckSeconds": int(m.group(2)), "topFunction": f}
            if rip:
                ev["ripFunction"] = rip
            end = block_end(lines, i)
            if name == "abba-deadlock" and len(nmi_cpus(i, end)) >= 2:
                ev["incidentCPUs"] = sorted(nmi_cpus(i, end))
            check_in_stack(ev, i, end)
            events.append(ev)
            continue
        m = RCU_SELF.match(l) or RCU_DET.match(l)
        if m:
            stalled = []
            for k in range(i + 1, min(i + 6, len(lines))):
                c = RCU_CPU.match(lines[k])
                if c:
                    stalled.append(int(c.group(1)))
            cpu = stalled[0] if stalled else None
            end = block_end(lines, i)
            starved = None
            if cpu is None:
                # "All QSes seen" variant: no CPU listed; the grace-period
                # kthread is starved and the kernel dumps the CPU it last ran
                # on ("rcu: Stack dump where RCU GP kthread last ran:").
                for k in range(i + 1, end):
                    c = RCU_STARVED.match(lines[k])
                    if c:
                        starved = int(c.group(1))
                        break
                if starved is not None and any("Stack dump where RCU GP kthread last ran" in x for x in lines[i:end]):
                    cpu = starved
            comm, pid = comm_after(i + 1, cpu)
            f, rip = functions(name, "rcu_stall", cpu)
            ev = {"kind": "rcu_stall", "line": i + 1, "cpu": cpu, "comm": comm, "pid": pid,
                  "detection": "self-detected" if "self-detected" in l else "detected",
                  "stalledCPUs": stalled, "topFunction": f}
            if starved is not None:
                ev["kthreadStarvedOnCPU"] = starved
            if rip:
                ev["ripFunction"] = rip
            # lockscan's incident holds the CPUs whose stacks came with the
            # report when two or more did.
            if name == "abba-deadlock" and len(nmi_cpus(i, end)) >= 2:
                ev["incidentCPUs"] = sorted(nmi_cpus(i, end))
            check_in_stack(ev, i, end)
            events.append(ev)
            continue
        m = HUNG.match(l)
        if m:
            f, _ = functions(name, "hung_task", "*")
            ev = {"kind": "hung_task", "line": i + 1, "cpu": None, "comm": m.group(1), "pid": int(m.group(2)),
                  "blockedSeconds": int(m.group(3)), "topFunction": f}
            check_in_stack(ev, i, block_end(lines, i))
            events.append(ev)
            continue
        if RT.match(l):
            events.append({"kind": "rt_throttling", "line": i + 1, "cpu": None, "comm": None, "pid": None,
                           "topFunction": None})
            continue
        if SYSRQ_L.match(l):
            cpus = []
            comms = {}
            for k in range(i + 1, min(i + 400, len(lines))):
                n = NMI_BT.match(lines[k])
                if n:
                    c = int(n.group(1))
                    cpus.append(c)
                    cm, _ = comm_after(k + 1, c)
                    comms[str(c)] = cm
            events.append({"kind": "cpu_backtraces", "line": i + 1, "cpu": None, "comm": None, "pid": None,
                           "topFunction": None, "incidentCPUs": sorted(set(cpus)), "incidentComms": comms})
            if name == "rq-lock":
                rq_lock_event(i)

    if name == "abba-deadlock":
        locks = {}
        for l in lines:
            m = LOCKMSG.search(l)
            if m:
                # The CPU holds its first lock and spins on the second one.
                locks[m.group(1)] = "0x" + m.group(3)
        for ev in events:
            if ev.get("incidentCPUs"):
                ev["incidentLocks"] = {c: locks[c] for c in sorted(locks) if int(c) in ev["incidentCPUs"]}

    sc["expectedEvents"] = events
    sc["forbiddenKinds"] = FORBIDDEN.get(name, [])
    if name == "vm-pause":
        sc["expectedQMPEvents"] = ["STOP", "RESUME"]
    gaps = []
    for ev in events:
        for (scn, kind, check), why in KNOWN_GAPS.items():
            if scn == name and kind == ev["kind"] and (check not in ("holderCPU",) or "holderCPU" in ev):
                gaps.append({"kind": kind, "line": ev["line"], "check": check, "what": why})
    sc["knownGaps"] = gaps
    if problems:
        sc["notes"] = sc.get("notes", []) + ["expectation check: " + p for p in problems]
    with open(os.path.join(a.capture, "scenario.json"), "w") as f:
        json.dump(sc, f, indent=2)
        f.write("\n")
    print("%s: %d expected events%s" % (name, len(events), "; PROBLEMS: " + "; ".join(problems) if problems else ""))
    return 0


if __name__ == "__main__":
    sys.exit(main())
