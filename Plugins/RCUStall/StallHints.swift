import LockscanKit

/// Advice from what the report itself diagnosed: the kernel prints its own
/// hints (a timer that never fired, a starved kthread, all quiescent states
/// seen), and each changes where a reader should look.
enum StallHints {
    static let reference = "Documentation/RCU/stallwarn.rst"

    static func hints(for e: Event, stalled: [Int], timerIssueCPU: Int?) -> [Hint] {
        var out: [Hint] = []
        let kthreadCPU = e.details["kthreadCPU"]
        if let cpu = timerIssueCPU {
            let wakeup = e.details["kthreadTimerWakeupMissedJiffies"].map { " for \($0) jiffies" } ?? ""
            out.append(Hint("The grace-period kthread's timer did not wake it\(wakeup): the kernel suspects timer handling on CPU \(cpu) (its timer softirq did not run). Look for interrupts or softirqs kept off on that CPU, a clock event device that stopped, or, in a VM, a host that stopped delivering the vCPU's timer interrupts.",
                            reference: reference))
        }
        if e.details["allQuiescentStatesSeen"] == "true" {
            let activity = e.details["kthreadActivityJiffies"].map { " (its last activity was \($0) jiffies ago)" } ?? ""
            out.append(Hint("Every CPU has passed a quiescent state: no CPU holds up this grace period; the grace-period kthread did not finish it\(activity). Find out why that kthread does not run.",
                            reference: reference))
        }
        if let jiffies = e.details["kthreadStarvedJiffies"] {
            let where_ = kthreadCPU.map { " on CPU \($0), where it last ran (that CPU is not a stalled one: its own stack, when printed, shows what ran instead)" } ?? ""
            out.append(Hint("The RCU grace-period kthread was starved of CPU time for \(jiffies) jiffies\(where_): look for real-time or busy tasks and softirq load there; RCU cannot end grace periods without it.",
                            reference: reference))
        }
        if e.details["oomExpected"] == "true" {
            out.append(Hint("The kernel warns that, while the grace-period kthread cannot run, RCU callbacks and the memory they free pile up: an OOM kill after this stall is a consequence, not a separate problem.",
                            reference: reference))
        }
        if !stalled.isEmpty {
            let which = stalled.count == 1 ? "the stalled CPU's backtrace" : "each stalled CPU's backtrace (CPUs \(stalled.map(String.init).joined(separator: ", ")))"
            out.append(Hint("Read \(which) below the timer interrupt: a loop without cond_resched(), a lock spin with preemption off, or a vCPU that was not running (check the host).",
                            reference: reference))
        }
        return out
    }
}
