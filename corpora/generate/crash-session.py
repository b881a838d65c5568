#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Run Debian's crash utility on a QMP dump-guest-memory ELF dump and record
everything it printed, failures included.

    crash-session.py --vmlinux DBG_VMLINUX --vmcore VMCORE --module NAME OUT.txt

Session 1: sys, log, bt -a, help -D, runq, mod, sym -m NAME.  crash 8.0.2
cannot build the task list of these dumps, so `bt -a` fails; session 2 then
unwinds each CPU with `bt -I RIP -S RSP PID`, RIP and RSP taken from the
QEMUCPUState notes `help -D` printed (one per CPU, in CPU order) and the PID
from the `PID: … CPU: N` header of `bt -a`.  Each command is preceded by a
`crash> COMMAND` line (printed by the session itself with `!echo`).
"""
import argparse
import re
import subprocess
import sys


def session(vmlinux, vmcore, cmds):
    script = "".join('!echo "crash> %s"\n%s\n' % (c, c) for c in cmds) + "q\n"
    r = subprocess.run(["stdbuf", "-o0", "-e0", "crash", "-s", vmlinux, vmcore], input=script,
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, errors="replace",
                       timeout=600)
    return "$ crash -s vmlinux-RELEASE vmcore   (exit status %d)\n" % r.returncode + r.stdout


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("--vmcore", required=True)
    ap.add_argument("--module", required=True)
    ap.add_argument("out")
    a = ap.parse_args()
    first = session(a.vmlinux, a.vmcore, ["sys", "log", "bt -a", "help -D", "runq", "mod", "sym -m " + a.module])
    # QEMUCPUState notes, in CPU order: "RSP: … RBP: …" then "RIP: …  RFLAGS: …".
    regs = []
    for block in first.split("(QEMUCPUState)")[1:]:
        rsp = re.search(r"RSP: ([0-9a-f]{16})", block)
        rip = re.search(r"RIP: ([0-9a-f]{16})", block)
        if rsp and rip:
            regs.append((rip.group(1), rsp.group(1)))
    pids = {}
    for m in re.finditer(r"PID: (\d+)\s+TASK: [0-9a-f]+\s+CPU: (\d+)", first):
        pids.setdefault(int(m.group(2)), m.group(1))
    cmds = ["bt -I %s -S %s %s" % (rip, rsp, pids[cpu]) for cpu, (rip, rsp) in enumerate(regs) if cpu in pids]
    text = first
    if cmds:
        text += "\n" + session(a.vmlinux, a.vmcore, cmds)
    else:
        text += "\n(no QEMUCPUState registers or PIDs found: no `bt -I` session)\n"
    with open(a.out, "w") as f:
        f.write(text)
    print("%s: crash session with %d bt -I unwinds" % (a.out, len(cmds)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
