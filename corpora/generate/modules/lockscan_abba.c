// SPDX-License-Identifier: GPL-2.0
/*
 * lockscan_abba: a classic ABBA spinlock deadlock across two CPUs.
 * Thread A (cpu_a) takes lock_a with interrupts disabled, thread B (cpu_b)
 * takes lock_b with interrupts enabled; each then takes the other's lock.
 * Neither ever returns.
 *
 * To make every run report the same things:
 * - both threads first sleep 3 s, so the work the module load queued
 *   (freeing its init memory: synchronize_rcu() and TLB-flush IPIs to every
 *   CPU) is done; otherwise CPU 0 may be caught in smp_call_function()
 *   waiting for CPU 1, whose interrupts are already off;
 * - once A holds lock A with interrupts off, B requests an RCU grace period
 *   and sleeps until it has started, so a grace period that CPU 1 can never
 *   end is in progress when the deadlock closes (otherwise, on an idle
 *   system, no grace period may be running and no RCU stall is reported).
 *
 * Part of lockscan's capture generator.
 */
#include <linux/module.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/spinlock.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/rcupdate.h>

/* Exported (for rcutorture), declared in kernel/rcu/rcu.h only. */
extern unsigned long rcu_get_gp_seq(void);

static int cpu_a = 1;
module_param(cpu_a, int, 0444);
MODULE_PARM_DESC(cpu_a, "CPU of the thread that takes A then B with interrupts off");
static int cpu_b;
module_param(cpu_b, int, 0444);
MODULE_PARM_DESC(cpu_b, "CPU of the thread that takes B then A with interrupts on");

static DEFINE_SPINLOCK(lockscan_lock_a);
static DEFINE_SPINLOCK(lockscan_lock_b);
static atomic_t ready = ATOMIC_INIT(0);
static atomic_t a_holds = ATOMIC_INIT(0);
static atomic_t b_holds = ATOMIC_INIT(0);

static noinline void lockscan_abba_meet(void)
{
	msleep(3000);
	atomic_inc(&ready);
	while (atomic_read(&ready) < 2)
		cpu_relax();
}

static noinline void lockscan_abba_take_a_then_b(void)
{
	unsigned long flags;

	spin_lock_irqsave(&lockscan_lock_a, flags);
	atomic_set(&a_holds, 1);
	while (!atomic_read(&b_holds))
		cpu_relax();
	spin_lock(&lockscan_lock_b);	/* never succeeds */
	spin_unlock(&lockscan_lock_b);
	spin_unlock_irqrestore(&lockscan_lock_a, flags);
}

static noinline void lockscan_abba_start_grace_period(void)
{
	while (!atomic_read(&a_holds))
		cpu_relax();
	start_poll_synchronize_rcu();
	while (!(rcu_get_gp_seq() & 0x3))	/* rcu_seq_state(): grace period in progress */
		msleep(1);
}

static noinline void lockscan_abba_take_b_then_a(void)
{
	spin_lock(&lockscan_lock_b);
	atomic_set(&b_holds, 1);
	spin_lock(&lockscan_lock_a);	/* never succeeds */
	spin_unlock(&lockscan_lock_a);
	spin_unlock(&lockscan_lock_b);
}

static int lockscan_abba_thread_a(void *unused)
{
	lockscan_abba_meet();
	pr_info("lockscan_abba: thread A on CPU %d takes lock A (%px) then B (%px), irqs off\n",
		smp_processor_id(), &lockscan_lock_a, &lockscan_lock_b);
	lockscan_abba_take_a_then_b();
	return 0;
}

static int lockscan_abba_thread_b(void *unused)
{
	lockscan_abba_meet();
	lockscan_abba_start_grace_period();
	pr_info("lockscan_abba: thread B on CPU %d takes lock B (%px) then A (%px), irqs on\n",
		smp_processor_id(), &lockscan_lock_b, &lockscan_lock_a);
	lockscan_abba_take_b_then_a();
	return 0;
}

static int __init lockscan_abba_init(void)
{
	struct task_struct *a, *b;

	a = kthread_create(lockscan_abba_thread_a, NULL, "lockscan_abba_a");
	if (IS_ERR(a))
		return PTR_ERR(a);
	b = kthread_create(lockscan_abba_thread_b, NULL, "lockscan_abba_b");
	if (IS_ERR(b)) {
		kthread_stop(a);
		return PTR_ERR(b);
	}
	kthread_bind(a, cpu_a);
	kthread_bind(b, cpu_b);
	wake_up_process(a);
	wake_up_process(b);
	return 0;
}

module_init(lockscan_abba_init);
/* no module_exit: the threads never finish, the module cannot be removed */
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lockscan capture generator: ABBA spinlock deadlock");
