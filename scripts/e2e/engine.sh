#!/usr/bin/env bash
# Make a Docker engine available for the end-to-end tests.
#
# - If `docker info` already answers (a developer laptop, or a daemon started
#   earlier), that engine is reused as is.
# - Otherwise (bare Debian machine, as root): install the missing Debian
#   packages (docker.io, debootstrap, a C toolchain, dpkg-dev, ...), start ONE
#   `dockerd` with all networking off in the background (log:
#   .e2e-work/dockerd.log) and wait until `docker info` answers (60 s).
#
# Never starts a second daemon: a dockerd that runs but does not answer yet is
# waited for instead.
set -euo pipefail
E2E_TAG=engine
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

docker_ok() { timeout 20 docker info >/dev/null 2>&1; }

wait_for_docker() {
  local limit="$1" i
  for ((i = 0; i < limit; i++)); do
    if docker_ok; then return 0; fi
    sleep 1
  done
  return 1
}

server_version() { docker version -f '{{.Server.Version}}' 2>/dev/null || echo '?'; }

if command -v docker >/dev/null 2>&1 && docker_ok; then
  e2e_log "reusing the Docker engine that answers (server $(server_version))"
  exit 0
fi

if [[ "$(id -u)" != 0 ]]; then
  e2e_log "no Docker engine answers and this is not root: start Docker yourself, then re-run"
  exit 1
fi

# One engine.sh at a time past this point (two test runs starting together).
exec 9>"$E2E_WORK/engine.lock"
flock -w 600 9
if docker_ok; then
  e2e_log "Docker engine answers (server $(server_version))"
  exit 0
fi

start=$(e2e_now)
e2e_ensure_packages "${E2E_PACKAGES[@]}"
if ! command -v dockerd >/dev/null 2>&1; then
  e2e_log "dockerd not found after installing docker.io"
  exit 1
fi

# A maintainer script on a machine with a real init may have started it.
if docker_ok; then
  e2e_log "Docker engine answers (server $(server_version))"
  exit 0
fi

if pgrep -x dockerd >/dev/null 2>&1; then
  e2e_log "a dockerd is already running; waiting for it instead of starting another"
else
  e2e_log "starting dockerd with networking off (log: $E2E_WORK/dockerd.log)"
  # setsid + nohup: the daemon outlives this script and the test run.
  setsid nohup dockerd --bridge=none --iptables=false --ip-forward=false --ip-masq=false \
    >>"$E2E_WORK/dockerd.log" 2>&1 </dev/null 9>&- &
  echo $! >"$E2E_WORK/dockerd.pid"
fi

if ! wait_for_docker 60; then
  e2e_log "dockerd did not answer within 60 s; last lines of its log:"
  tail -30 "$E2E_WORK/dockerd.log" >&2 || true
  exit 1
fi
e2e_log "Docker engine answers (server $(server_version)) after $(e2e_since "$start") s"
