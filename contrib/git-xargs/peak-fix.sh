#!/bin/sh
# git-xargs command: migrates the clone git-xargs runs it in.
#
#   export PEAK_FIX_OUT=$HOME/peak-fix-run          # outside every clone: pull-request texts and results
#   git-xargs --github-org my-org --branch-name peak-non-root \
#     --commit-message "Run container images as Peak's non-root user" [--dry-run] \
#     "$PWD/contrib/git-xargs/peak-fix.sh"
#
# Contract (gruntwork-io/git-xargs#127): the command runs in each clone with XARGS_REPO_OWNER,
# XARGS_REPO_NAME and XARGS_DRY_RUN (true under --dry-run). peak-fix reads them itself: the repository is
# owner/name, and XARGS_DRY_RUN=true turns --write into a dry run. A non-zero exit is reported by git-xargs
# as a command error for that repository and no pull request is opened.
set -eu
: "${PEAK_FIX_OUT:?set PEAK_FIX_OUT to an absolute directory outside the clones}"
exec "${PEAK_FIX:-peak-fix}" --write \
  --pr-body "$PEAK_FIX_OUT/pr/{repository}.md" \
  --report-file "$PEAK_FIX_OUT/results.jsonl" "$@"
