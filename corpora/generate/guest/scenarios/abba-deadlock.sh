# Thread A on CPU 1 takes lock A with interrupts off, thread B on CPU 0 takes
# lock B; each then waits for the other's lock forever.  Nothing after insmod
# runs: the host dumps guest memory and ends the VM.
log "provoke: insmod lockscan_abba cpu_a=1 cpu_b=0"
insmod /lib/modules/lockscan_abba.ko cpu_a=1 cpu_b=0
sleep 600
