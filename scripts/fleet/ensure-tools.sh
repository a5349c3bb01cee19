#!/usr/bin/env bash
# Installs what the fleet tests need, from Debian's archive, when it is missing:
#   chromium (+ chromium-driver)  the browser test drives the HTML fleet report headless
#   pre-commit                    the hook test runs `pre-commit try-repo` in a throw-away repository
#   git                           every fleet test makes real repositories
# Usage: scripts/fleet/ensure-tools.sh [browser] [pre-commit] [git]   (no argument: all of them)
# apt-get needs root, as on CI; several engineers may share the machine, so dpkg's lock is waited for.
set -euo pipefail
want=("$@")
[[ ${#want[@]} -eq 0 ]] && want=(git browser pre-commit)

packages=()
for tool in "${want[@]}"; do
  case $tool in
    browser) [[ -x /usr/bin/chromium ]] || packages+=(chromium chromium-driver) ;;
    pre-commit) command -v pre-commit >/dev/null 2>&1 || packages+=(pre-commit) ;;
    git) command -v git >/dev/null 2>&1 || packages+=(git) ;;
    *) echo "ensure-tools: unknown tool $tool (browser, pre-commit, git)" >&2; exit 2 ;;
  esac
done
[[ ${#packages[@]} -eq 0 ]] && exit 0

if [[ $(id -u) -ne 0 ]]; then
  echo "ensure-tools: ${packages[*]} missing and not root: install them with apt-get" >&2
  exit 1
fi
echo "ensure-tools: installing ${packages[*]} (apt-get)" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get -o DPkg::Lock::Timeout=600 update -qq </dev/null
apt-get -o DPkg::Lock::Timeout=600 install -y -qq --no-install-recommends "${packages[@]}" </dev/null >&2
