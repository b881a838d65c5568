# CPU 1 holds its runqueue lock in the scheduler tick (a kprobe on
# task_tick_fair spins 4 s) while a kthread on CPU 0 waits for it in
# yield_to() -> double_rq_lock(); half way the holder asks for all-CPU NMI
# backtraces (sysrq l, enabled here for the kernel's own handle_sysrq call).
echo 1 > /proc/sys/kernel/sysrq
# A second runnable task on CPU 0: yield_to() returns early when both
# runqueues hold a single task.
/bin/spin -c 0 15 &
sleep 1
log "provoke: insmod lockscan_rqlock cpu=1 waiter=0 hold_ms=4000"
insmod /lib/modules/lockscan_rqlock.ko cpu=1 waiter=0 hold_ms=4000
sleep 10
rmmod lockscan_rqlock
