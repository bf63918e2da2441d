#!/usr/bin/env bash
# Optional set-up for `backend: container` on a Debian/Ubuntu machine without Docker: installs
# Podman (rootful, runc) and debootstrap, and configures Podman so containers start on hosts
# like CI runners. Idempotent: safe to run again. Needs root.
#
#   bash scripts/container-setup.sh            install and configure
#   bash scripts/container-setup.sh --service  also start a Docker-API service on
#                                              /run/podman/podman.sock (stays running)
#
# Without --service nothing keeps running: xferbench starts a private `podman system service`
# for each run that needs one and ends it when the run ends.
set -euo pipefail

if [ "$(id -u)" != 0 ]; then
  echo "container-setup: run as root (it installs packages and writes /etc/containers)" >&2
  exit 2
fi

# A working Docker engine needs none of this.
if [ -S /var/run/docker.sock ] && command -v docker >/dev/null && docker info >/dev/null 2>&1; then
  echo "container-setup: Docker answers on /var/run/docker.sock; nothing to do"
  exit 0
fi

missing=()
for pair in podman:podman runc:runc debootstrap:debootstrap tar:tar; do
  command -v "${pair%%:*}" >/dev/null || missing+=("${pair##*:}")
done
if [ "${#missing[@]}" -gt 0 ]; then
  echo "container-setup: installing ${missing[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${missing[@]}" >/dev/null
fi

# runc rather than crun (crun fails on some cgroup layouts, CI's among them); ulimits at or
# below the hard limits, since Podman's defaults can exceed what the runner allows.
hard_nofile=$(ulimit -Hn)
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
nofile=$(( hard_nofile < 1024 ? hard_nofile : 1024 ))
hard_nproc=$(ulimit -Hu)
[ "$hard_nproc" = unlimited ] && hard_nproc=4096
nproc=$(( hard_nproc < 4096 ? hard_nproc : 4096 ))
conf=/etc/containers/containers.conf.d/xferbench.conf
mkdir -p "$(dirname "$conf")"
want=$(printf '%s\n' '# written by xferbench scripts/container-setup.sh' \
  '[containers]' "default_ulimits = [\"nofile=${nofile}:${nofile}\", \"nproc=${nproc}:${nproc}\"]" \
  '' '[engine]' 'runtime = "runc"')
if [ "$(cat "$conf" 2>/dev/null)" != "$want" ]; then
  printf '%s\n' "$want" > "$conf"
  echo "container-setup: wrote $conf"
fi

podman info --format '{{.Host.OCIRuntime.Name}}' | grep -qx runc || {
  echo "container-setup: podman does not use runc after writing $conf" >&2
  exit 1
}

if [ "${1:-}" = --service ]; then
  if ! curl -fsS --unix-socket /run/podman/podman.sock http://d/_ping >/dev/null 2>&1; then
    mkdir -p /run/podman
    nohup podman system service --time=0 unix:///run/podman/podman.sock >/var/log/xferbench-podman.log 2>&1 &
    for _ in $(seq 50); do [ -S /run/podman/podman.sock ] && break; sleep 0.1; done
  fi
  echo "container-setup: Docker API on unix:///run/podman/podman.sock"
  echo "  export DOCKER_HOST=unix:///run/podman/podman.sock TESTCONTAINERS_RYUK_DISABLED=true"
fi
echo "container-setup: $(podman --version) with runc is ready"
