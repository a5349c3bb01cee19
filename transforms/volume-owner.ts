import type { TextEdit } from '../src/edits.js';
import { volumePaths, writableDirs } from '../src/model/dirs.js';
import { classifyPath, isPlainAbsolute } from '../src/facts/paths.js';
import { refusedFinding } from '../src/rewrite/policy.js';
import { isRootUser, lineStartOffset } from '../src/model/dockerfile.js';
import { userBefore } from '../src/model/base.js';
import { normalisePath } from '../src/model/peak.js';
import { stageScope } from '../src/model/scope.js';
import { can } from '../src/facts/image.js';
import { ownInstruction } from '../src/rewrite/recipe.js';
import { because, type NewInstruction } from '../src/rewrite/render.js';
import { asRoot, finding, type Transform } from '../src/rewrite/transform.js';
import type { Finding } from '../src/types.js';

export const volumeOwner: Transform = {
  id: 'volume-owner',
  summary: 'Gives the user each VOLUME directory before the VOLUME instruction (a chown after it is discarded).',
  apply({ model, options, plan, render }) {
    const edits: TextEdit[] = [];
    const findings: Finding[] = [];
    const { stage, peak } = plan;
    // Where each path is first given to the user, computed once: a VOLUME after that needs nothing.
    const firstOwned = new Map<string, number>();
    stage.instructions.forEach((i, index) => {
      if (i.getKeyword() !== 'RUN') return;
      for (const path of peak.ownedPaths(i)) if (!firstOwned.has(path)) firstOwned.set(path, index);
    });
    const madeDirs = writableDirs(model, stage, peak, options.home).dirs;
    stage.instructions.forEach((volume, index) => {
      if (volume.getKeyword() !== 'VOLUME') return;
      const owned = (path: string) => (firstOwned.get(normalisePath(path)) ?? Infinity) < index;
      const wanted: string[] = [];
      for (const raw of volumePaths(model, volume, stageScope(model, stage).valuesAt(index))) {
        const path = normalisePath(raw);
        if (!isPlainAbsolute(path)) {
          findings.push(
            finding(
              'volume-not-owned',
              volume,
              `VOLUME ${raw} is not a literal absolute path, so it was not given to ${options.user}`,
              undefined,
              'not-literal',
            ),
          );
        } else if (classifyPath(path, options.home) !== 'app') {
          findings.push(refusedFinding(volume, `VOLUME ${path}`, classifyPath(path, options.home), options.user));
        } else if (!owned(path)) {
          wanted.push(path);
        }
      }
      if (wanted.length === 0) return;
      if (!can.run(plan.base.facts)) {
        findings.push(
          finding(
            'volume-not-owned',
            volume,
            `the base has no shell to chown ${wanted.join(' ')}; the volume stays owned by root`,
            undefined,
            'no-shell',
          ),
        );
        return;
      }
      if (index < plan.userReadyIndex) {
        findings.push(
          finding(
            'volume-not-owned',
            volume,
            `VOLUME ${wanted.join(' ')} comes before ${options.user} is created, so it cannot be given to the user`,
            'create the user before the VOLUME',
            'before-user',
          ),
        );
        return;
      }
      const inForce = userBefore(model, stage, index);
      // A directory the stage made already (an original `RUN mkdir /data`, a WORKDIR) is not made again.
      const made = new Set(madeDirs.filter((d) => d.madeAt < index).map((d) => d.path));
      const create = wanted.filter((path) => !made.has(path));
      const own = because(
        ownInstruction(options, wanted, [], { create, facts: plan.base.facts }),
        `the program writes to the VOLUME ${wanted.join(' ')}: it goes to ${options.user} before the VOLUME line, since a change of owner after it is discarded`,
      );
      const items: NewInstruction[] = asRoot(inForce, [own], isRootUser(inForce) ? null : (inForce as string));
      edits.push(render.insertBefore(lineStartOffset(model, volume), items));
    });
    return { edits, findings };
  },
};
