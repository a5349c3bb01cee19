#!/bin/sh
# Entry of the hooks in .pre-commit-hooks.yaml (`language: script`): runs this checkout's peak-fix with the
# machine's node (>= 20.19). pre-commit keeps the checkout in its cache; the first run installs it there from
# the lockfile (`npm ci`, whose `prepare` builds dist/), later runs reuse it.
# Why not `language: node`: pre-commit installs node hooks with `npm install` + `npm pack` and takes npm pack's
# stdout as the tarball's name, but npm prints the `prepare` build's banner there too, so the install breaks.
set -eu
root=$(cd "$(dirname "$0")/.." && pwd)
if [ ! -f "$root/dist/src/cli/index.js" ]; then
  echo "peak-fix: installing into pre-commit's cache (npm ci, once)" >&2
  (cd "$root" && npm ci --no-audit --no-fund --loglevel=error >&2)
fi
exec node "$root/bin/peak-fix.js" "$@"
