#!/bin/sh
# multi-gitter script: migrates the clone multi-gitter runs it in.
#
#   export PEAK_FIX_OUT=$HOME/peak-fix-run          # outside every clone: pull-request texts and results
#   multi-gitter run "$PWD/contrib/multi-gitter/peak-fix.sh" -O my-org -B peak-non-root \
#     -m "Run container images as Peak's non-root user" [--dry-run]
#
# Contract (multi-gitter run --help): the script runs in each clone; REPOSITORY is the repository's name and
# DRY_RUN=true is set under --dry-run. peak-fix reads both itself: DRY_RUN=true turns --write into a dry run.
# Exit 0 with changes -> multi-gitter commits and opens the pull request; exit 0 without changes -> nothing;
# exit 2 (a Dockerfile could not be processed) -> no pull request for this repository.
set -eu
: "${PEAK_FIX_OUT:?set PEAK_FIX_OUT to an absolute directory outside the clones}"
exec "${PEAK_FIX:-peak-fix}" --write \
  --pr-body "$PEAK_FIX_OUT/pr/{repository}.md" \
  --report-file "$PEAK_FIX_OUT/results.jsonl" "$@"
