# sysrq c: a deliberate NULL-pointer write, then panic (KASLR on: the panic
# prints "Kernel Offset:"); panic=5 reboots and qemu (-no-reboot) exits.
sleep 1
log "provoke: echo c > /proc/sysrq-trigger"
echo c > /proc/sysrq-trigger
sleep 30
