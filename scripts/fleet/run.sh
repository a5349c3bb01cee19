#!/usr/bin/env bash
# npm run test:fleet [jest args...]
#   1. scripts/fleet/ensure-tools.sh - git, Chromium (+ driver) and pre-commit from Debian's archive, if missing
#   2. npm run build                 - the CLI the runner scripts call (bin/peak-fix.js -> dist/)
#   3. jest -c jest.fleet.config.js --runInBand "$@"
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/../.."
bash scripts/fleet/ensure-tools.sh git browser pre-commit </dev/null
npm run build --silent </dev/null
exec node --experimental-vm-modules node_modules/jest/bin/jest.js -c jest.fleet.config.js --runInBand "$@" </dev/null
