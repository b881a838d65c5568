#!/usr/bin/env python3
"""Generate a large, deterministic, realistic-looking Linux dmesg for benchmarks.

The output looks like the kernel log of a long-running x86-64 server
(`[ 1234.567890] message` lines with monotonically increasing timestamps):
a boot preamble, then a steady mix of ordinary kernel chatter (links going
up/down, EXT4-fs, audit, usb, systemd-journald, kvm, nf_conntrack, device
probes, perf/NMI sample-rate complaints, bridge/veth churn, blank-ish lines).
Roughly every 50,000 lines a lockup-class report is embedded (hard LOCKUP
with a double_rq_lock trace, soft lockup, clocksource watchdog marking the
TSC unstable, RT throttling, RCU stall with NMI backtrace), and more rarely
non-lockup reports that also carry a "Call Trace:" (hung task, NETDEV
WATCHDOG warning), so a scanner cannot simply treat every trace as a hit.

The file is exactly --size-mb MiB long and ends with a newline.  Output is a
pure function of (--size-mb, --seed, this file): Python 3 standard library
only, a private random.Random instance, no dependence on hash ordering, time
or locale.

Usage: generate-dmesg.py --size-mb 1024 [--seed 20240229] -o FILE
"""

import argparse
import os
import random
import sys

DEFAULT_SEED = 20240229
MIB = 1024 * 1024

KVER = "5.15.0-91-generic"
KBUILD = "#101-Ubuntu"
HW = "Dell Inc. PowerEdge R640/0W23H8, BIOS 2.19.1 06/06/2023"
NCPU = 48

MODULES = (
    "tls xt_conntrack nft_chain_nat xt_MASQUERADE nf_nat nf_conntrack_netlink "
    "nf_conntrack nf_defrag_ipv6 nf_defrag_ipv4 xfrm_user xfrm_algo xt_addrtype "
    "nft_compat nf_tables nfnetlink br_netfilter bridge stp llc overlay "
    "ipmi_ssif intel_rapl_msr intel_rapl_common isst_if_common skx_edac nfit "
    "x86_pkg_temp_thermal intel_powerclamp coretemp kvm_intel kvm rapl "
    "intel_cstate dell_smbios dcdbas mei_me mei ipmi_si ipmi_devintf "
    "ipmi_msghandler acpi_power_meter mac_hid sch_fq_codel dm_multipath "
    "scsi_dh_rdac scsi_dh_emc scsi_dh_alua msr efi_pstore ip_tables x_tables "
    "autofs4 btrfs blake2b_generic zstd_compress raid10 raid456 "
    "async_raid6_recov async_memcpy async_pq async_xor async_tx xor "
    "raid6_pq libcrc32c raid1 raid0 multipath linear mgag200 "
    "drm_kms_helper syscopyarea sysfillrect sysimgblt fb_sys_fops cec "
    "rc_core i2c_algo_bit crct10dif_pclmul crc32_pclmul "
    "ghash_clmulni_intel aesni_intel crypto_simd cryptd mlx5_core "
    "megaraid_sas mlxfw psample tg3 ahci libahci pci_hyperv_intf "
    "wmi [last unloaded: ipmi_ssif]"
)


def hexs(r, n):
    """n lowercase hex digits."""
    return format(r.getrandbits(4 * n), "0%dx" % n)


def kaddr(r):
    return "ffff" + format(0x9a0000000000 | r.getrandbits(40), "012x")


def stackaddr(r):
    return "ffffb3a4" + format(0xc0000000 | r.getrandbits(24), "08x")


def reg64(r):
    k = r.random()
    if k < 0.3:
        return "0000000000000000"
    if k < 0.5:
        return format(r.randrange(0, 4096), "016x")
    if k < 0.8:
        return kaddr(r)
    return hexs(r, 16)


def code_line(r):
    bs = [hexs(r, 2) for _ in range(64)]
    bs[42] = "<" + bs[42] + ">"
    return "Code: " + " ".join(bs)


def regs(r, rip, rsp_flags, cs_user=False):
    """Register dump lines as printed by show_regs() on x86-64."""
    out = [
        "RIP: 0010:" + rip,
        code_line(r),
        "RSP: 0018:%s EFLAGS: %s" % (stackaddr(r), rsp_flags),
    ]
    names = ["RAX", "RBX", "RCX", "RDX", "RSI", "RDI", "RBP", "R08", "R09",
             "R10", "R11", "R12", "R13", "R14", "R15"]
    vals = [reg64(r) for _ in names]
    for i in range(0, 15, 3):
        out.append(" ".join("%s: %s" % (names[j], vals[j]) for j in range(i, i + 3)))
    fs = "00007f%s" % hexs(r, 10) if cs_user else "0000000000000000"
    out.append("FS:  %s(0000) GS:ffff9a3f%s(0000) knlGS:0000000000000000"
               % (fs, format(r.randrange(0x7f600000, 0x7fe00000, 0x40000), "08x")))
    out.append("CS:  0010 DS: 0000 ES: 0000 CR0: 0000000080050033")
    out.append("CR2: 00007f%s CR3: 0000000%s CR4: 00000000007706e0"
               % (hexs(r, 10), hexs(r, 6) + "00" + hexs(r, 1)))
    out.append("PKRU: 55555554")
    return out


# --------------------------------------------------------------------------
# Ordinary kernel chatter.  Each template returns a list of messages (an
# "episode"): several related lines printed within microseconds.
# --------------------------------------------------------------------------

NICS = ["eno1", "eno2", "ens1f0np0", "ens1f1np1", "eth0", "eth1"]
DISKS = ["sda", "sdb", "sdc", "sdd", "nvme0n1", "nvme1n1"]
EXT4_DEVS = ["nvme0n1p2", "dm-0", "dm-3", "sdb1", "md0", "loop4"]
COMMS = ["java", "python3", "nginx", "postgres", "containerd", "dockerd",
         "node", "redis-server", "mysqld", "kubelet", "envoy", "sshd"]
PROFILES = ["snap.lxd.daemon", "docker-default", "/usr/sbin/cupsd",
            "snap-update-ns.lxd", "lsb_release", "/usr/bin/man", "nvidia_modprobe"]
UNITS = ["systemd-tmpfiles-clean", "apt-daily", "fwupd-refresh", "logrotate",
         "man-db", "motd-news", "sysstat-collect", "certbot", "packagekit"]


def t_link(r):
    nic = r.choice(NICS)
    if nic.startswith("ens"):
        if r.random() < 0.5:
            return ["mlx5_core 0000:3b:00.%d %s: Link down" % (nic[-3] == "1", nic)]
        return ["mlx5_core 0000:3b:00.%d %s: Link up" % (nic[-3] == "1", nic),
                "bond0: (slave %s): link status definitely up, 25000 Mbps full duplex" % nic]
    if r.random() < 0.5:
        return ["tg3 0000:01:00.%d %s: Link is down" % (r.randrange(2), nic)]
    return ["tg3 0000:01:00.%d %s: Link is up at 1000 Mbps, full duplex" % (r.randrange(2), nic),
            "tg3 0000:01:00.0 %s: Flow control is on for TX and on for RX" % nic,
            "tg3 0000:01:00.0 %s: EEE is disabled" % nic,
            "IPv6: ADDRCONF(NETDEV_CHANGE): %s: link becomes ready" % nic]


def t_ext4(r):
    dev = r.choice(EXT4_DEVS)
    k = r.random()
    if k < 0.4:
        return ["EXT4-fs (%s): mounted filesystem with ordered data mode. Opts: (null). "
                "Quota mode: none." % dev]
    if k < 0.6:
        return ["EXT4-fs (%s): unmounting filesystem." % dev]
    if k < 0.8:
        return ["EXT4-fs warning (device %s): ext4_dx_add_entry:%d: Directory (ino: %d) index full, "
                "reach max htree level :2" % (dev, 2459, r.randrange(100000, 9000000))]
    return ["EXT4-fs (%s): recovery complete" % dev,
            "EXT4-fs (%s): mounted filesystem with ordered data mode. Opts: errors=remount-ro. "
            "Quota mode: none." % dev]


def audit_stamp(r):
    return "audit(%d.%03d:%d)" % (1700000000 + r.randrange(3000000), r.randrange(1000),
                                  r.randrange(1000, 999999))


def t_audit(r):
    k = r.random()
    if k < 0.35:
        return ["audit: type=1400 %s: apparmor=\"DENIED\" operation=\"open\" profile=\"%s\" "
                "name=\"/proc/%d/mounts\" pid=%d comm=\"%s\" requested_mask=\"r\" denied_mask=\"r\" "
                "fsuid=0 ouid=0" % (audit_stamp(r), r.choice(PROFILES), r.randrange(300, 99999),
                                    r.randrange(300, 99999), r.choice(COMMS))]
    if k < 0.6:
        return ["audit: type=1334 %s: prog-id=%d op=%s" % (audit_stamp(r), r.randrange(20, 9000),
                                                          r.choice(["LOAD", "UNLOAD"]))]
    if k < 0.8:
        return ["audit: type=1400 %s: apparmor=\"STATUS\" operation=\"profile_replace\" "
                "profile=\"unconfined\" name=\"%s\" pid=%d comm=\"apparmor_parser\""
                % (audit_stamp(r), r.choice(PROFILES), r.randrange(300, 99999))]
    return ["audit: type=1326 %s: auid=4294967295 uid=0 gid=0 ses=4294967295 subj=unconfined "
            "pid=%d comm=\"runc\" exe=\"/usr/bin/runc\" sig=0 arch=c000003e syscall=%d compat=0 "
            "ip=0x%s code=0x7ffc0000" % (audit_stamp(r), r.randrange(300, 99999),
                                         r.randrange(0, 330), "55" + hexs(r, 10))]


def t_usb(r):
    port = "1-1.%d" % r.randrange(1, 7)
    num = r.randrange(2, 127)
    if r.random() < 0.45:
        return ["usb %s: USB disconnect, device number %d" % (port, num)]
    return ["usb %s: new high-speed USB device number %d using ehci-pci" % (port, num),
            "usb %s: New USB device found, idVendor=0781, idProduct=5567, bcdDevice= 1.00" % port,
            "usb %s: New USB device strings: Mfr=1, Product=2, SerialNumber=3" % port,
            "usb %s: Product: Cruzer Blade" % port,
            "usb %s: Manufacturer: SanDisk" % port,
            "usb-storage %s:1.0: USB Mass Storage device detected" % port,
            "scsi host%d: usb-storage %s:1.0" % (r.randrange(8, 16), port)]


def t_journald(r):
    pid = 512
    jid = hexs(r, 32)
    k = r.random()
    if k < 0.5:
        return ["systemd-journald[%d]: Data hash table of /var/log/journal/%s/system.journal "
                "has a fill level at 75.0 (%d of %d items, %d file size, %d bytes per hash table "
                "item), suggesting rotation." % (pid, jid, 174763, 233016, 134217728, 768)]
    if k < 0.8:
        return ["systemd-journald[%d]: /var/log/journal/%s/system.journal: Journal header limits "
                "reached or header out-of-date, rotating." % (pid, jid)]
    return ["systemd-journald[%d]: Under memory pressure, flushing caches." % pid]


def t_kvm(r):
    k = r.random()
    if k < 0.6:
        return ["kvm [%d]: vcpu%d, guest rIP: 0xffffffff%s disabled perfctr wrmsr: 0x%x data 0x%s"
                % (r.randrange(1000, 99999), r.randrange(8), hexs(r, 8),
                   r.choice([0xc2, 0xc1, 0x186, 0x187]), hexs(r, 4))]
    if k < 0.97:
        return ["kvm: vcpu %d: requested %d ns lapic timer period limited to 200000 ns"
                % (r.randrange(8), r.randrange(100, 200000))]
    return ["kvm_intel: L1TF CPU bug present and SMT on, data leak possible. See CVE-2018-3646 and "
            "https://www.kernel.org/doc/html/latest/admin-guide/hw-vuln/l1tf.html for details."]


def t_conntrack(r):
    if r.random() < 0.97:
        return ["nf_conntrack: nf_conntrack: table full, dropping packet"]
    return ["nf_conntrack: default automatic helper assignment has been turned off for security "
            "reasons and CT-based firewall rule not found. Use the iptables CT target to attach "
            "helpers instead."]


def t_probe(r):
    k = r.random()
    if k < 0.4:
        h = r.randrange(2, 9)
        d = r.choice(DISKS[:4])
        return ["scsi %d:0:0:0: Direct-Access     ATA      ST2000NM0055-1V4 SN04 PQ: 0 ANSI: 5" % h,
                "sd %d:0:0:0: Attached scsi generic sg%d type 0" % (h, h),
                "sd %d:0:0:0: [%s] 3907029168 512-byte logical blocks: (2.00 TB/1.82 TiB)" % (h, d),
                "sd %d:0:0:0: [%s] Write Protect is off" % (h, d),
                "sd %d:0:0:0: [%s] Mode Sense: 00 3a 00 00" % (h, d),
                "sd %d:0:0:0: [%s] Write cache: enabled, read cache: enabled, doesn't support "
                "DPO or FUA" % (h, d),
                "sd %d:0:0:0: [%s] Attached SCSI disk" % (h, d)]
    if k < 0.6:
        return ["pci 0000:%02x:%02x.%d: [8086:%s] type 00 class 0x%06x"
                % (r.randrange(0x100), r.randrange(32), r.randrange(8), hexs(r, 4),
                   r.choice([0x040300, 0x020000, 0x010802, 0x0c0330, 0x060400]))]
    if k < 0.8:
        return ["nvme nvme%d: %d/0/0 default/read/poll queues" % (r.randrange(2), NCPU)]
    return ["loop%d: detected capacity change from 0 to %d" % (r.randrange(40), r.randrange(8, 600000))]


def t_perf(r):
    if r.random() < 0.6:
        old = r.randrange(2500, 20000)
        return ["perf: interrupt took too long (%d > %d), lowering "
                "kernel.perf_event_max_sample_rate to %d" % (old, old - r.randrange(1, 400),
                                                             r.randrange(5000, 80000))]
    return ["INFO: NMI handler (perf_event_nmi_handler) took too long to run: %d.%03d msecs"
            % (r.randrange(0, 40), r.randrange(1000))]


def t_veth(r):
    veth = "veth" + hexs(r, 7)
    br = r.choice(["docker0", "br-" + hexs(r, 12), "cni0"])
    port = r.randrange(1, 40)
    if r.random() < 0.5:
        return ["%s: port %d(%s) entered blocking state" % (br, port, veth),
                "%s: port %d(%s) entered disabled state" % (br, port, veth),
                "device %s entered promiscuous mode" % veth,
                "eth0: renamed from veth" + hexs(r, 7),
                "IPv6: ADDRCONF(NETDEV_CHANGE): %s: link becomes ready" % veth,
                "%s: port %d(%s) entered blocking state" % (br, port, veth),
                "%s: port %d(%s) entered forwarding state" % (br, port, veth)]
    return ["%s: port %d(%s) entered disabled state" % (br, port, veth),
            "device %s left promiscuous mode" % veth,
            "%s: port %d(%s) entered disabled state" % (br, port, veth)]


def t_misc(r):
    k = r.random()
    if k < 0.15:
        return ["TCP: request_sock_TCP: Possible SYN flooding on port %d. Sending cookies.  "
                "Check SNMP counters." % r.choice([443, 80, 8443, 6443])]
    if k < 0.30:
        c = r.choice(COMMS)
        return ["%s[%d]: segfault at %s ip 0000%s sp 00007ff%s error 4 in libc.so.6[7f%s+195000]"
                % (c, r.randrange(300, 99999), hexs(r, 3), hexs(r, 12), hexs(r, 9), hexs(r, 10)),
                "Code: " + " ".join(hexs(r, 2) for _ in range(24))]
    if k < 0.40:
        return ["hrtimer: interrupt took %d ns" % r.randrange(100000, 9000000)]
    if k < 0.50:
        return ["cgroup: fork rejected by pids controller in /system.slice/%s.service"
                % r.choice(UNITS)]
    if k < 0.60:
        return ["EDAC MC%d: 1 CE memory read error on CPU_SrcID#%d_MC#%d_Chan#%d_DIMM#0 (channel:%d "
                "slot:0 page:0x%s offset:0x%s grain:32 syndrome:0x0 - err_code:0x0000:0x009f "
                "socket:%d imc:%d rank:%d bg:%d ba:%d row:%s col:%s)"
                % (r.randrange(2), r.randrange(2), r.randrange(2), r.randrange(3), r.randrange(3),
                   hexs(r, 6), hexs(r, 3), r.randrange(2), r.randrange(2), r.randrange(2),
                   r.randrange(4), r.randrange(4), hexs(r, 5), hexs(r, 3))]
    if k < 0.68:
        return ["[UFW BLOCK] IN=eno1 OUT= MAC=%s SRC=203.0.113.%d DST=198.51.100.7 LEN=40 TOS=0x00 "
                "PREC=0x00 TTL=%d ID=%d PROTO=TCP SPT=%d DPT=%d WINDOW=1024 RES=0x00 SYN URGP=0"
                % (":".join(hexs(r, 2) for _ in range(14)), r.randrange(1, 255), r.randrange(30, 250),
                   r.randrange(65536), r.randrange(1024, 65536), r.choice([22, 23, 3389, 5900, 8080]))]
    if k < 0.76:
        return ["process '%s' started with executable stack"
                % r.choice(["/usr/bin/wine64", "/opt/legacy/bin/agent", "/usr/local/bin/fw-tool"])]
    if k < 0.84:
        return ["mce: [Hardware Error]: Machine check events logged",
                "mce: CPU%d: Core temperature above threshold, cpu clock throttled (total events = %d)"
                % (r.randrange(NCPU), r.randrange(1, 9999)),
                "mce: CPU%d: Package temperature above threshold, cpu clock throttled (total events = %d)"
                % (r.randrange(NCPU), r.randrange(1, 9999))]
    if k < 0.92:
        return ["ipmi_si IPI0001:00: KCS in invalid state %d" % r.randrange(6, 8)]
    return ["Adding %dk swap on /swap.img.  Priority:-2 extents:%d across:%dk SSFS"
            % (r.randrange(1, 9) * 1048576, r.randrange(1, 20), r.randrange(1, 9) * 1048576)]


def t_blank(r):
    # Lines with an empty or whitespace-only message do occur (pr_cont leftovers).
    return [r.choice(["", " ", "  "])]


def t_oom(r):
    c = r.choice(COMMS)
    pid = r.randrange(300, 99999)
    return ["%s invoked oom-killer: gfp_mask=0x1100cca(GFP_HIGHUSER_MOVABLE), order=0, "
            "oom_score_adj=0" % c,
            "oom-kill:constraint=CONSTRAINT_MEMCG,nodemask=(null),cpuset=/,mems_allowed=0-1,"
            "oom_memcg=/kubepods/burstable/pod%s,task_memcg=/kubepods/burstable/pod%s/%s,task=%s,"
            "pid=%d,uid=1000" % (hexs(r, 8), hexs(r, 8), hexs(r, 12), c, pid),
            "Memory cgroup out of memory: Killed process %d (%s) total-vm:%dkB, anon-rss:%dkB, "
            "file-rss:%dkB, shmem-rss:0kB, UID:1000 pgtables:%dkB oom_score_adj:0"
            % (pid, c, r.randrange(10**6, 10**8), r.randrange(10**5, 10**7), r.randrange(10**4),
               r.randrange(1000, 90000))]


NOISE = [  # (weight, template)
    (12, t_link), (8, t_ext4), (14, t_audit), (5, t_usb), (6, t_journald), (8, t_kvm),
    (7, t_conntrack), (7, t_probe), (8, t_perf), (12, t_veth), (9, t_misc), (3, t_blank),
    (1, t_oom),
]


def build_noise_bank(r, n):
    total = sum(w for w, _ in NOISE)
    bank = []
    for _ in range(n):
        x = r.random() * total
        for w, fn in NOISE:
            x -= w
            if x < 0:
                break
        bank.append(tuple(fn(r)))
    return bank


# --------------------------------------------------------------------------
# Lockup-class reports and other traces.
# --------------------------------------------------------------------------

def tainted(flags):
    return "Tainted: %s" % flags


def b_hard_lockup(r):
    cpu = r.randrange(NCPU)
    out = ["watchdog: Watchdog detected hard LOCKUP on cpu %d" % cpu,
           "Modules linked in: " + MODULES,
           "CPU: %d PID: 0 Comm: swapper/%d %s     %s %s"
           % (cpu, cpu, tainted("G        W  OE"), KVER, KBUILD),
           "Hardware name: " + HW]
    out += regs(r, "native_queued_spin_lock_slowpath+0x1d0/0x200", "00000002")
    out += ["Call Trace:",
            " <NMI>",
            " ? show_regs.cold+0x1a/0x1f",
            " ? watchdog_overflow_callback.cold+0x1e/0x70",
            " ? watchdog_overflow_callback+0x6a/0x80",
            " ? __perf_event_overflow+0x57/0x100",
            " ? perf_event_overflow+0x14/0x20",
            " ? handle_pmi_common+0x1fb/0x3e0",
            " ? intel_pmu_handle_irq+0x10b/0x230",
            " ? perf_event_nmi_handler+0x2a/0x50",
            " ? nmi_handle+0x5e/0x120",
            " ? default_do_nmi+0x45/0x110",
            " ? exc_nmi+0x137/0x170",
            " ? end_repeat_nmi+0x16/0x67",
            " ? native_queued_spin_lock_slowpath+0x1d0/0x200",
            " </NMI>",
            " <TASK>",
            " _raw_spin_lock+0x2a/0x30",
            " double_rq_lock+0x3e/0x80",
            " load_balance+0x55c/0xa30",
            " newidle_balance+0x12e/0x3d0",
            " pick_next_task_fair+0x3c/0x3b0",
            " __schedule+0x1ba/0x5a0",
            " schedule_idle+0x26/0x40",
            " do_idle+0x16c/0x2b0",
            " cpu_startup_entry+0x20/0x30",
            " start_secondary+0x12a/0x180",
            " secondary_startup_64_no_verify+0xc2/0xcb",
            " </TASK>"]
    return out


SOFT_SITES = [
    ("kworker/%d:1", "Workqueue: events drain_vmap_area_work",
     "smp_call_function_many_cond+0x11b/0x350",
     [" ? smp_call_function_many_cond+0x11b/0x350",
      " ? flush_tlb_func+0x1f0/0x1f0",
      " on_each_cpu_cond_mask+0x1d/0x30",
      " flush_tlb_kernel_range+0x48/0x90",
      " __purge_vmap_area_lazy+0xc6/0x6f0",
      " drain_vmap_area_work+0x21/0x30",
      " process_one_work+0x228/0x3d0",
      " worker_thread+0x4d/0x3f0",
      " ? process_one_work+0x3d0/0x3d0",
      " kthread+0x127/0x150",
      " ? set_kthread_struct+0x50/0x50",
      " ret_from_fork+0x1f/0x30"]),
    ("kworker/%d:2", "Workqueue: mm_percpu_wq vmstat_update",
     "_raw_spin_unlock_irqrestore+0x25/0x30",
     [" refresh_cpu_vm_stats+0x171/0x230",
      " vmstat_update+0x16/0x50",
      " process_one_work+0x228/0x3d0",
      " worker_thread+0x4d/0x3f0",
      " ? process_one_work+0x3d0/0x3d0",
      " kthread+0x127/0x150",
      " ? set_kthread_struct+0x50/0x50",
      " ret_from_fork+0x1f/0x30"]),
    ("ksoftirqd/%d", None,
     "__nf_conntrack_find_get+0x98/0x2e0 [nf_conntrack]",
     [" nf_conntrack_in+0x1a4/0x620 [nf_conntrack]",
      " nf_hook_slow+0x44/0xc0",
      " ip_rcv+0x8e/0x110",
      " __netif_receive_skb_one_core+0x8a/0xa0",
      " process_backlog+0x9e/0x170",
      " __napi_poll+0x33/0x190",
      " net_rx_action+0x126/0x280",
      " __do_softirq+0xd9/0x2e7",
      " run_ksoftirqd+0x2b/0x40",
      " smpboot_thread_fn+0xd0/0x170",
      " kthread+0x127/0x150",
      " ret_from_fork+0x1f/0x30"]),
]


def b_soft_lockup(r):
    cpu = r.randrange(NCPU)
    comm_fmt, wq, rip, trace = SOFT_SITES[r.randrange(len(SOFT_SITES))]
    comm = comm_fmt % cpu
    pid = r.randrange(100, 4000)
    out = ["watchdog: BUG: soft lockup - CPU#%d stuck for %ds! [%s:%d]"
           % (cpu, r.choice([22, 22, 23, 26, 48, 52]), comm, pid),
           "Modules linked in: " + MODULES,
           "CPU: %d PID: %d Comm: %s %s    %s %s"
           % (cpu, pid, comm, tainted("G        W  OEL"), KVER, KBUILD),
           "Hardware name: " + HW]
    if wq:
        out.append(wq)
    out += regs(r, rip, "00000202")
    out += ["Call Trace:", " <TASK>"] + trace + [" </TASK>"]
    return out


def b_clocksource(r):
    cpu = r.randrange(NCPU)
    wd = r.choice(["hpet", "hpet", "acpi_pm"])
    mask = "ffffffff" if wd == "hpet" else "ffffff"
    return ["clocksource: timekeeping watchdog on CPU%d: Marking clocksource 'tsc' as unstable "
            "because the skew is too large:" % cpu,
            "clocksource:                       '%s' wd_nsec: %d wd_now: %s wd_last: %s mask: %s"
            % (wd, r.randrange(480000000, 520000000), hexs(r, 7), hexs(r, 7), mask),
            "clocksource:                       'tsc' cs_nsec: %d cs_now: %s cs_last: %s "
            "mask: ffffffffffffffff" % (r.randrange(400000000, 900000000), hexs(r, 11), hexs(r, 11)),
            "clocksource:                       'tsc' is current clocksource.",
            "tsc: Marking TSC unstable due to clocksource watchdog",
            "TSC found unstable after boot, most likely due to broken BIOS. Use 'tsc=unstable'.",
            "sched_clock: Marking unstable (%d, %d)<-(%d, %d)"
            % (r.randrange(10**12, 10**13), -r.randrange(10**6), r.randrange(10**12, 10**13),
               -r.randrange(10**6)),
            "clocksource: Checking clocksource tsc synchronization from CPU %d to CPUs 0-%d,%d-%d."
            % (cpu, max(cpu - 1, 0), cpu + 1, NCPU - 1),
            "clocksource: Switched to clocksource " + wd]


def b_rt_throttling(r):
    out = []
    if r.random() < 0.5:
        out.append("sched: RT throttling activated")
    else:
        out += ["irq/%d-mlx5_comp%d: RT priority 50, throttled after %d us"
                % (r.randrange(100, 300), r.randrange(NCPU), r.randrange(950000, 1000000)),
                "sched: RT throttling activated"]
    return out


def b_rcu_nmi_backtrace(r):
    cpu = r.randrange(NCPU)
    det = (cpu + 1 + r.randrange(NCPU - 1)) % NCPU
    comm = r.choice(COMMS)
    pid = r.randrange(300, 99999)
    out = ["rcu: INFO: rcu_sched self-detected stall on CPU" if r.random() < 0.2 else
           "rcu: INFO: rcu_sched detected stalls on CPUs/tasks:",
           "rcu: \t%d-....: (%d ticks this GP) idle=%s/1/0x4000000000000000 softirq=%d/%d fqs=%d"
           % (cpu, r.randrange(15000, 60000), hexs(r, 3), r.randrange(10**6, 10**8),
              r.randrange(10**6, 10**8), r.randrange(1000, 20000)),
           "\t(detected by %d, t=%d jiffies, g=%d, q=%d)"
           % (det, r.choice([60002, 240007, 15003]), r.randrange(10**6, 10**9), r.randrange(100, 90000)),
           "Sending NMI from CPU %d to CPUs %d:" % (det, cpu),
           "NMI backtrace for cpu %d" % cpu,
           "CPU: %d PID: %d Comm: %s %s     %s %s"
           % (cpu, pid, comm, tainted("G        W  OE"), KVER, KBUILD),
           "Hardware name: " + HW]
    out += regs(r, "native_queued_spin_lock_slowpath+0x1d0/0x200", "00000046", cs_user=True)
    out += ["Call Trace:",
            " <TASK>",
            " _raw_spin_lock_irqsave+0x3d/0x50",
            " try_to_wake_up+0x1d8/0x5c0",
            " wake_up_q+0x4a/0x90",
            " futex_wake+0x160/0x190",
            " do_futex+0x162/0x1f0",
            " __x64_sys_futex+0x78/0x1e0",
            " do_syscall_64+0x59/0xc0",
            " entry_SYSCALL_64_after_hwframe+0x62/0xcc",
            "RIP: 0033:0x7f%s" % hexs(r, 10),
            "RSP: 002b:00007f%s EFLAGS: 00000246 ORIG_RAX: 00000000000000ca" % hexs(r, 10),
            " </TASK>"]
    return out


BLOCKS = [(30, b_hard_lockup), (30, b_soft_lockup), (15, b_clocksource), (15, b_rt_throttling),
          (10, b_rcu_nmi_backtrace)]


def b_hung_task(r):
    comm = r.choice(["jbd2/dm-3-8", "kworker/u96:%d" % r.randrange(10), "postgres", "dockerd"])
    pid = r.randrange(300, 99999)
    return ["INFO: task %s:%d blocked for more than 120 seconds." % (comm, pid),
            "      %s %s %s" % (tainted("G        W  OE"), KVER, KBUILD),
            "\"echo 0 > /proc/sys/kernel/hung_task_timeout_secs\" disables this message.",
            "task:%-15s state:D stack:    0 pid:%5d ppid:     2 flags:0x00004000" % (comm, pid),
            "Call Trace:",
            " <TASK>",
            " __schedule+0x24e/0x5a0",
            " schedule+0x69/0x110",
            " io_schedule+0x46/0x80",
            " bit_wait_io+0x11/0x70",
            " __wait_on_bit+0x33/0xa0",
            " out_of_line_wait_on_bit+0x8d/0xb0",
            " jbd2_journal_commit_transaction+0x16a4/0x1ad0",
            " kjournald2+0xa9/0x280",
            " kthread+0x127/0x150",
            " ret_from_fork+0x1f/0x30",
            " </TASK>"]


def b_netdev_watchdog(r):
    cpu = r.randrange(NCPU)
    return ["------------[ cut here ]------------",
            "NETDEV WATCHDOG: eno1 (tg3): transmit queue %d timed out" % r.randrange(4),
            "WARNING: CPU: %d PID: 0 at net/sched/sch_generic.c:477 dev_watchdog+0x21f/0x230" % cpu,
            "Modules linked in: " + MODULES,
            "CPU: %d PID: 0 Comm: swapper/%d %s     %s %s"
            % (cpu, cpu, tainted("G        W  OE"), KVER, KBUILD),
            "Hardware name: " + HW] + regs(r, "dev_watchdog+0x21f/0x230", "00010282") + [
            "Call Trace:",
            " <IRQ>",
            " ? pfifo_fast_enqueue+0x160/0x160",
            " call_timer_fn+0x2c/0x100",
            " __run_timers.part.0+0x1e7/0x270",
            " run_timer_softirq+0x2a/0x60",
            " __do_softirq+0xd9/0x2e7",
            " irq_exit_rcu+0x8c/0xb0",
            " sysvec_apic_timer_interrupt+0x7c/0x90",
            " </IRQ>",
            " <TASK>",
            " asm_sysvec_apic_timer_interrupt+0x12/0x20",
            " cpuidle_enter_state+0xd9/0x620",
            " cpuidle_enter+0x2e/0x40",
            " do_idle+0x20d/0x2b0",
            " cpu_startup_entry+0x20/0x30",
            " start_secondary+0x12a/0x180",
            " secondary_startup_64_no_verify+0xc2/0xcb",
            " </TASK>",
            "---[ end trace %s ]---" % hexs(r, 16)]


def pick(r, table):
    total = sum(w for w, _ in table)
    x = r.random() * total
    for w, fn in table:
        x -= w
        if x < 0:
            return fn
    return table[-1][1]


BOOT = [
    "Linux version %s (buildd@lcy02-amd64-045) (gcc (Ubuntu 11.4.0-1ubuntu1~22.04) 11.4.0, GNU ld "
    "(GNU Binutils for Ubuntu) 2.38) %s SMP Mon Nov 20 18:15:30 UTC 2023 (Ubuntu %s 5.15.131)"
    % (KVER, KBUILD, KVER[:-8]),
    "Command line: BOOT_IMAGE=/vmlinuz-%s root=UUID=4a1c3e0b-9b7f-4b8e-8f3a-2d6c1f0e7a55 ro "
    "console=tty0 console=ttyS1,115200n8 nmi_watchdog=1 crashkernel=512M-:192M" % KVER,
    "KERNEL supported cpus:",
    "  Intel GenuineIntel",
    "  AMD AuthenticAMD",
    "x86/fpu: Supporting XSAVE feature 0x001: 'x87 floating point registers'",
    "x86/fpu: Supporting XSAVE feature 0x002: 'SSE registers'",
    "x86/fpu: Supporting XSAVE feature 0x004: 'AVX registers'",
    "x86/fpu: Enabled xstate features 0x2e7, context size is 2440 bytes, using 'compacted' format.",
    "BIOS-provided physical RAM map:",
    "BIOS-e820: [mem 0x0000000000000000-0x000000000009ffff] usable",
    "BIOS-e820: [mem 0x0000000000100000-0x000000006b7fefff] usable",
    "NX (Execute Disable) protection: active",
    "SMBIOS 3.2.0 present.",
    "DMI: " + HW,
    "tsc: Detected 2100.000 MHz processor",
    "ACPI: Early table checksum verification disabled",
    "smpboot: Allowing %d CPUs, 0 hotplug CPUs" % NCPU,
    "Kernel command line: BOOT_IMAGE=/vmlinuz-%s root=UUID=4a1c3e0b-9b7f-4b8e-8f3a-2d6c1f0e7a55 ro"
    % KVER,
    "Memory: 395890632K/401371060K available (16393K kernel code, 4380K rwdata, 10840K rodata, "
    "3240K init, 6600K bss, 5480428K reserved, 0K cma-reserved)",
    "rcu: Hierarchical RCU implementation.",
    "NR_IRQS: 524544, nr_irqs: 2168, preallocated irqs: 16",
    "Console: colour dummy device 80x25",
    "clocksource: hpet: mask: 0xffffffff max_cycles: 0xffffffff, max_idle_ns: 133484882848 ns",
    "clocksource: tsc-early: mask: 0xffffffffffffffff max_cycles: 0x1e452ea631d, "
    "max_idle_ns: 440795244572 ns",
    "smp: Brought up 2 nodes, %d CPUs" % NCPU,
    "NMI watchdog: Enabled. Permanently consumes one hw-PMU counter.",
    "clocksource: Switched to clocksource tsc",
    "EXT4-fs (nvme0n1p2): mounted filesystem with ordered data mode. Opts: (null). Quota mode: none.",
    "systemd[1]: systemd 249.11-0ubuntu3.11 running in system mode (+PAM +AUDIT +SELINUX +APPARMOR "
    "+IMA +SMACK +SECCOMP +GCRYPT +GNUTLS -OPENSSL +ACL +BLKID +CURL +ELFUTILS +FIDO2 +IDN2 -IDN "
    "+IPTC +KMOD +LIBCRYPTSETUP +LIBFDISK +PCRE2 -PWQUALITY -P11KIT -QRENCODE +BZIP2 +LZ4 +XZ +ZLIB "
    "+ZSTD -XKBCOMMON +UTMP +SYSVINIT default-hierarchy=unified)",
    "systemd[1]: Detected architecture x86-64.",
    "systemd-journald[512]: Received client request to flush runtime journal.",
]


class Writer:
    """Buffers lines, tracks the timestamp clock and the remaining byte budget."""

    def __init__(self, f, budget):
        self.f = f
        self.budget = budget
        self.buf = []
        self.buflen = 0
        self.us = 0          # kernel clock in microseconds
        self.lines = 0

    @staticmethod
    def prefix(us):
        return "[%5d.%06d] " % divmod(us, 1000000)

    def render(self, msgs, step_us):
        """Render msgs starting at the current clock + first step, consecutive lines step_us apart."""
        us = self.us
        out = []
        for i, m in enumerate(msgs):
            if i:
                us += step_us
            out.append("[%5d.%06d] %s\n" % (us // 1000000, us % 1000000, m))
        return out, us

    def try_emit(self, msgs, gap_us, step_us, reserve):
        """Emit msgs if at least `reserve` bytes remain afterwards; return False if not."""
        saved = self.us
        self.us += gap_us
        lines, end_us = self.render(msgs, step_us)
        data = "".join(lines)
        n = len(data)  # ASCII only, so chars == bytes
        if self.budget - n < reserve:
            self.us = saved
            return False
        self.us = end_us
        self.buf.append(data)
        self.buflen += n
        self.budget -= n
        self.lines += len(msgs)
        if self.buflen >= (4 << 20):
            self.flush()
        return True

    def flush(self):
        if self.buf:
            self.f.write("".join(self.buf).encode("ascii"))
            self.buf = []
            self.buflen = 0


def final_line(r, w):
    """One last audit line padded (via a long overlayfs path) to exactly the remaining budget."""
    prefix = "[%5d.%06d] " % divmod(w.us + r.randrange(1, 5000), 1000000)
    head = ("audit: type=1400 %s: apparmor=\"DENIED\" operation=\"open\" profile=\"docker-default\" "
            "name=\"/var/lib/docker/overlay2/" % audit_stamp(r))
    tail = "/merged/proc/sys/kernel/ns_last_pid\" pid=%d comm=\"runc\" requested_mask=\"r\" " \
           "denied_mask=\"r\" fsuid=0 ouid=0\n" % r.randrange(300, 99999)
    pad = w.budget - len(prefix) - len(head) - len(tail)
    if pad < 1:
        raise RuntimeError("internal error: final line budget too small (%d)" % w.budget)
    filler = "".join("/" if i % 65 == 64 else c for i, c in enumerate(hexs(r, pad)))
    if filler.endswith("/"):
        filler = filler[:-1] + "0"
    line = prefix + head + filler + tail
    assert len(line) == w.budget
    w.buf.append(line)
    w.budget = 0
    w.lines += 1


def generate(f, size_bytes, seed):
    r = random.Random(seed)
    bank = build_noise_bank(r, 50000)
    nbank = len(bank)
    w = Writer(f, size_bytes)
    reserve = 512  # always leave room for the padded final line

    # Boot preamble: first second of uptime.
    if not w.try_emit(BOOT, 0, 0, reserve):
        raise SystemExit("size too small (need at least 1 MiB)")
    w.us = 4_000_000 + r.randrange(1_000_000)

    next_lockup = w.lines + r.randrange(40000, 60001)
    next_other = w.lines + r.randrange(150000, 250001)
    rnd = r.random
    rr = r.randrange
    emit = w.try_emit
    while True:
        if w.lines >= next_lockup:
            msgs = pick(r, BLOCKS)(r)
            next_lockup = w.lines + rr(40000, 60001)
            if not emit(msgs, rr(1000, 2_000_000), rr(1, 12), reserve):
                break
            continue
        if w.lines >= next_other:
            msgs = (b_hung_task if rnd() < 0.5 else b_netdev_watchdog)(r)
            next_other = w.lines + rr(150000, 250001)
            if not emit(msgs, rr(1000, 2_000_000), rr(1, 12), reserve):
                break
            continue
        msgs = bank[rr(nbank)]
        # Bursty clock: mostly microseconds apart, sometimes a quiet period.
        x = rnd()
        if x < 0.70:
            gap = rr(1, 4000)
        elif x < 0.97:
            gap = rr(4000, 1_000_000)
        else:
            gap = rr(1_000_000, 8_000_000)
        if not emit(msgs, gap, rr(1, 60), reserve):
            break
    # Top up with short single-line messages, then one padded line to hit the size exactly.
    singles = [m[0] for m in bank if len(m) == 1 and 20 <= len(m[0]) <= 140]
    while emit((singles[rr(len(singles))],), rr(1, 4000), 0, reserve):
        pass
    final_line(r, w)
    w.flush()
    return w.lines, w.us


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--size-mb", type=int, default=1024, help="output size in MiB (default 1024)")
    ap.add_argument("--seed", type=int, default=DEFAULT_SEED, help="RNG seed (default %(default)s)")
    ap.add_argument("-o", "--output", required=True, help="output file ('-' for stdout)")
    a = ap.parse_args()
    if a.size_mb < 1:
        ap.error("--size-mb must be >= 1")
    size = a.size_mb * MIB
    if a.output == "-":
        lines, us = generate(sys.stdout.buffer, size, a.seed)
    else:
        tmp = a.output + ".part"
        try:
            with open(tmp, "wb") as f:
                lines, us = generate(f, size, a.seed)
            if os.path.getsize(tmp) != size:
                raise RuntimeError("generated %d bytes, expected %d" % (os.path.getsize(tmp), size))
            os.replace(tmp, a.output)
        except BaseException:
            try:
                os.unlink(tmp)
            except OSError:
                pass
            raise
    print("generate-dmesg: %d lines, %d bytes, last timestamp %.6f s (~%.1f days), seed %d"
          % (lines, size, us / 1e6, us / 86400e6, a.seed), file=sys.stderr)


if __name__ == "__main__":
    main()
