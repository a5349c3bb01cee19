# Shared helpers for scripts/e2e/*.sh (sourced, not run).
# shellcheck shell=bash

E2E_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
E2E_WORK="${PEAK_E2E_WORK:-$E2E_ROOT/.e2e-work}"
mkdir -p "$E2E_WORK"

e2e_log() { printf '[e2e/%s] %s\n' "${E2E_TAG:-e2e}" "$*" >&2; }

# Seconds since the epoch with a fraction (bash 5's EPOCHREALTIME).
e2e_now() { printf '%s' "${EPOCHREALTIME/,/.}"; }
# e2e_since START -> "12.3"
e2e_since() { awk -v a="$1" -v b="$(e2e_now)" 'BEGIN { printf "%.1f", b - a }'; }

# e2e_missing_packages PKG... -> prints the Debian packages not installed
e2e_missing_packages() {
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
      printf '%s\n' "$p"
    fi
  done
}

# e2e_ensure_packages PKG... : installs the missing ones with apt-get (root,
# Debian). Maintainer scripts are kept from starting services meanwhile.
e2e_ensure_packages() {
  local missing
  if ! command -v dpkg-query >/dev/null 2>&1; then
    e2e_log "not a Debian system: install $* yourself"
    return 1
  fi
  mapfile -t missing < <(e2e_missing_packages "$@")
  ((${#missing[@]})) || return 0
  if [[ "$(id -u)" != 0 ]]; then
    e2e_log "missing Debian packages (${missing[*]}) and not root: install them yourself"
    return 1
  fi
  e2e_log "installing: ${missing[*]}"
  local policy=/usr/sbin/policy-rc.d made=0 rc=0
  if [[ ! -e $policy ]]; then
    printf '#!/bin/sh\nexit 101\n' >"$policy"
    chmod 755 "$policy"
    made=1
  fi
  local apt=(apt-get -o DPkg::Lock::Timeout=600 -o Acquire::Retries=3)
  if ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" update -qq >"$E2E_WORK/apt-update.log" 2>&1; then
    tail -30 "$E2E_WORK/apt-update.log" >&2
    rc=1
  elif ! DEBIAN_FRONTEND=noninteractive "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" \
    >"$E2E_WORK/apt-install.log" 2>&1; then
    tail -50 "$E2E_WORK/apt-install.log" >&2
    rc=1
  fi
  if ((made)); then rm -f "$policy"; fi
  return "$rc"
}

# Everything the engine and the stand-in builds need on a bare Debian machine.
E2E_PACKAGES=(docker.io debootstrap debian-archive-keyring build-essential dpkg-dev
  xz-utils bzip2 wget ca-certificates)
