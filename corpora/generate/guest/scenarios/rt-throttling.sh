# A SCHED_FIFO busy loop (priority 50) on CPU 1 for 5 s: RT throttling
# (sched_rt_runtime_us=950000 of sched_rt_period_us=1000000) kicks in.
log "provoke: spin -f 50 -c 1 5 (SCHED_FIFO busy loop on CPU 1)"
/bin/spin -f 50 -c 1 5
sleep 2
