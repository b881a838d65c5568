# A SCHED_OTHER busy loop keeps CPU 1 busy in user space; sysrq l asks every
# CPU for a backtrace (NMI).
/bin/spin -c 1 10 &
sleep 2
log "provoke: echo l > /proc/sysrq-trigger"
echo l > /proc/sysrq-trigger
sleep 3
