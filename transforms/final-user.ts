import { can } from '../src/facts/image.js';
import { endOffset, isRootUser, userValue } from '../src/model/dockerfile.js';
import { because, instruction, type NewInstruction } from '../src/rewrite/render.js';
import { finding, type Transform } from '../src/rewrite/transform.js';
import type { Finding } from '../src/types.js';
import { stageEnvHome } from './closing/env-home.js';

/**
 * Ends the stage as the UID: `USER $PEAK_USER_ID` (the guide's line; without a shell, `${PEAK_USER_ID:?…}` so the
 * builder itself refuses an empty UID), after `ENV HOME=<home>` where Docker would not take the home from the
 * passwd entry: a UID the base already uses (Docker takes HOME from the first entry of that UID, node's
 * /home/node) or a base that sets a HOME of its own. A stage that already ends as the Peak user is left as it is.
 */
export const finalUser: Transform = {
  id: 'final-user',
  summary: 'Ends the stage with USER $PEAK_USER_ID, with ENV HOME where the passwd entry would not give the home.',
  apply({ model, options, plan, render }) {
    const { stage } = plan;
    if (plan.endsAsPeak) return { edits: [], findings: [] };
    const findings: Finding[] = [];
    const runs = can.run(plan.base.facts);
    const last = stage.instructions[stage.instructions.length - 1] ?? stage.from;
    if (plan.finalUserIndex >= 0) {
      const other = stage.instructions[plan.finalUserIndex];
      const value = userValue(other);
      const inARow = plan.finalUserIndex === stage.instructions.length - 1;
      findings.push(
        finding(
          isRootUser(value) ? 'final-user-root' : 'user-overridden',
          other,
          inARow
            ? `USER ${value} is kept, since peak-fix removes no line, but USER $${options.uidArg} right after it decides who runs the image`
            : `USER ${value} is followed by USER $${options.uidArg} at the end of the stage`,
          inARow ? `delete USER ${value} if the image is only built for Peak` : undefined,
          isRootUser(value) ? 'final-user-root' : inARow ? 'kept-in-a-row' : 'user-overridden',
        ),
      );
    }
    const items: NewInstruction[] = [];
    if (options.preset === 'safe' && runs && can.needHomeEnv(plan.base.facts) && stageEnvHome(stage.instructions) === null) {
      const facts = plan.base.facts;
      const why =
        facts.takenUids.length > 0
          ? `the base already uses UID ${facts.takenUids.join(', ')}: where ${options.uidArg} is one of them, Docker would take HOME from that user's passwd entry`
          : facts.home !== undefined
            ? `the base has a home of its own user (${facts.home}): HOME would be that one, not ${options.user}'s`
            : `the base is not in the catalog: where it already uses ${options.uidArg}, Docker would take HOME from that user's passwd entry`;
      items.push(because(instruction('ENV', `HOME=${options.home}`), why));
    }
    // Without a shell there is no RUN to refuse an empty UID; the builder's own ${VAR:?} check does it.
    const user = runs ? `$${options.uidArg}` : `\${${options.uidArg}:?build argument ${options.uidArg} is required}`;
    const why = runs
      ? `the image runs as the UID Peak passes (guide, step 3)`
      : `the image runs as the UID Peak passes (guide, step 3); without a shell, the builder itself refuses an empty ${options.uidArg}`;
    items.push(because(instruction('USER', user), why));
    return { edits: [render.insertAfter(endOffset(model, last), items)], findings };
  },
};
