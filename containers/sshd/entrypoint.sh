#!/bin/sh
# Starts sshd with the configuration xferbench rendered for this host (mounted at
# $XFERBENCH_DIR). The login account gets the harness's own uid and gid, so files on the mounted
# data folder belong to the person running xferbench, as with the local backend.
set -eu
: "${XFERBENCH_DIR:?} ${XFERBENCH_USER:?} ${XFERBENCH_UID:?} ${XFERBENCH_GID:?}"
if [ "$XFERBENCH_UID" != 0 ] && ! getent passwd "$XFERBENCH_USER" >/dev/null; then
  getent group "$XFERBENCH_GID" >/dev/null || groupadd -g "$XFERBENCH_GID" "$XFERBENCH_USER"
  useradd -o -M -d "$XFERBENCH_DIR/data" -s /bin/sh -u "$XFERBENCH_UID" -g "$XFERBENCH_GID" "$XFERBENCH_USER"
fi
[ -f /etc/ssh/ssh_host_ed25519_key ] || ssh-keygen -q -t ed25519 -N '' -C "xferbench-host-$(hostname)" -f /etc/ssh/ssh_host_ed25519_key
# The harness reads the public half from the mounted folder for the run's known_hosts.
cp /etc/ssh/ssh_host_ed25519_key.pub "$XFERBENCH_DIR/ssh_host_ed25519_key.pub"
mkdir -p /run/sshd
# The log goes to the mounted folder: the harness reads it to the end before counting drops,
# which a container log stream (delivered late, in batches) cannot promise.
# sshd runs under this loop, not as PID 1, so that a fault (kill_sshd) can kill it and bring it
# back without restarting the container, which would change its network address. While the
# harness keeps $XFERBENCH_DIR/sshd-down, sshd stays down. A configuration sshd refuses (exit 255)
# ends the container, as an exec'd sshd did.
while :; do
  if [ -e "$XFERBENCH_DIR/sshd-down" ]; then sleep 0.05; continue; fi
  status=0
  /usr/sbin/sshd -D -E "$XFERBENCH_DIR/sshd.log" -f "$XFERBENCH_DIR/sshd_config" || status=$?
  [ "$status" != 255 ] || exit 255
done
