#!/usr/bin/env bash
# The shell baseline of `npm run bench`: the work of one xferbench cell done by hand, timed as a
# whole process against `xferbench run` doing the same. Per run, like xferbench: fresh host and
# client keys, a dataset of FILES x SIZE bytes and its sha256 manifest, one sshd started with the
# sshd_config xferbench renders, FILES transfers at most CONCURRENCY at once (xargs -P) with the
# same rsync argv (or cp), a sha256 check of the destination, sshd stopped.
#
#   shell-baseline.sh DIR FILES SIZE CONCURRENCY TOOL
#
# DIR holds sshd_config and ssh_config, rendered by the bench with xferbench's own renderers;
# they name DIR/host_key, DIR/authorized_keys, DIR/client_key, DIR/known_hosts and the host alias
# `target` at ADDRESS:PORT (DIR/endpoint). TOOL is rsync or cp.
set -euo pipefail
dir=$1 files=$2 size=$3 concurrency=$4 tool=$5
read -r address port < "$dir/endpoint"
sshd=$(PATH=$PATH:/usr/sbin:/sbin command -v sshd)

rm -rf "$dir/src" "$dir/dest" "$dir"/host_key* "$dir"/client_key*
mkdir -p "$dir/src" "$dir/dest"
ssh-keygen -q -t ed25519 -N '' -C baseline-host -f "$dir/host_key"
ssh-keygen -q -t ed25519 -N '' -C baseline-client -f "$dir/client_key"
echo "restrict,port-forwarding $(cat "$dir/client_key.pub")" > "$dir/authorized_keys"
chmod 600 "$dir/authorized_keys"
echo "[$address]:$port $(cut -d' ' -f1,2 "$dir/host_key.pub")" > "$dir/known_hosts"

# One reader of /dev/urandom cut into FILES files, then their manifest.
head -c $((files * size)) /dev/urandom | split -b "$size" -a 6 -d - "$dir/src/f"
(cd "$dir/src" && sha256sum -- * > "$dir/manifest")

"$sshd" -D -e -f "$dir/sshd_config" 2> "$dir/sshd.log" &
sshd_pid=$!
trap 'kill "$sshd_pid" 2>/dev/null; wait "$sshd_pid" 2>/dev/null || true' EXIT
until grep -q '^Server listening' "$dir/sshd.log"; do
  kill -0 "$sshd_pid"
  sleep 0.005
done

cd "$dir/src"
if [ "$tool" = cp ]; then
  ls | xargs -P "$concurrency" -I{} cp -p {} "$dir/dest/{}"
else
  ls | xargs -P "$concurrency" -I{} rsync -a -e "ssh -F $dir/ssh_config -o ControlMaster=no -o ControlPath=none" \
    "$dir/src/{}" "target:$dir/dest/{}"
fi
cd "$dir/dest" && sha256sum --quiet -c "$dir/manifest"
