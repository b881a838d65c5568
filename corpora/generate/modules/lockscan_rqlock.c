// SPDX-License-Identifier: GPL-2.0
/*
 * lockscan_rqlock: one CPU holds its runqueue lock for a long time while
 * another waits for it in double_rq_lock().
 *
 * - lockscan_rq_busy, a kthread bound to CPU `cpu`, keeps that CPU busy.
 * - A kprobe on task_tick_fair() (scheduler tick: the CPU's rq lock is held,
 *   interrupts are off) fires once when the tick interrupts lockscan_rq_busy
 *   and spins there for hold_ms milliseconds (lockscan_rq_hold).
 * - lockscan_rq_yield, a kthread bound to CPU `waiter`, then calls
 *   yield_to(lockscan_rq_busy) — what KVM does on a pause-loop exit — which
 *   takes both runqueue locks with double_rq_lock() and spins on the held one.
 * - Half way through the hold, the holder asks for all-CPU NMI backtraces
 *   (handle_sysrq('l'); kernel.sysrq must allow it) so both stacks are printed.
 *
 * Part of lockscan's capture generator.
 */
#include <linux/module.h>
#include <linux/kthread.h>
#include <linux/kprobes.h>
#include <linux/sched.h>
#include <linux/sysrq.h>
#include <linux/atomic.h>
#include <linux/ktime.h>
#include <linux/delay.h>

static int cpu = 1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "CPU whose runqueue lock is held");
static int waiter = 0;
module_param(waiter, int, 0444);
MODULE_PARM_DESC(waiter, "CPU that waits for it in double_rq_lock()");
static int hold_ms = 4000;
module_param(hold_ms, int, 0444);
MODULE_PARM_DESC(hold_ms, "how long to hold it");

static struct task_struct *busy, *yielder;
static atomic_t holding = ATOMIC_INIT(0);	/* 0 not yet, 1 holding, 2 done */
static atomic_t armed = ATOMIC_INIT(0);

static noinline void lockscan_rq_hold(void)
{
	u64 start = ktime_get_mono_fast_ns();
	bool dumped = false;

	pr_info("lockscan_rqlock: CPU %d holds its rq lock in the tick for %d ms\n",
		smp_processor_id(), hold_ms);
	atomic_set(&holding, 1);
	while (ktime_get_mono_fast_ns() - start < (u64)hold_ms * NSEC_PER_MSEC) {
		if (!dumped && ktime_get_mono_fast_ns() - start > (u64)hold_ms * NSEC_PER_MSEC / 2) {
			dumped = true;
			handle_sysrq('l');
		}
		cpu_relax();
	}
	atomic_set(&holding, 2);
	pr_info("lockscan_rqlock: CPU %d releases its rq lock\n", smp_processor_id());
}

static int lockscan_rq_pre(struct kprobe *p, struct pt_regs *regs)
{
	if (current != busy || !atomic_read(&armed) || atomic_read(&holding))
		return 0;
	lockscan_rq_hold();
	return 0;
}

static struct kprobe lockscan_kp = {
	.symbol_name = "task_tick_fair",
	.pre_handler = lockscan_rq_pre,
};

static int lockscan_rq_busy_thread(void *unused)
{
	while (!kthread_should_stop()) {
		cpu_relax();
		cond_resched();
	}
	return 0;
}

static noinline void lockscan_rq_yield_to_busy(void)
{
	yield_to(busy, true);	/* double_rq_lock(this rq, busy's rq) */
}

static int lockscan_rq_yield_thread(void *unused)
{
	while (!atomic_read(&holding))
		schedule_timeout_uninterruptible(1);
	pr_info("lockscan_rqlock: CPU %d calls yield_to(%s:%d) on CPU %d\n", smp_processor_id(),
		busy->comm, task_pid_nr(busy), cpu);
	lockscan_rq_yield_to_busy();
	pr_info("lockscan_rqlock: CPU %d got both runqueue locks\n", smp_processor_id());
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int __init lockscan_rqlock_init(void)
{
	int ret;

	busy = kthread_create(lockscan_rq_busy_thread, NULL, "lockscan_rq_busy");
	if (IS_ERR(busy))
		return PTR_ERR(busy);
	kthread_bind(busy, cpu);
	yielder = kthread_create(lockscan_rq_yield_thread, NULL, "lockscan_rq_yield");
	if (IS_ERR(yielder)) {
		kthread_stop(busy);
		return PTR_ERR(yielder);
	}
	kthread_bind(yielder, waiter);
	ret = register_kprobe(&lockscan_kp);
	if (ret) {
		pr_err("lockscan_rqlock: register_kprobe(task_tick_fair) failed: %d\n", ret);
		kthread_stop(busy);
		kthread_stop(yielder);
		return ret;
	}
	wake_up_process(busy);
	wake_up_process(yielder);
	msleep(500);
	atomic_set(&armed, 1);
	return 0;
}

static void __exit lockscan_rqlock_exit(void)
{
	unregister_kprobe(&lockscan_kp);
	kthread_stop(yielder);
	kthread_stop(busy);
}

module_init(lockscan_rqlock_init);
module_exit(lockscan_rqlock_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lockscan capture generator: runqueue lock held in the tick, waited for in double_rq_lock");
