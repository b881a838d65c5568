#!/bin/bash
# mkinitramfs.sh OUT.cpio.gz MODULE_DIR... : busybox + modules + spin + /init + scenarios
set -euo pipefail
out=$1; shift
here=$(cd "$(dirname "$0")" && pwd)
root=$(mktemp -d /tmp/lockscan-gen/initramfs.XXXXXX)
mkdir -p "$root"/{bin,lib/modules,scenarios,proc,sys,dev,tmp}
cp /bin/busybox "$root/bin/busybox"
cp "$here/guest/init" "$root/init"
chmod 755 "$root/init"
cp "$here"/guest/scenarios/*.sh "$root/scenarios/"
for m in "$@"; do cp "$m" "$root/lib/modules/"; done
cp "${SPIN:?}" "$root/bin/spin"
(cd "$root" && find . | LC_ALL=C sort | cpio -o -H newc --quiet | gzip -9n) > "$out"
rm -rf "$root"
