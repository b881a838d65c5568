#!/usr/bin/env python3
"""Write COUNT random code addresses of an ELF file (a debug vmlinux), one per
line as 0x-prefixed hex, for the symbolize benchmark.

Each address lies strictly inside a text symbol larger than 8 bytes (as `nm -S`
lists them), past its first byte, the way a return address does; symbols are
drawn uniformly, so the addresses spread over the whole image rather than one
compile unit. Fixed seed: the same ELF and count always give the same file.

Usage: generate-addresses.py --elf VMLINUX --count 10000 [--seed S] -o FILE
"""
import argparse
import random
import subprocess
import sys


def text_symbols(elf):
    out = subprocess.run(["nm", "-S", "--defined-only", elf], capture_output=True, text=True, check=True).stdout
    symbols = []
    for line in out.splitlines():
        parts = line.split()
        if len(parts) == 4 and parts[2] in ("t", "T"):
            start, size = int(parts[0], 16), int(parts[1], 16)
            if size > 8:
                symbols.append((start, size))
    return symbols


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--elf", required=True)
    ap.add_argument("--count", type=int, required=True)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("-o", "--output", required=True)
    a = ap.parse_args()
    if a.count < 1:
        ap.error("--count must be >= 1")
    symbols = text_symbols(a.elf)
    if not symbols:
        sys.exit("generate-addresses: %s has no sized text symbols (stripped?)" % a.elf)
    r = random.Random(a.seed)
    with open(a.output, "w") as f:
        for _ in range(a.count):
            start, size = r.choice(symbols)
            f.write(hex(start + r.randrange(1, size)) + "\n")


if __name__ == "__main__":
    main()
