// SPDX-License-Identifier: GPL-2.0
/*
 * lockscan_softlockup: a kthread bound to one CPU spins with preemption
 * disabled (interrupts stay on), so that CPU's watchdog thread never runs and
 * the soft-lockup detector reports it.  Part of lockscan's capture generator.
 */
#include <linux/module.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/delay.h>
#include <linux/jiffies.h>
#include <linux/preempt.h>

static int cpu = 1;
module_param(cpu, int, 0444);
MODULE_PARM_DESC(cpu, "CPU to spin on");
static int seconds = 60;
module_param(seconds, int, 0444);
MODULE_PARM_DESC(seconds, "how long to spin with preemption disabled");

static struct task_struct *spinner;

static noinline void lockscan_spin_forever(unsigned long until)
{
	while (time_before(jiffies, until))
		cpu_relax();
}

static int lockscan_spin_thread(void *unused)
{
	pr_info("lockscan_softlockup: spinning on CPU %d for %d s with preemption disabled\n",
		smp_processor_id(), seconds);
	preempt_disable();
	lockscan_spin_forever(jiffies + seconds * HZ);
	preempt_enable();
	pr_info("lockscan_softlockup: done\n");
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	return 0;
}

static int __init lockscan_softlockup_init(void)
{
	spinner = kthread_create(lockscan_spin_thread, NULL, "lockscan_spin");
	if (IS_ERR(spinner))
		return PTR_ERR(spinner);
	kthread_bind(spinner, cpu);
	wake_up_process(spinner);
	return 0;
}

static void __exit lockscan_softlockup_exit(void)
{
	kthread_stop(spinner);
}

module_init(lockscan_softlockup_init);
module_exit(lockscan_softlockup_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lockscan capture generator: soft lockup");
