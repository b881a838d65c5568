#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot one scenario of lockscan's capture generator under qemu (TCG) and
record what it printed.

    boot.py --scenario NAME --kernel VMLINUZ --initrd INITRD --work DIR --out DIR
            [--vmlinux DBG_VMLINUX] [--versions JSON]

Writes into --out: guest-console.log, host-console-timestamped.log,
qmp-events.json, domain.log, scenario.json (without expectations; expect.py
adds them), and for scenarios that dump memory crash-session.txt.  Scratch
(vmcore, qemu.log, QMP socket) goes to --work.
"""
import argparse
import datetime
import json
import os
import re
import shlex
import socket
import subprocess
import sys
import threading
import time


def utc_now():
    return datetime.datetime.now(datetime.timezone.utc)


def iso(t):
    return t.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


# What each scenario boots with.  Common kernel parameters are added below.
SCENARIOS = {
    "soft-lockup": {
        "what": "a kthread (lockscan_spin) bound to CPU 1 spins 30 s with preemption disabled "
                "(interrupts on) in lockscan_spin_forever(); watchdog_thresh=5 so the soft-lockup "
                "threshold is 10 s",
        "kaslr": False,
        "append": "watchdog_thresh=5",
        "timeout": 150,
        "cpus": [1],
    },
    "abba-deadlock": {
        "what": "ABBA spinlock deadlock: kthread lockscan_abba_a on CPU 1 takes lock A with "
                "interrupts off (spin_lock_irqsave) then lock B; kthread lockscan_abba_b on CPU 0 "
                "takes lock B (interrupts on) then lock A. nohz=off keeps the jiffies update on "
                "CPU 0 (with NOHZ, CPU 1 may own it and, with interrupts off, jiffies stop: "
                "nothing is printed at all). Guest memory dumped through QMP and read with crash.",
        "kaslr": True,
        "append": "watchdog_thresh=5 softlockup_all_cpu_backtrace=1 rcupdate.rcu_cpu_stall_timeout=10 nohz=off",
        "timeout": 240,
        "cpus": [0, 1],
        "dump": True,
    },
    "hung-task": {
        "what": "kthread lockscan_owner holds a mutex forever (sleeping interruptibly); "
                "`cat /proc/lockscan_hung` blocks in mutex_lock() from lockscan_hung_acquire() "
                "in D state; kernel.hung_task_timeout_secs lowered to 10",
        "kaslr": False,
        "append": "",
        "timeout": 150,
        "cpus": [],
    },
    "rt-throttling": {
        "what": "a SCHED_FIFO (priority 50) busy loop pinned to CPU 1 for 5 s by the static "
                "helper `spin -f 50 -c 1 5` (busybox has no chrt); default sched_rt_runtime_us",
        "kaslr": True,
        "append": "",
        "timeout": 120,
        "cpus": [1],
    },
    "sysrq-l": {
        "what": "a SCHED_OTHER busy loop (`spin -c 1 10`) keeps CPU 1 busy in user space; "
                "`echo l > /proc/sysrq-trigger` from the shell asks all CPUs for backtraces",
        "kaslr": False,
        "append": "",
        "timeout": 120,
        "cpus": [0, 1],
    },
    "sysrq-c-kaslr": {
        "what": "`echo c > /proc/sysrq-trigger` with KASLR on: NULL-pointer write in "
                "sysrq_handle_crash, Oops, panic with the `Kernel Offset:` line; panic=5 "
                "reboots and qemu (-no-reboot) exits",
        "kaslr": True,
        "append": "",
        "timeout": 120,
        "cpus": [],
    },
    "vm-pause": {
        "what": "the guest logs `lockscan: tick N` every second; after tick 5 the host pauses "
                "the VM with QMP `stop` for 15 s and resumes it with `cont`",
        "kaslr": True,
        "append": "",
        "timeout": 150,
        "cpus": [],
        "pause": {"after": "lockscan: tick 5", "seconds": 15},
    },
    "rq-lock": {
        "what": "CPU 1 holds its runqueue lock: a kprobe on task_tick_fair (scheduler tick, rq lock "
                "held, interrupts off) spins 4 s in lockscan_rq_hold() when the tick interrupts the "
                "kthread lockscan_rq_busy; meanwhile kthread lockscan_rq_yield on CPU 0 calls "
                "yield_to(lockscan_rq_busy) (what KVM does on a pause-loop exit), which waits in "
                "double_rq_lock(); half way the holder calls handle_sysrq('l') for NMI backtraces. "
                "A user-space busy loop (`spin -c 0 15`) keeps a second task on CPU 0's runqueue "
                "(yield_to returns early when both runqueues hold one task)",
        "kaslr": False,
        "append": "",
        "timeout": 150,
        "cpus": [0, 1],
    },
}

COMMON_APPEND = "console=ttyS0,115200 printk.time=1 panic=5 softlockup_panic=0"


class QMP:
    """A tiny QMP client recording every message with host wall-clock time."""

    def __init__(self, path, deadline):
        self.sock = None
        while time.time() < deadline:
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(path)
                self.sock = s
                break
            except OSError:
                time.sleep(0.05)
        if self.sock is None:
            raise RuntimeError("cannot connect to QMP socket " + path)
        self.file = self.sock.makefile("rb")
        self.lock = threading.Lock()
        self.cond = threading.Condition(self.lock)
        self.events_raw = []      # raw event lines as qemu sent them
        self.transcript = []      # {hostTime, direction, message}
        self.replies = {}
        self.next_id = 1
        self.closed = False
        greeting = self.file.readline()
        self._record("in", greeting)
        self.reader = threading.Thread(target=self._read, daemon=True)
        self.reader.start()
        self.command("qmp_capabilities")

    def _record(self, direction, raw):
        t = utc_now()
        text = raw.decode("utf-8", "replace").rstrip("\r\n")
        try:
            msg = json.loads(text)
        except ValueError:
            msg = text
        self.transcript.append({"hostTime": iso(t), "direction": direction, "message": msg})
        return msg

    def _read(self):
        while True:
            try:
                raw = self.file.readline()
            except OSError:
                raw = b""
            if not raw:
                with self.cond:
                    self.closed = True
                    self.cond.notify_all()
                return
            msg = self._record("in", raw)
            with self.cond:
                if isinstance(msg, dict) and "event" in msg:
                    self.events_raw.append(raw.decode("utf-8", "replace").rstrip("\r\n"))
                elif isinstance(msg, dict) and "id" in msg:
                    self.replies[msg["id"]] = msg
                self.cond.notify_all()

    def command(self, name, timeout=600, **args):
        with self.cond:
            cid = self.next_id
            self.next_id += 1
        msg = {"execute": name, "id": cid}
        if args:
            msg["arguments"] = args
        data = (json.dumps(msg) + "\n").encode()
        self._record("out", data)
        try:
            self.sock.sendall(data)
        except OSError as e:
            self.transcript.append({"hostTime": iso(utc_now()), "direction": "error", "message": str(e)})
            return None
        end = time.time() + timeout
        with self.cond:
            while cid not in self.replies and not self.closed and time.time() < end:
                self.cond.wait(0.5)
            return self.replies.get(cid)


class Console:
    """Reads qemu's stdout (the serial console), keeping raw bytes and the host
    wall-clock time at which each line began."""

    def __init__(self, stream):
        self.stream = stream
        self.raw = bytearray()
        self.lines = []           # (host time of first byte, text without CR/LF)
        self.cond = threading.Condition()
        self.thread = threading.Thread(target=self._read, daemon=True)
        self.thread.start()

    def _read(self):
        cur = bytearray()
        start = None
        while True:
            chunk = os.read(self.stream.fileno(), 4096)
            if not chunk:
                break
            now = utc_now()
            with self.cond:
                self.raw += chunk
                for b in chunk:
                    if start is None:
                        start = now
                    if b == 0x0A:
                        self.lines.append((start, cur.decode("utf-8", "replace").rstrip("\r")))
                        cur = bytearray()
                        start = None
                    else:
                        cur.append(b)
                self.cond.notify_all()
        with self.cond:
            if cur:
                self.lines.append((start, cur.decode("utf-8", "replace").rstrip("\r")))
            self.cond.notify_all()

    def wait_for(self, pattern, timeout, count=1):
        rx = re.compile(pattern)
        end = time.time() + timeout
        with self.cond:
            while True:
                hits = [l for l in self.lines if rx.search(l[1])]
                if len(hits) >= count:
                    return hits[count - 1]
                if time.time() >= end or not self.thread.is_alive():
                    return None
                self.cond.wait(0.2)


def qemu_version():
    out = subprocess.run(["qemu-system-x86_64", "--version"], capture_output=True, text=True).stdout
    return out.splitlines()[0].strip()


def run(cmd, log, timeout=600):
    """Run a host command (virsh …), recording it with host wall-clock time."""
    t = utc_now()
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    log.append({"hostTime": iso(t), "command": " ".join(shlex.quote(x) for x in cmd),
                "exitStatus": r.returncode, "output": (r.stdout + r.stderr).strip()})
    return r


class Direct:
    """qemu started by this script; domain.log written in libvirt's layout."""

    name = "direct"

    def __init__(self, a, sc, append, work, commands):
        self.qemu_log = os.path.join(work, "qemu.log")
        self.qmp_path = os.path.join(work, "qmp.sock")
        self.args = ["/usr/bin/qemu-system-x86_64", "-name", "guest=lockscan-%s" % a.scenario,
                     "-machine", "pc,accel=tcg", "-cpu", "max,la57=off", "-smp", "2", "-m", "1024",
                     "-nographic", "-no-reboot",
                     "-kernel", a.kernel, "-initrd", a.initrd, "-append", append,
                     "-device", "vmcoreinfo",
                     "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
                     "-msg", "timestamp=on", "-D", self.qemu_log]
        self.env = {"LC_ALL": "C", "PATH": "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "QEMU_AUDIO_DRV": "none", "HOME": "/root"}
        self.stderr_lines = []
        self.commands = commands

    def start(self):
        self.started = utc_now()
        self.proc = subprocess.Popen(self.args, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                     stderr=subprocess.PIPE, env=self.env)

        def read_stderr():
            for raw in self.proc.stderr:
                self.stderr_lines.append(raw.decode("utf-8", "replace").rstrip("\n"))

        threading.Thread(target=read_stderr, daemon=True).start()
        return self.proc.stdout

    def go(self, qmp):
        pass

    def alive(self):
        return self.proc.poll() is None

    def pause(self, qmp):
        qmp.command("stop")
        return "QMP stop (VM paused from the host)"

    def resume(self, qmp):
        qmp.command("cont")
        return "QMP cont (VM resumed)"

    def dump(self, qmp, path):
        r = qmp.command("dump-guest-memory", paging=False, protocol="file:" + path)
        return "QMP dump-guest-memory (ELF, paging=false)", (None if r and "error" not in r else repr(r))

    def destroy(self):
        # As libvirt's `virsh destroy` does: SIGTERM (qemu logs it).
        self.proc.terminate()
        return "SIGTERM to qemu (as virsh destroy does)"

    def wait(self, timeout):
        try:
            self.proc.wait(max(timeout, 1))
            return True
        except subprocess.TimeoutExpired:
            return False

    def finish(self, ended_by, panicked):
        try:
            self.proc.wait(30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.ended = utc_now()
        reason = {"guest": "shutdown", "host": "destroyed", "timeout": "destroyed"}[ended_by]
        if ended_by == "guest" and panicked:
            reason = "crashed"
        st, en = self.started, self.ended
        out = ["%s.%03d+0000: starting up libvirt version: none (no libvirtd: written by "
               "lockscan corpora/generate in libvirt's layout), qemu version: %s, kernel: %s, "
               "hostname: %s" % (st.strftime("%Y-%m-%d %H:%M:%S"), st.microsecond // 1000,
                                 qemu_version().replace("QEMU emulator version ", ""),
                                 os.uname().release, socket.gethostname()),
               "LC_ALL=C PATH=%s QEMU_AUDIO_DRV=none %s" % (self.env["PATH"], " ".join(shlex.quote(x) for x in self.args))]
        out += self.stderr_lines
        if os.path.exists(self.qemu_log):
            out += [l.rstrip("\n") for l in open(self.qemu_log, errors="replace")]
        out.append("%s.%03d+0000: shutting down, reason=%s" % (en.strftime("%Y-%m-%d %H:%M:%S"),
                                                               en.microsecond // 1000, reason))
        return "\n".join(out) + "\n", None

    def describe(self):
        return {"backend": "direct", "qemuCommandLine": self.args}


DOMAIN_XML = """<domain type='qemu' xmlns:qemu='http://libvirt.org/schemas/domain/qemu/1.0'>
  <name>{name}</name>
  <memory unit='MiB'>1024</memory>
  <vcpu>2</vcpu>
  <os>
    <type arch='x86_64' machine='pc'>hvm</type>
    <kernel>{kernel}</kernel>
    <initrd>{initrd}</initrd>
    <cmdline>{append}</cmdline>
  </os>
  <features><acpi/><vmcoreinfo state='on'/></features>
  <cpu mode='maximum' match='exact'>
    <topology sockets='1' dies='1' cores='2' threads='1'/>
    <feature policy='disable' name='la57'/>
  </cpu>
  <on_poweroff>destroy</on_poweroff>
  <on_reboot>destroy</on_reboot>
  <on_crash>destroy</on_crash>
  <devices>
    <emulator>/usr/bin/qemu-system-x86_64</emulator>
    <serial type='unix'><source mode='bind' path='{console}'/><target port='0'/></serial>
    <console type='unix'><source mode='bind' path='{console}'/><target type='serial' port='0'/></console>
    <memballoon model='none'/>
  </devices>
  <qemu:commandline>
    <qemu:arg value='-qmp'/>
    <qemu:arg value='unix:{qmp},server=on,wait=off'/>
    <qemu:arg value='-D'/>
    <qemu:arg value='{qemu_log}'/>
  </qemu:commandline>
</domain>
"""


class Libvirt:
    """A transient libvirt domain (qemu:///system, TCG).  The serial console
    is a unix socket this script reads; a second QMP socket (qemu:commandline)
    records every event; domain.log and libvirtd.log are libvirt's own."""

    name = "libvirt"

    def __init__(self, a, sc, append, work, commands, libvirtd_log):
        self.dom = "lockscan-%s" % a.scenario
        self.qmp_path = os.path.join(work, "qmp.sock")
        self.console_path = os.path.join(work, "console.sock")
        self.qemu_log = os.path.join(work, "qemu.log")
        self.xml = DOMAIN_XML.format(name=self.dom, kernel=a.kernel, initrd=a.initrd, append=append,
                                     console=self.console_path, qmp=self.qmp_path, qemu_log=self.qemu_log)
        self.xml_path = os.path.join(work, "domain.xml")
        self.log_path = "/var/log/libvirt/qemu/%s.log" % self.dom
        self.libvirtd_log = libvirtd_log
        self.commands = commands
        os.chmod(work, 0o777)

    def virsh(self, *args, timeout=600):
        return run(["virsh", "-c", "qemu:///system"] + list(args), self.commands, timeout)

    def start(self):
        with open(self.xml_path, "w") as f:
            f.write(self.xml)
        if os.path.exists(self.log_path):
            os.unlink(self.log_path)
        self.log_offset = os.path.getsize(self.libvirtd_log) if os.path.exists(self.libvirtd_log) else 0
        self.started = utc_now()
        r = self.virsh("create", self.xml_path, "--paused")
        if r.returncode:
            raise RuntimeError("virsh create failed: " + r.stderr.strip())
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.console_path)
        return self.sock

    def go(self, qmp):
        self.virsh("resume", self.dom)

    def alive(self):
        r = subprocess.run(["virsh", "-c", "qemu:///system", "domstate", self.dom], capture_output=True, text=True)
        return r.returncode == 0

    def pause(self, qmp):
        self.virsh("suspend", self.dom)
        return "virsh suspend (libvirt sends QMP stop: VM paused from the host)"

    def resume(self, qmp):
        self.virsh("resume", self.dom)
        return "virsh resume (libvirt sends QMP cont: VM resumed)"

    def dump(self, qmp, path):
        r = self.virsh("dump", "--memory-only", "--format", "elf", self.dom, path)
        return "virsh dump --memory-only --format elf (QMP dump-guest-memory)", (None if r.returncode == 0 else r.stderr.strip())

    def destroy(self):
        self.virsh("destroy", self.dom)
        return "virsh destroy (SIGTERM to qemu)"

    def wait(self, timeout):
        end = time.time() + timeout
        while time.time() < end:
            if not self.alive():
                return True
            time.sleep(0.5)
        return False

    def finish(self, ended_by, panicked):
        end = time.time() + 30
        while self.alive() and time.time() < end:
            time.sleep(0.5)
        self.ended = utc_now()
        # libvirt writes "shutting down" after qemu is gone.
        text = ""
        for _ in range(20):
            text = open(self.log_path, errors="replace").read() if os.path.exists(self.log_path) else ""
            if "shutting down" in text:
                break
            time.sleep(0.5)
        daemon = None
        if os.path.exists(self.libvirtd_log):
            with open(self.libvirtd_log, "rb") as f:
                f.seek(self.log_offset)
                daemon = f.read().decode("utf-8", "replace")
        return text, daemon

    def describe(self):
        return {"backend": "libvirt", "libvirtDomainXML": self.xml}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--scenario", required=True, choices=sorted(SCENARIOS))
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--out", required=True)
    ap.add_argument("--versions")
    ap.add_argument("--libvirtd-log", help="use libvirt (qemu:///system); its daemon logs to this file")
    a = ap.parse_args()
    sc = SCENARIOS[a.scenario]
    os.makedirs(a.work, exist_ok=True)
    os.makedirs(a.out, exist_ok=True)
    versions = json.load(open(a.versions)) if a.versions else {}
    for p in ("qmp.sock", "qemu.log", "console.sock"):
        if os.path.exists(os.path.join(a.work, p)):
            os.unlink(os.path.join(a.work, p))
    append = " ".join(x for x in [COMMON_APPEND, "" if sc["kaslr"] else "nokaslr", sc["append"],
                                  "lockscan_scenario=" + a.scenario] if x)
    commands = []
    if a.libvirtd_log:
        vm = Libvirt(a, sc, append, a.work, commands, a.libvirtd_log)
    else:
        vm = Direct(a, sc, append, a.work, commands)
    stream = vm.start()
    console = Console(stream)
    deadline = time.time() + sc["timeout"]
    qmp = QMP(vm.qmp_path, time.time() + 30)
    vm.go(qmp)
    provoked = []
    notes = []
    ended_by = "guest"

    def mark(what, cpus=None, **extra):
        d = {"what": what, "hostTime": iso(utc_now())}
        if cpus is not None:
            d["cpus"] = cpus
        d.update(extra)
        provoked.append(d)

    hit = console.wait_for(r"lockscan: provoke: ", sc["timeout"])
    if hit:
        mark(hit[1].split("lockscan: provoke: ", 1)[1], sc["cpus"], guestLineHostTime=iso(hit[0]))

    if "pause" in sc:
        p = sc["pause"]
        if console.wait_for(re.escape(p["after"]) + "$", deadline - time.time()) and vm.alive():
            time.sleep(0.5)
            mark(vm.pause(qmp))
            time.sleep(p["seconds"])
            mark(vm.resume(qmp))
        else:
            notes.append("pause: guest never printed %r" % p["after"])

    if sc.get("dump"):
        # Wait for the kernel to report: an RCU stall and three soft lockups, or 150 s.
        limit = min(deadline - 60, time.time() + 150)
        console.wait_for(r"rcu: INFO: rcu_preempt (self-)?detected stall", limit - time.time())
        console.wait_for(r"BUG: soft lockup", limit - time.time(), count=3)
        time.sleep(3)
        vmcore = os.path.join(a.work, "vmcore")
        if os.path.exists(vmcore):
            os.unlink(vmcore)
        t = iso(utc_now())
        what, err = vm.dump(qmp, vmcore)
        provoked.append({"what": what + " to the scratch vmcore", "hostTime": t})
        if err:
            notes.append("memory dump failed: " + err)
        ended_by = "host"
        mark(vm.destroy())
    elif not vm.wait(deadline - time.time()):
        ended_by = "timeout"
        notes.append("hard timeout after %d s" % sc["timeout"])
        mark(vm.destroy())
    panicked = any("Kernel panic" in l[1] for l in console.lines)
    domain_log, daemon_log = vm.finish(ended_by, panicked)
    console.thread.join(10)
    time.sleep(0.3)

    # guest-console.log: exactly the bytes of the serial console.
    with open(os.path.join(a.out, "guest-console.log"), "wb") as f:
        f.write(bytes(console.raw))
    with open(os.path.join(a.out, "host-console-timestamped.log"), "w") as f:
        for t, text in console.lines:
            f.write("%s %s\n" % (iso(t), text))
    with open(os.path.join(a.out, "qmp-events.json"), "w") as f:
        for e in qmp.events_raw:
            f.write(e + "\n")
    with open(os.path.join(a.out, "domain.log"), "w") as f:
        f.write(domain_log)
    if daemon_log is not None:
        with open(os.path.join(a.out, "libvirtd.log"), "w") as f:
            f.write(daemon_log)
    scenario = {
        "scenario": a.scenario,
        "what": sc["what"],
        "kaslr": sc["kaslr"],
        "kernelCommandLine": append,
        "versions": versions,
        "host": {"hostname": socket.gethostname(), "kernel": os.uname().release,
                 "qemuStarted": iso(vm.started), "qemuEnded": iso(vm.ended), "endedBy": ended_by},
        "provoked": provoked,
        "hostCommands": commands,
        "qmpTranscript": qmp.transcript,
        "notes": notes,
    }
    scenario.update(vm.describe())
    with open(os.path.join(a.work, "scenario.partial.json"), "w") as f:
        json.dump(scenario, f, indent=2)
    print("%s: %d console lines, %d QMP events, ended by %s in %.0f s (%s)" % (
        a.scenario, len(console.lines), len(qmp.events_raw), ended_by,
        (vm.ended - vm.started).total_seconds(), vm.name))
    return 0


if __name__ == "__main__":
    sys.exit(main())
