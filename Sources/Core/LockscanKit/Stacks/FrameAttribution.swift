/// Which function a lockup report is "in": the rules behind titles such as
/// `BUG: soft lockup in FUNC`, `INFO: rcu detected stall in FUNC` and
/// `INFO: task hung in FUNC`, the way kernel bug trackers (syzbot) title them,
/// so lockscan's titles deduplicate against theirs.
///
/// The idea: a stack is mostly plumbing. Locking primitives, printk, dump
/// and sanitizer hooks, allocators, string/list helpers say nothing about
/// which subsystem hung. Below the plumbing there is a dispatch point — a
/// syscall entry, a workqueue item, a timer, a softirq, a kthread start —
/// and the frame just above it is the code that was dispatched: that is the
/// culprit a maintainer wants in the title. Every list here is data (one
/// place to extend) and each entry is a kernel function name or name part.
public enum FrameAttribution {
    /// How an entry matches a function name.
    public enum Match: Sendable {
        case exact(String)
        case prefix(String)
        case contains(String)

        /// `contains` is a byte search (`includes`): Foundation's
        /// `String.contains` (CFStringFind) checked every frame of every
        /// report against these lists and was a tenth of a scan of a
        /// soft-lockup storm. Symbol names are ASCII, so bytes and
        /// characters agree.
        func matches(_ name: String) -> Bool {
            switch self {
            case let .exact(s): name == s
            case let .prefix(s): name.hasPrefix(s)
            case let .contains(s): name.includes(s)
            }
        }
    }

    /// A list of `Match`es made ready to ask many times: exact names and
    /// prefixes by their first byte, so a name is compared with the few
    /// entries that can match it instead of all of them. Every frame of
    /// every report is asked against the plumbing and NMI lists (about 250
    /// entries), which was a tenth of a scan of a soft-lockup storm.
    public struct MatchSet: Sendable {
        /// By first byte: the entries that may match a name starting with it.
        private var exact = [[[UInt8]]](repeating: [], count: 256)
        private var prefixes = [[[UInt8]]](repeating: [], count: 256)
        /// The `contains` entries as one multi-literal search: a name is
        /// searched once, not once per entry (the plumbing list has a
        /// dozen, and every frame of every report is asked).
        private var partsSearch: TriggerSearch?
        /// An empty prefix or part: every name matches.
        private var matchesEmpty = false
        /// An empty exact name: the empty name matches.
        private var matchesEmptyName = false

        public init(_ matches: [Match]) {
            var parts: [[UInt8]] = []
            for m in matches {
                switch m {
                case let .exact(s):
                    guard let first = s.utf8.first else { matchesEmptyName = true; continue }
                    exact[Int(first)].append(Array(s.utf8))
                case let .prefix(s):
                    guard let first = s.utf8.first else { matchesEmpty = true; continue }
                    prefixes[Int(first)].append(Array(s.utf8))
                case let .contains(s):
                    if s.isEmpty { matchesEmpty = true } else { parts.append(Array(s.utf8)) }
                }
            }
            partsSearch = parts.isEmpty ? nil : TriggerSearch(parts)
        }

        /// True exactly when one of the list's entries `matches(name)`. The
        /// entries are kernel symbol names, ASCII, so comparing bytes is
        /// comparing characters, except that a name may go on with a
        /// combining mark right after a prefix's last byte: such a name
        /// (never a kernel's) is asked as a `String`.
        public func matches(_ name: String) -> Bool {
            if matchesEmpty || (matchesEmptyName && name.isEmpty) { return true }
            var utf8 = name
            let byEntry = utf8.withUTF8 { b -> Bool in
                guard let first = b.first else { return false }
                if exact[Int(first)].contains(where: { $0.elementsEqual(b) }) { return true }
                return prefixes[Int(first)].contains { p in
                    guard p.count <= b.count, b.starts(with: p) else { return false }
                    return p.count == b.count || b[p.count] < 0x80 || name.hasPrefix(String(decoding: p, as: UTF8.self))
                }
            }
            return byEntry || (partsSearch?.matches(name) ?? false)
        }
    }

    /// Frames that never name the culprit.
    public static let plumbing: [Match] = [
        // locking primitives and lockdep
        .contains("spin_lock"), .contains("spin_unlock"), .contains("spin_trylock"), .prefix("_raw_"), .prefix("raw_spin"),
        .prefix("do_raw_"), .contains("queued_spin"), .contains("queued_read"), .contains("queued_write"),
        .prefix("mutex_"), .prefix("__mutex_"), .prefix("down_read"), .prefix("down_write"), .prefix("up_read"), .prefix("up_write"),
        .prefix("__down"), .exact("down"), .exact("up"), .prefix("rwsem_"), .prefix("__rwsem"), .contains("lock_acquire"),
        .contains("lock_release"), .prefix("lockdep_"), .prefix("__lock_"), .prefix("lock_"), .prefix("rt_mutex"),
        .prefix("__rt_mutex"), .prefix("percpu_down"), .prefix("percpu_up"), .prefix("_read_lock"), .prefix("_write_lock"),
        .prefix("read_lock"), .prefix("write_lock"), .prefix("read_unlock"), .prefix("write_unlock"), .prefix("seqcount"),
        .prefix("__seqprop"), .prefix("pv_wait"), .prefix("kvm_wait"), .prefix("native_"), .prefix("__native_"),
        .prefix("arch_spin"), .prefix("arch_read"), .prefix("arch_write"), .prefix("preempt_count"), .prefix("preempt_schedule"),
        .prefix("__preempt"), .prefix("check_preemption_disabled"), .prefix("debug_smp_processor_id"),
        .prefix("__cant_sleep"), .prefix("___might_sleep"), .prefix("__might_sleep"), .prefix("might_sleep"),
        .prefix("__might_fault"), .prefix("might_fault"),
        // irq state and tracing
        .prefix("trace_hardirqs"), .prefix("lockdep_hardirqs"), .prefix("local_irq"), .prefix("arch_local_irq"),
        .prefix("__local_bh"), .prefix("_local_bh"), .prefix("local_bh"), .prefix("irq_exit"), .prefix("__irq_exit"),
        .prefix("irqentry_"), .prefix("rcu_irq_"), .prefix("trace_"), .prefix("__trace_"), .prefix("perf_trace"),
        // printing, dumping, warning, panicking
        .contains("printk"), .prefix("console_unlock"), .prefix("console_lock"), .prefix("console_trylock"),
        .prefix("console_conditional_schedule"), .prefix("console_emit"), .prefix("console_flush"), .prefix("dump_stack"), .prefix("show_stack"), .prefix("show_regs"),
        .prefix("show_trace"), .prefix("sched_show_task"), .prefix("_sched_show_task"), .prefix("panic"), .prefix("nmi_panic"),
        .prefix("warn_"), .prefix("__warn"), .prefix("report_bug"), .prefix("fixup_bug"), .prefix("do_error_trap"),
        .prefix("do_invalid_op"), .prefix("handle_bug"), .prefix("exc_invalid_op"), .prefix("asm_exc_invalid_op"),
        .prefix("dev_err"), .prefix("dev_warn"), .prefix("dev_info"), .prefix("dev_printk"), .prefix("_dev_"),
        .prefix("__dev_printk"), .prefix("print_"), .prefix("nmi_cpu_backtrace"), .prefix("nmi_trigger_cpumask_backtrace"),
        .prefix("arch_trigger_cpumask_backtrace"), .prefix("trigger_"), .prefix("watchdog_timer_fn"),
        .prefix("watchdog_overflow_callback"),
        // sanitizers and coverage
        .prefix("kasan"), .prefix("__kasan"), .prefix("kcsan"), .prefix("__kcsan"), .prefix("kmsan"), .prefix("__kmsan"),
        .prefix("__msan"), .prefix("__asan"), .prefix("__tsan"), .prefix("__ubsan"), .prefix("ubsan_"), .prefix("check_memory_region"),
        .prefix("__sanitizer_cov"), .prefix("write_comp_data"), .prefix("kcov"), .prefix("__kcov"), .prefix("check_heap_object"),
        .prefix("check_object_size"), .prefix("__check_object_size"), .prefix("kfence"), .prefix("__kfence"),
        .prefix("memory_is_poisoned"), .prefix("stack_trace_"), .prefix("save_stack"), .prefix("arch_stack_walk"),
        .prefix("unwind_"), .prefix("__unwind"), .prefix("stack_depot"), .prefix("__stack_depot"),
        // allocators
        .prefix("kmalloc"), .prefix("__kmalloc"), .prefix("kzalloc"), .prefix("kcalloc"), .prefix("krealloc"),
        .prefix("__krealloc"), .prefix("kvmalloc"), .prefix("kvzalloc"), .prefix("kvfree"), .prefix("kfree"), .prefix("__kfree"),
        .prefix("kmem_cache"), .prefix("__kmem_cache"), .prefix("slab_"), .prefix("__slab"), .prefix("___slab"),
        .prefix("slub_"), .prefix("new_slab"), .prefix("allocate_slab"), .prefix("cache_alloc"), .prefix("____cache_alloc"),
        .prefix("__cache_free"), .prefix("__alloc_pages"), .prefix("alloc_pages"), .prefix("__get_free_pages"),
        .prefix("get_page_from_freelist"), .prefix("vmalloc"), .prefix("__vmalloc"), .prefix("vzalloc"), .prefix("vfree"),
        .prefix("__vfree"), .prefix("kstrdup"), .prefix("kmemdup"), .prefix("memdup_user"), .prefix("__kvmalloc"),
        .prefix("alloc_pages_current"), .prefix("alloc_pages_vma"), .prefix("__folio_alloc"), .prefix("folio_alloc"),
        .prefix("should_fail"), .prefix("__should_fail"), .prefix("should_failslab"),
        // page-cache helpers behind their public API (read_cache_folio → do_read_cache_folio)
        .prefix("do_read_cache_"),
        // memory, strings, user copies, lists and bits
        .prefix("memcpy"), .prefix("__memcpy"), .prefix("memset"), .prefix("__memset"), .prefix("memmove"), .prefix("__memmove"),
        .prefix("memcmp"), .prefix("memchr"), .prefix("strcpy"), .prefix("strncpy"), .prefix("strscpy"), .prefix("strlen"),
        .prefix("strnlen"), .prefix("strcmp"), .prefix("strncmp"), .prefix("strchr"), .prefix("strstr"), .prefix("strlcpy"),
        .prefix("copy_user"), .prefix("_copy_"), .prefix("__copy_"), .prefix("copy_to_user"), .prefix("copy_from_user"),
        .prefix("raw_copy_"), .prefix("copyin"), .prefix("copyout"), .prefix("strncpy_from_user"), .prefix("__get_user"),
        .prefix("__put_user"), .prefix("get_user"), .prefix("put_user"), .prefix("clear_user"), .prefix("__clear_user"),
        .prefix("rep_movs"), .prefix("list_"), .prefix("__list_"), .prefix("hlist_"), .prefix("rb_"), .prefix("__rb_"),
        .prefix("atomic_"), .prefix("atomic64_"), .prefix("arch_atomic"), .prefix("refcount_"), .prefix("kref_"),
        .prefix("test_bit"), .prefix("set_bit"), .prefix("clear_bit"), .prefix("change_bit"), .prefix("test_and_"),
        .prefix("find_next_bit"), .prefix("find_first_bit"), .prefix("_find_next_bit"), .prefix("__bitmap"), .prefix("bitmap_"),
        .prefix("idr_"), .prefix("ida_"), .prefix("xa_"), .prefix("xas_"), .prefix("__xa"), .prefix("radix_tree"),
        // work and timer plumbing, object helpers
        .prefix("flush_work"), .prefix("__flush_work"), .prefix("flush_workqueue"), .prefix("__flush_workqueue"),
        .prefix("queue_work"), .prefix("__queue_work"), .prefix("queue_delayed_work"), .prefix("mod_delayed_work"),
        .prefix("cancel_work"), .prefix("__cancel_work"), .prefix("cancel_delayed_work"), .prefix("del_timer"),
        .prefix("try_to_del_timer"), .prefix("timer_delete"), .prefix("__timer_delete"), .prefix("mod_timer"), .prefix("__mod_timer"),
        .prefix("add_timer"), .prefix("kobject_"), .prefix("kobj_"), .prefix("device_"), .prefix("__device_"),
        .prefix("put_device"), .prefix("get_device"), .prefix("usb_submit_urb"), .prefix("usb_start_wait_urb"),
        .prefix("usb_bulk_msg"), .prefix("usb_control_msg"), .prefix("usb_kill_urb"), .prefix("usb_hcd_submit_urb"),
        .prefix("complete"), .prefix("__wake_up"), .prefix("wake_up"), .prefix("try_to_wake_up"), .prefix("default_wake_function"),
        .prefix("autoremove_wake_function"), .prefix("__update_load"), .prefix("update_load_avg"), .prefix("update_curr"),
        .prefix("sched_clock"), .prefix("ktime_get"), .prefix("read_tsc"), .prefix("kvm_clock_get_cycles"), .prefix("kvm_clock_read"),
        .prefix("pvclock_"), .prefix("delay_tsc"), .prefix("__delay"), .prefix("__const_udelay"), .prefix("__udelay"),
        .prefix("cpu_relax"), .prefix("rep_nop"), .prefix("__schedule"), .prefix("schedule"), .prefix("_cond_resched"),
        .prefix("__cond_resched"), .prefix("cond_resched"), .prefix("preempt_"), .prefix("fput"),
        .prefix("exit_to_user_mode_prepare"), .prefix("syscall_exit"), .prefix("__syscall_exit"),
        // interrupt and exception entry: how the CPU got here, not what it ran
        .contains("apic_timer_interrupt"), .prefix("sysvec_"), .prefix("__sysvec_"), .prefix("asm_sysvec_"),
        .prefix("asm_exc_"), .prefix("exc_page_fault"), .prefix("do_user_addr_fault"), .prefix("__do_page_fault"),
        .prefix("do_page_fault"), .prefix("page_fault"), .prefix("async_page_fault"), .prefix("irq_exit_rcu"),
        .prefix("irqentry_exit"), .prefix("retint_kernel"), .prefix("preempt_schedule_irq"), .prefix("asm_call_on_stack"),
        .prefix("asm_call_irq_on_stack"), .prefix("call_on_irq_stack"), .prefix("do_softirq_own_stack"),
        .prefix("el1h_64_irq"), .prefix("el1_interrupt"), .prefix("gic_handle_irq"), .prefix("handle_domain_irq"),
        .prefix("__handle_domain_irq"), .prefix("__irq_svc"), .prefix("__irq_usr"),
        .prefix("unwind_backtrace"), .prefix("dump_backtrace"),
        .prefix("exit_to_usermode"), .prefix("prepare_exit_to_usermode"), .prefix("ret_from_intr"), .prefix("retint_"),
        .prefix("restore_regs"), .prefix("common_interrupt"), .prefix("asm_common_interrupt"), .prefix("do_IRQ"),
        .prefix("handle_irq"), .prefix("handle_edge_irq"), .prefix("handle_fasteoi_irq"), .prefix("generic_handle_irq"),
        .prefix("__handle_irq_event"), .prefix("handle_irq_event"),
    ]

    /// Compatibility shims: skipped like plumbing, but named when nothing
    /// else stands above the dispatch point (`kvm_vm_compat_ioctl` alone).
    public static let shims: [Match] = [.contains("compat_ioctl"), .contains("_compat_")]

    /// Dispatch points: the frame printed just above the first of these is
    /// the dispatched code. `smp_call_function*` is special: it is its own
    /// culprit (the CPU waits there for other CPUs).
    public static let anchors: [Match] = [
        .prefix("do_syscall_"), .prefix("do_fast_syscall_"), .prefix("do_int80_syscall"), .prefix("entry_SYSCALL"),
        .prefix("entry_SYSENTER"), .prefix("entry_INT80"), .prefix("sysenter_dispatch"), .prefix("cstar_dispatch"),
        .prefix("ia32_do_call"), .prefix("system_call_fastpath"), .prefix("tracesys"), .prefix("ret_fast_syscall"),
        .prefix("__sys_trace"), .prefix("vector_swi"), .prefix("compat_SyS_ioctl"), .prefix("blkdev_ioctl"),
        .prefix("compat_blkdev_ioctl"), .prefix("__blkdev_driver_ioctl"), .prefix("__do_fault"),
        .prefix("sock_common_setsockopt"), .prefix("sock_common_getsockopt"), .prefix("sock_common_recvmsg"), .prefix("x64_sys_call"), .prefix("x32_sys_call"), .prefix("ia32_sys_call"),
        .prefix("invoke_syscall"), .prefix("el0_svc"), .prefix("__invoke_syscall"), .prefix("system_call"),
        .prefix("process_one_work"), .prefix("process_scheduled_works"), .prefix("worker_thread"), .exact("kthread"),
        .prefix("ret_from_fork"), .prefix("call_timer_fn"), .prefix("expire_timers"), .prefix("__run_timers"),
        .prefix("run_timer_softirq"), .prefix("run_timer_base"), .prefix("__hrtimer_run_queues"), .prefix("__run_hrtimer"),
        .prefix("do_softirq"), .prefix("__do_softirq"), .prefix("handle_softirqs"), .prefix("net_rx_action"),
        .prefix("net_tx_action"), .prefix("tasklet_action"), .prefix("tasklet_action_common"), .prefix("tasklet_hi_action"), .prefix("__tasklet_action"),
        .prefix("rcu_do_batch"), .prefix("rcu_core"), .prefix("__netif_receive_skb"), .prefix("netif_receive_skb"),
        .prefix("__netif_rx"), .prefix("netif_rx"), .prefix("process_backlog"), .prefix("napi_poll"), .prefix("__napi_poll"),
        .prefix("vfs_read"), .prefix("vfs_write"), .prefix("vfs_readv"), .prefix("vfs_writev"), .prefix("vfs_ioctl"),
        .prefix("vfs_iter_read"), .prefix("vfs_iter_write"), .prefix("do_iter_read"), .prefix("do_iter_write"),
        .prefix("__vfs_read"), .prefix("__vfs_write"), .prefix("new_sync_read"), .prefix("new_sync_write"),
        .prefix("sock_sendmsg"), .prefix("sock_recvmsg"), .prefix("sock_write_iter"), .prefix("sock_read_iter"),
        // file operations reached through a dispatcher: the driver's method is the culprit
        .prefix("__fput"), .prefix("____fput"), .prefix("task_work_run"), .prefix("do_dentry_open"), .prefix("mmap_region"),
        .prefix("call_mmap"), .prefix("__x64_sys_ioctl"), .prefix("__se_sys_ioctl"), .prefix("__do_sys_ioctl"),
        .prefix("ksys_ioctl"), .prefix("__ia32_compat_sys_ioctl"), .prefix("__x64_compat_sys_ioctl"),
        .prefix("__se_compat_sys_ioctl"), .prefix("__do_compat_sys_ioctl"), .prefix("compat_sys_ioctl"), .prefix("__arm64_sys_ioctl"),
        // netlink: the message handler is the culprit, not the socket plumbing
        .prefix("netlink_rcv_skb"), .prefix("rtnetlink_rcv_msg"), .prefix("nfnetlink_rcv_msg"), .prefix("nfnetlink_rcv_batch"),
        .prefix("genl_rcv_msg"), .prefix("genl_family_rcv_msg"), .prefix("netlink_dump"), .prefix("genl_lock_dumpit"),
        .prefix("genl_dumpit"),
        .prefix("sock_ioctl"), .prefix("do_vfs_ioctl"), .prefix("smp_call_function"), .prefix("on_each_cpu"),
        .prefix("generic_exec_single"), .prefix("flush_smp_call_function"), .prefix("__flush_smp_call_function"),
        .prefix("cpu_stopper_thread"), .prefix("smpboot_thread_fn"), .prefix("run_ksoftirqd"), .prefix("do_idle"),
        .prefix("cpu_startup_entry"),
        // initcalls, and the sunrpc / nfsd request dispatchers
        .exact("do_one_initcall"), .prefix("svc_process"), .exact("nfsd_dispatch"), .exact("nfsd4_proc_compound"),
    ]

    /// Prefixes of syscall wrappers; one is stripped, whichever leaves the
    /// shortest name (`__x64_sys_rmdir` → `sys_rmdir`, `compat_SyS_mount` → `mount`).
    public static let syscallPrefixes = ["__x64_", "__ia32_", "__ia32_compat_", "__x32_compat_", "__arm64_", "__se_", "__do_",
                                         "__do_sys_", "__se_sys_", "ksys_", "SyS_", "compat_SyS_", "__do_compat_sys_",
                                         "__se_compat_sys_", "compat_sys_"]

    /// Stack frames in which the task sleeps waiting for something; a hung
    /// task's culprit is the first frame past them.
    public static let sleeping = ["sched", "_lock", "_slowlock", "down", "rwsem", "completion", "kthread", "wait",
                                  "synchronize", "context_switch", "__switch_to", "cancel_delayed_work", "rcu_barrier"]

    static let plumbingSet = MatchSet(plumbing)
    static let anchorSet = MatchSet(anchors)
    static let shimSet = MatchSet(shims)

    public static func isPlumbing(_ name: String) -> Bool { plumbingSet.matches(name) }

    public static func isAnchor(_ name: String) -> Bool { anchorSet.matches(name) }

    /// `sys_rmdir` from `__x64_sys_rmdir`; names without a known prefix unchanged.
    public static func strippingSyscallPrefix(_ name: String) -> String {
        var best = name
        for p in syscallPrefixes where name.hasPrefix(p) && name.count > p.count {
            let candidate = String(name.dropFirst(p.count))
            if candidate.count < best.count { best = candidate }
        }
        return best
    }

    /// The function a soft lockup or RCU stall is "in", or nil when the stack
    /// shows no dispatch point (a truncated or interleaved report: corrupted).
    /// `frames` are the stuck context's frames, innermost first.
    public static func stallCulprit(_ frames: [Frame], skipRCU: Bool = false) -> String? {
        var previous: String?
        var shim: String?
        var seenPlumbing = false
        for f in frames where f.reliable || f.isInstructionPointer {
            guard let raw = f.function else { continue }
            let name = FunctionName.base(raw)
            if name.hasPrefix("smp_call_function") { return "smp_call_function" }
            if isAnchor(name) {
                // A dispatch point with nothing of its own above it: the CPU
                // was in the dispatcher's own loop (softirq processing on an
                // interrupt exit: `in __do_softirq`, as bug trackers title it).
                guard let found = previous ?? shim else { return seenPlumbing ? nil : name }
                return strippingSyscallPrefix(found)
            }
            if shimSet.matches(name) {
                shim = shim ?? name
                continue
            }
            if isPlumbing(name) {
                // Interrupt entry and exit say how the CPU got here, not what it ran.
                if !NMIHandlerFrames.contains(name) { seenPlumbing = true }
                continue
            }
            if skipRCU && name.includes("rcu") { continue }
            previous = name
        }
        return nil
    }

    /// The function a hung task is "in": what it was waiting for.
    public static func hungTaskCulprit(_ frames: [Frame]) -> String? {
        let names = frames.filter { $0.reliable }.compactMap { $0.function.map(FunctionName.base) }.filter { !isPlumbingForHungTask($0) }
        for name in names {
            if name.includes("rtnl_lock") { return "rtnl_lock" }
            if ["synchronize_rcu", "synchronize_srcu", "synchronize_net", "synchronize_sched"].contains(where: name.contains) {
                return "synchronize_rcu"
            }
            if sleeping.contains(where: name.contains) { continue }
            return strippingSyscallPrefix(name)
        }
        return nil
    }

    /// The plumbing list minus the sleep primitives a hung task's own rules handle.
    static func isPlumbingForHungTask(_ name: String) -> Bool {
        if name.includes("rtnl_lock") || name.hasPrefix("synchronize_") { return false }
        return isPlumbing(name)
    }
}

extension FrameAttribution {
    /// Frames whose name marks the entry of the timer interrupt that caught a
    /// stalled CPU; what follows is the code it interrupted.
    public static let interruptEntries = ["apic_timer_interrupt", "el1h_64_irq", "el1_interrupt", "__irq_svc", "gic_handle_irq"]

    /// The stuck context of a dump: frames after the first timer-interrupt
    /// entry (what the stall detector's interrupt found running: newer
    /// kernels print its RIP right there), else all frames; never the NMI
    /// handler's own. Further interrupt-entry frames are plumbing.
    ///
    /// `afterTimerInterrupt: false` is for reports printed from the timer
    /// interrupt's own registers (soft lockups): their first RIP already is
    /// the stuck code, and an interrupt entry further down is part of it.
    public static func stuckContext(_ dump: StackDump, afterTimerInterrupt: Bool = true) -> [Frame] {
        let frames = dump.frames.filter { $0.context != .nmi && !($0.isInstructionPointer && $0.function == nil) }
        if afterTimerInterrupt, let b = frames.firstIndex(where: { f in interruptEntries.contains { f.function?.contains($0) == true } }),
           b + 1 < frames.count {
            return Array(frames[(b + 1)...])
        }
        return frames
    }

    /// `BUG: soft lockup in FUNC` style title: `prefix in FUNC`, or
    /// `prefix in corrupted` when the stack gives no culprit.
    public static func title(_ prefix: String, culprit: String?) -> String {
        "\(prefix) in \(culprit ?? "corrupted")"
    }
}

extension Event {
    /// Takes the stack, release and taint of the dump the title comes from.
    public mutating func adopt(_ dump: StackDump?) {
        guard let dump else { return }
        stack = dump.frames
        kernel = dump.release
        taint = dump.taint
        noteSpinLock(dump)
    }

    /// `details["spinningOn"]`: the lock address a spinning CPU's registers
    /// show (RDI in the slow path). The registers are not part of the event,
    /// and two reports spinning on two different addresses are how an ABBA
    /// deadlock printed as separate reports is recognised (`IncidentJoin`).
    public mutating func noteSpinLock(_ dump: StackDump) {
        let c = Incident.classify(dump)
        if c.state == .spinning, let address = c.lockAddress { details["spinningOn"] = address }
    }

    /// Sets the `PREFIX in FUNC` title from the culprit. Without one it says
    /// why, from the stack adopted before: no stack in the capture at all
    /// (`PREFIX`, a header is still a complete report), a stack of nothing
    /// but NMI, watchdog and interrupt plumbing (`PREFIX (stack shows only
    /// plumbing)`), or a stack that has code but no dispatch point — cut or
    /// interleaved — which bug trackers title `PREFIX in corrupted`.
    public mutating func setTitle(_ prefix: String, culprit: String?) {
        if let culprit {
            title = FrameAttribution.title(prefix, culprit: culprit)
            return
        }
        let named = stack.compactMap { $0.function.map(FunctionName.base) }
        if named.isEmpty {
            title = prefix
            details["stackNote"] = "the capture holds no stack for this report"
        } else if named.allSatisfy(NMIHandlerFrames.contains) {
            title = prefix + " (stack shows only plumbing)"
            details["stackNote"] = "the stack shows only NMI, watchdog and interrupt plumbing, not the code the CPU was running"
        } else {
            title = FrameAttribution.title(prefix, culprit: nil)
            details["corrupted"] = "true"
        }
    }
}

/// The bookkeeping every report-shaped analyzer repeats: an event waiting for
/// the dumps after its header, finished at the next report header,
/// when the window closes, or at the end of input.
public struct PendingReport {
    public var event: Event
    public var dumps: ReportDumps

    public init(event: Event, header: Record, window: Int = 300, headerDump: ReportDumps.HeaderDump = .atHeader) {
        self.event = event
        self.dumps = ReportDumps(header: header, window: window, headerDump: headerDump)
    }

    /// What the open report needs to see next (`ReportDumps.interest`).
    public var interest: Interest { dumps.interest }

    /// Feeds a record; false when the report is complete (the record is not
    /// consumed and must be looked at as a fresh line). Any analyzer's
    /// report header after this one's completes it.
    public mutating func feed(_ record: Record) -> Bool {
        if record.line != dumps.headerLine, record.startsReport { return false }
        return dumps.feed(record)
    }

    /// The collected dumps, with the event's evidence and line range grown
    /// to cover the first of them (the one the title comes from), and the
    /// incident when two or more CPUs' stacks came with the report.
    public mutating func close() -> (event: Event, dumps: [StackDump]) {
        let all = dumps.close()
        if let note = dumps.capNote(all) { event.details[Event.cappedDetail] = note }
        if Set(all.compactMap(\.cpu)).count >= 2 { event.incident = Incident.build(all) }
        if let first = all.first {
            for line in first.evidence where event.evidence.count < 160 && event.evidence.last != line {
                event.evidence.append(line)
            }
            event.source.endLine = max(event.source.endLine, first.lastLine)
        } else if let banner = dumps.bannerOnly {
            // No stack, but the banner names the task and the kernel.
            // Only the report's own task: the same CPU, or the same pid when
            // the report has no CPU (an RCU stall's kthread banner is not it).
            if (banner.cpu != nil && banner.cpu == event.cpu) || (event.cpu == nil && event.pid != nil && banner.pid == event.pid) {
                event.kernel = event.kernel ?? banner.release
                event.taint = event.taint ?? banner.taint
                event.pid = event.pid ?? banner.pid
                event.comm = event.comm ?? banner.comm
                for line in banner.evidence where event.evidence.count < 160 && event.evidence.last != line { event.evidence.append(line) }
                event.source.endLine = max(event.source.endLine, banner.lastLine)
            }
        }
        return (event, all)
    }
}

extension Optional where Wrapped == PendingReport {
    /// The step report-shaped analyzers repeat: feed the open report, and
    /// hand it back when the record ends it (the record then still has to be
    /// looked at as a fresh line).
    ///
    /// The report is fed where it lies (`self!`): feeding a copy and
    /// storing it back copied the whole report on every line of its window
    /// and left its arrays shared, so each append copied them again.
    public mutating func step(_ record: Record) -> ReportStep {
        guard self != nil else { return .idle }
        if self!.feed(record) { return .accepted }
        let finished = self!
        self = nil
        return .finished(finished)
    }
}

public enum ReportStep {
    case idle
    case accepted
    /// Boxed: the step is returned for every line of a report, and an
    /// unboxed report made every `.accepted` a copy of its size.
    indirect case finished(PendingReport)
}
