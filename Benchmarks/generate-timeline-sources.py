#!/usr/bin/env python3
"""Generate the four sources of a timeline benchmark, with RECORDS lines in all
(fixed seed, so the same count always gives byte-identical files):

  guest-dmesg.log   40%  boot-relative dmesg of a guest, 40 soft lockup reports
                         (anchor: boot-relative 0 = 2026-11-22T02:53:25Z)
  host-kern.log     30%  host kern.log with RFC 3339 stamps and the kernel's own
                         [seconds] (both clocks on one line)
  libvirtd.log      20%  libvirtd info-level noise, 10 monitor EOFs
  qmp-events.json   10%  QMP events, mostly RTC_CHANGE, 20 STOP/RESUME pairs

All four cover the same hours of host time, so the timeline has to interleave
them. Usage: generate-timeline-sources.py --records N -o DIR [--seed S]
"""
import argparse
import os
import random

START = 1795316000.0  # 2026-11-22T02:53:20Z, the epoch of the generated corpora


def iso(t, sep="T", zone="+00:00", digits=6):
    whole = int(t)
    frac = t - whole
    import time
    tm = time.gmtime(whole)
    f = ("%.*f" % (digits, frac))[1:] if digits else ""
    return time.strftime("%Y-%m-%d" + sep + "%H:%M:%S", tm) + f + zone


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--records", type=int, required=True)
    ap.add_argument("--seed", type=int, default=20261122)
    ap.add_argument("-o", "--out", required=True)
    a = ap.parse_args()
    rnd = random.Random(a.seed)
    os.makedirs(a.out, exist_ok=True)
    n_guest, n_host, n_libvirt = int(a.records * 0.4), int(a.records * 0.3), int(a.records * 0.2)
    n_qmp = a.records - n_guest - n_host - n_libvirt
    span = max(3600.0, a.records / 500.0)  # seconds of host time covered
    boot = START + 5.0                     # the guest's clock starts here

    noise = ["EXT4-fs (vda1): re-mounted. Opts: errors=remount-ro", "virtio_net virtio1 eth0: link up",
             "audit: type=1400 audit(0.0:1): apparmor=\"STATUS\"", "systemd-journald[212]: Received SIGTERM",
             "perf: interrupt took too long (2500 > 2495), lowering kernel.perf_event_max_sample_rate to 79750",
             "kvm: vcpu 0: requested 128 ns lapic timer period limited to 200000 ns", "IPv6: ADDRCONF(NETDEV_CHANGE): eth0: link becomes ready"]
    with open(os.path.join(a.out, "guest-dmesg.log"), "w") as f:
        i = 0
        while i < n_guest:
            m = i * span / n_guest
            if i and i % max(1000, n_guest // 40) == 0 and i + 8 < n_guest:
                for line in ["watchdog: BUG: soft lockup - CPU#1 stuck for 23s! [kworker/1:2:%d]" % rnd.randrange(100, 30000),
                             "CPU: 1 PID: 4242 Comm: kworker/1:2 Not tainted 6.1.0-56-cloud-amd64 #1 Debian 6.1.192-2",
                             "RIP: 0010:native_queued_spin_lock_slowpath+0x30/0x2a0", "Call Trace:", " <TASK>",
                             " _raw_spin_lock+0x25/0x30", " process_one_work+0x1c7/0x380", " </TASK>"]:
                    f.write("[%12.6f] %s\n" % (m, line))
                    i += 1
                continue
            f.write("[%12.6f] %s\n" % (m, rnd.choice(noise)))
            i += 1
    with open(os.path.join(a.out, "host-kern.log"), "w") as f:
        host_boot = START - 86400.0
        for i in range(n_host):
            t = START + i * span / n_host
            f.write("%s hv01 kernel: [%12.6f] %s\n" % (iso(t), t - host_boot, rnd.choice(noise)))
    with open(os.path.join(a.out, "libvirtd.log"), "w") as f:
        for i in range(n_libvirt):
            t = START + i * span / n_libvirt
            stamp = iso(t, sep=" ", zone="+0000", digits=3)
            if i and i % max(1000, n_libvirt // 10) == 0:
                f.write("%s: 13914: error : qemuMonitorIO:689 : internal error: End of file from monitor\n" % stamp)
            else:
                f.write("%s: 13914: info : virObjectUnref:%d : OBJECT_UNREF: obj=0x7f%010x\n" % (stamp, rnd.randrange(100, 400), rnd.randrange(1 << 40)))
    with open(os.path.join(a.out, "qmp-events.json"), "w") as f:
        i = 0
        while i < n_qmp:
            t = START + i * span / n_qmp
            if i and i % max(1000, n_qmp // 20) == 0 and i + 1 < n_qmp:
                for ev in ("STOP", "RESUME"):
                    f.write('{"timestamp": {"seconds": %d, "microseconds": %d}, "event": "%s"}\n' % (int(t), int((t % 1) * 1e6), ev))
                    t += 0.5
                    i += 1
                continue
            f.write('{"timestamp": {"seconds": %d, "microseconds": %d}, "event": "RTC_CHANGE", "data": {"offset": %d, "qom-path": "/machine/unattached/device[7]"}}\n'
                    % (int(t), int((t % 1) * 1e6), rnd.randrange(-2, 3)))
            i += 1


if __name__ == "__main__":
    main()
