#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Symbolize every stack frame of a capture with eu-addr2line -f -i, as the
expected output for lockscan's symbolizer.

    symbolize.py --vmlinux DBG_VMLINUX --modules DIR [--kaslr-offset HEX] CAPTURE_DIR

Reads CAPTURE_DIR/guest-console.log and, when present, crash-session.txt;
writes CAPTURE_DIR/expected-symbolization.txt: one block per frame, blocks
separated by a blank line:

    FILE:LINE: the line as printed
    @ QUERY (how the address was chosen)
    eu-addr2line's output lines (function / file:line pairs, inlines first)

Call-trace entries are return addresses: they are looked up at
symbol+offset-1; RIP lines and crash's `[exception RIP: …]` at the address
itself.  Crash frames carry absolute runtime addresses: the KASLR slide
(from the `Kernel Offset:` line or --kaslr-offset, the vmcoreinfo
KERNELOFFSET) is subtracted for vmlinux; module frames are looked up as
symbol+offset from the module's runtime symbol addresses that `sym -m` /
`mod` printed in the same session, or left with a note.
"""
import argparse
import os
import re
import subprocess
import sys

TS = r"^(?:\[\s*\d+\.\d+\]\s?)?"
FRAME = re.compile(TS + r"\s*(\? )?([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([A-Za-z0-9_]+)\])?\s*$")
RIP = re.compile(TS + r"\s*RIP: [0-9a-f]{4}:([A-Za-z0-9_.$]+)\+0x([0-9a-f]+)/0x([0-9a-f]+)(?: \[([A-Za-z0-9_]+)\])?\s*$")
CRASH_FRAME = re.compile(r"^\s*#\d+ \[[0-9a-f]+\] ([A-Za-z0-9_.$]+) at ([0-9a-f]+)(?: \[([A-Za-z0-9_]+)\])?\s*$")
CRASH_EXC = re.compile(r"^\s*\[exception RIP: ([A-Za-z0-9_.$]+)\+(\d+)\]\s*$")
CRASH_RIP_REG = re.compile(r"^\s*RIP: ([0-9a-f]{16})\s+RSP:")
KOFF = re.compile(r"Kernel Offset: 0x([0-9a-f]+) from 0x([0-9a-f]+)")
# `sym -m MOD` lines: "ffffffffc0201000 (t) lockscan_abba_take_a_then_b [lockscan_abba]"
CRASH_SYM = re.compile(r"^([0-9a-f]{16}) \((\w)\) ([A-Za-z0-9_.$]+)\s*$")
CRASH_MOD_START = re.compile(r"^[0-9a-f]{16} MODULE START: ([A-Za-z0-9_]+)")


def addr2line(target, query):
    r = subprocess.run(["eu-addr2line", "-f", "-i", "-e", target, query],
                       capture_output=True, text=True)
    out = (r.stdout + r.stderr).rstrip("\n")
    return out.splitlines() if out else ["(no output)"]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--vmlinux", required=True)
    ap.add_argument("--modules", required=True)
    ap.add_argument("--kaslr-offset")
    ap.add_argument("--vmlinux-label", default="")
    ap.add_argument("--output", help="write here instead of CAPTURE/expected-symbolization.txt")
    ap.add_argument("capture")
    a = ap.parse_args()

    modules = {os.path.basename(p)[:-3]: os.path.join(a.modules, p)
               for p in os.listdir(a.modules) if p.endswith(".ko")}
    blocks = []
    cache = {}

    def lookup(target, query):
        key = (target, query)
        if key not in cache:
            cache[key] = addr2line(target, query)
        return cache[key]

    def module_target(mod):
        return modules.get(mod)

    kaslr = int(a.kaslr_offset, 16) if a.kaslr_offset else None
    console = os.path.join(a.capture, "guest-console.log")
    text = open(console, "rb").read().decode("utf-8", "replace").replace("\r", "")
    for m in KOFF.finditer(text):
        kaslr = int(m.group(1), 16)

    for no, line in enumerate(text.split("\n"), 1):
        m = RIP.match(line)
        if m:
            func, off, _size, mod = m.groups()
            target = module_target(mod) if mod else a.vmlinux
            query = "%s+0x%x" % (func, int(off, 16))
            how = "instruction pointer: symbol+offset as printed"
            blocks.append((console, no, line, target, query, how, mod))
            continue
        m = FRAME.match(line)
        if m:
            unreliable, func, off, _size, mod = m.groups()
            target = module_target(mod) if mod else a.vmlinux
            o = int(off, 16)
            query = "%s+0x%x" % (func, o - 1 if o else 0)
            how = "return address: symbol+offset-1" if o else "offset 0: symbol itself"
            if unreliable:
                how += ", unreliable (?) frame"
            blocks.append((console, no, line, target, query, how, mod))

    crash = os.path.join(a.capture, "crash-session.txt")
    if os.path.exists(crash):
        ctext = open(crash, errors="replace").read()
        modsyms = {}
        cur_mod = None
        for l in ctext.split("\n"):
            m = CRASH_MOD_START.match(l)
            if m:
                cur_mod = m.group(1)
                continue
            m = CRASH_SYM.match(l)
            if m and cur_mod:
                modsyms[(m.group(3), cur_mod)] = int(m.group(1), 16)
            elif not l.startswith("ffff"):
                cur_mod = None
        ip_addrs = set()
        for l in ctext.split("\n"):
            m = CRASH_RIP_REG.match(l)
            if m:
                ip_addrs.add(int(m.group(1), 16))
        for m in re.finditer(r"bt -I ([0-9a-fx]+)", ctext):
            ip_addrs.add(int(m.group(1), 16))
        for no, line in enumerate(ctext.split("\n"), 1):
            m = CRASH_EXC.match(line)
            if m:
                func, off = m.groups()
                blocks.append((crash, no, line, a.vmlinux, "%s+0x%x" % (func, int(off)),
                               "exception RIP: symbol+decimal offset as printed, at the address", None))
                continue
            m = CRASH_FRAME.match(line)
            if not m:
                continue
            func, addr, mod = m.groups()
            addr = int(addr, 16)
            is_ip = addr in ip_addrs
            look = addr if is_ip else addr - 1
            kind = "instruction pointer" if is_ip else "return address - 1"
            if mod:
                base = modsyms.get((func, mod))
                target = module_target(mod)
                if base is None or target is None:
                    blocks.append((crash, no, line, None, None,
                                   "module frame: no runtime symbol address for %s in this session" % func, mod))
                    continue
                blocks.append((crash, no, line, target, "%s+0x%x" % (func, look - base),
                               "%s, module offset from crash's `sym -m %s`" % (kind, mod), mod))
            else:
                if kaslr is None:
                    blocks.append((crash, no, line, None, None, "no KASLR offset known", None))
                    continue
                blocks.append((crash, no, line, a.vmlinux, "0x%x" % (look - kaslr),
                               "%s, KASLR offset 0x%x subtracted" % (kind, kaslr), None))

    out = a.output or os.path.join(a.capture, "expected-symbolization.txt")
    with open(out, "w") as f:
        f.write("# Expected symbolization of every stack frame in this capture, by\n")
        f.write("# eu-addr2line -f -i (elfutils) against %s\n" % (a.vmlinux_label or a.vmlinux))
        f.write("# and the debug .ko files in corpora/generated/modules/.\n")
        f.write("# KASLR offset: %s\n" % ("0x%x" % kaslr if kaslr is not None else "none (nokaslr, or not printed)"))
        f.write("# Blocks: FILE:LINE: line as printed / @ query (how) / eu-addr2line output.\n\n")
        for path, no, line, target, query, how, mod in blocks:
            f.write("%s:%d: %s\n" % (os.path.basename(path), no, line))
            if query is None:
                f.write("@ - (%s)\n\n" % how)
                continue
            tname = os.path.basename(target) if mod else "vmlinux"
            f.write("@ %s %s (%s)\n" % (tname, query, how))
            for l in lookup(target, query):
                f.write(l + "\n")
            f.write("\n")
    print("%s: %d frames symbolized" % (a.capture, len(blocks)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
