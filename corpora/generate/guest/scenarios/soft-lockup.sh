# A kthread bound to CPU 1 spins 30 s with preemption disabled.
log "provoke: insmod lockscan_softlockup cpu=1 seconds=30"
insmod /lib/modules/lockscan_softlockup.ko cpu=1 seconds=30
sleep 33
