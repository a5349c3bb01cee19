#!/bin/sh
# One Sourcegraph batch-change step (contrib/sourcegraph/peak-fix.batch.yaml); installed in the peak-fix image
# as /usr/local/bin/peak-fix-sourcegraph-step.
#
# Contract (Sourcegraph batch spec reference: steps.run, steps.env, steps.outputs; batch spec templating):
# the step runs in the repository's workspace and every file it leaves changed becomes the changeset's diff,
# so the pull-request text goes to stdout (captured by `outputs.prBody.value: ${{ step.stdout }}`) and
# peak-fix's own output to stderr. A non-zero exit fails the workspace: no changeset for that repository.
set -u
body=$(mktemp)
status=0
"${PEAK_FIX:-peak-fix}" --write --pr-body "$body" "$@" >&2 || status=$?
cat "$body"
rm -f "$body"
exit "$status"
