# The guest logs a tick every second while the host pauses the VM through QMP
# (stop ... cont) after tick 5.
log "provoke: tick every second; the host pauses the VM (QMP stop) after tick 5 for 15 s"
i=1
while [ $i -le 30 ]; do
	log "tick $i"
	i=$((i + 1))
	sleep 1
done
