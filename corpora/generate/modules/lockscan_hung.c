// SPDX-License-Identifier: GPL-2.0
/*
 * lockscan_hung: a kthread takes a mutex and keeps it (sleeping
 * interruptibly, so it is not itself a hung task); reading
 * /proc/lockscan_hung then blocks in mutex_lock() in D state until the
 * hung-task detector reports the reader.  Part of lockscan's capture generator.
 */
#include <linux/module.h>
#include <linux/kthread.h>
#include <linux/sched.h>
#include <linux/mutex.h>
#include <linux/proc_fs.h>
#include <linux/completion.h>

static DEFINE_MUTEX(lockscan_mutex);
static DECLARE_COMPLETION(owner_has_it);
static struct task_struct *owner;

static int lockscan_mutex_owner(void *unused)
{
	mutex_lock(&lockscan_mutex);
	pr_info("lockscan_hung: %s:%d holds lockscan_mutex and will not release it\n",
		current->comm, task_pid_nr(current));
	complete(&owner_has_it);
	while (!kthread_should_stop())
		schedule_timeout_interruptible(HZ);
	mutex_unlock(&lockscan_mutex);
	return 0;
}

static noinline void lockscan_hung_acquire(void)
{
	mutex_lock(&lockscan_mutex);	/* blocks in D state while the owner lives */
	mutex_unlock(&lockscan_mutex);
}

static ssize_t lockscan_hung_read(struct file *file, char __user *buf, size_t len, loff_t *pos)
{
	pr_info("lockscan_hung: %s:%d waits for lockscan_mutex\n", current->comm, task_pid_nr(current));
	lockscan_hung_acquire();
	return 0;
}

static const struct proc_ops lockscan_hung_ops = {
	.proc_read = lockscan_hung_read,
};

static int __init lockscan_hung_init(void)
{
	owner = kthread_run(lockscan_mutex_owner, NULL, "lockscan_owner");
	if (IS_ERR(owner))
		return PTR_ERR(owner);
	wait_for_completion(&owner_has_it);
	if (!proc_create("lockscan_hung", 0444, NULL, &lockscan_hung_ops)) {
		kthread_stop(owner);
		return -ENOMEM;
	}
	return 0;
}

static void __exit lockscan_hung_exit(void)
{
	remove_proc_entry("lockscan_hung", NULL);
	kthread_stop(owner);
}

module_init(lockscan_hung_init);
module_exit(lockscan_hung_exit);
MODULE_LICENSE("GPL");
MODULE_DESCRIPTION("lockscan capture generator: hung task on a mutex held forever");
