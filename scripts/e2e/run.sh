#!/usr/bin/env bash
# npm run test:e2e [jest args...]
#   1. scripts/e2e/engine.sh  - a Docker engine (reused, or installed + started with networking off)
#   2. scripts/e2e/images.sh  - the local stand-in base images (built once)
#   3. npm run build          - when dist/ is missing or older than the sources
#   4. jest -c jest.e2e.config.js --runInBand "$@"   (exit code is jest's)
set -euo pipefail
E2E_TAG=run
# shellcheck source=lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
cd "$E2E_ROOT"
export DOCKER_BUILDKIT=0

T0=$(e2e_now)
bash scripts/e2e/engine.sh </dev/null
T1=$(e2e_now)
bash scripts/e2e/images.sh </dev/null
T2=$(e2e_now)

if [[ ! -d node_modules/jest ]]; then
  e2e_log "installing node modules (npm ci)"
  npm ci --no-audit --no-fund </dev/null
fi

stamp=dist/.e2e-build-stamp
if [[ ! -d dist || ! -e $stamp ]] ||
  [[ -n $(find src transforms bin package.json tsconfig.json tsconfig.build.json -newer "$stamp" -print -quit 2>/dev/null) ]]; then
  e2e_log "building the CLI (npm run build)"
  npm run build --silent </dev/null
  touch "$stamp"
fi
T3=$(e2e_now)

set +e
node --experimental-vm-modules node_modules/jest/bin/jest.js -c jest.e2e.config.js --runInBand "$@" </dev/null
rc=$?
set -e
e2e_log "timings: engine $(awk -v a="$T0" -v b="$T1" 'BEGIN{printf "%.1f", b-a}') s," \
  "images $(awk -v a="$T1" -v b="$T2" 'BEGIN{printf "%.1f", b-a}') s," \
  "build $(awk -v a="$T2" -v b="$T3" 'BEGIN{printf "%.1f", b-a}') s," \
  "jest $(e2e_since "$T3") s, total $(e2e_since "$T0") s"
exit "$rc"
