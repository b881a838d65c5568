# A kthread holds a mutex forever; `cat /proc/lockscan_hung` waits for it in
# D state until khungtaskd (timeout lowered to 10 s) reports it.
echo 10 > /proc/sys/kernel/hung_task_timeout_secs
log "provoke: insmod lockscan_hung; cat /proc/lockscan_hung (hung_task_timeout_secs=10)"
insmod /lib/modules/lockscan_hung.ko
cat /proc/lockscan_hung &
sleep 35
