#!/bin/sh
# turbolift foreach command: migrates the working copy turbolift runs it in (work/<org>/<repo>).
#
#   turbolift init --name peak-non-root && cd peak-non-root     # then list org/repo lines in repos.txt
#   turbolift clone
#   PEAK_FIX_OUT=$PWD/out turbolift foreach -- sh "$PWD/../contrib/turbolift/peak-fix.sh"
#   turbolift commit --message "Run container images as Peak's non-root user"
#   turbolift create-prs                                          # title and body from the campaign's README.md
#   turbolift foreach --failed -- sh "$PWD/../contrib/turbolift/peak-fix.sh"   # after fixing, the failures again
#
# Contract (turbolift cmd/foreach): COMMAND runs with work/<org>/<repo> as its directory and no variables of
# its own; a non-zero exit puts the repository in the failed list that `foreach --failed` reruns. turbolift
# clones forks, so `origin` names the fork: the repository is taken from the directory instead.
set -eu
: "${PEAK_FIX_OUT:?set PEAK_FIX_OUT to an absolute directory outside the clones}"
PEAK_FIX_REPOSITORY="${PEAK_FIX_REPOSITORY:-$(basename "$(dirname "$PWD")")/$(basename "$PWD")}"
export PEAK_FIX_REPOSITORY
exec "${PEAK_FIX:-peak-fix}" --write \
  --pr-body "$PEAK_FIX_OUT/pr/{repository}.md" \
  --report-file "$PEAK_FIX_OUT/results.jsonl" "$@"
