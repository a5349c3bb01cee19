import type { Instruction } from 'dockerfile-ast';
import { classifyPath, isPlainAbsolute, normaliseAbsolute } from '../../src/facts/paths.js';
import { envPairs, normalisePath } from '../../src/model/peak.js';
import type { TransformContext } from '../../src/rewrite/transform.js';
import { ranAsPeak } from './stage-history.js';

/** The stage's own `ENV HOME` (either form) and where it is set, or null. */
export function stageEnvHome(instructions: Instruction[]): { value: string; at: number } | null {
  let found: { value: string; at: number } | null = null;
  instructions.forEach((i, at) => {
    if (i.getKeyword() !== 'ENV') return;
    for (const [name, value] of envPairs(i)) if (name === 'HOME') found = { value: value.replace(/^["']|["']$/g, ''), at };
  });
  return found;
}

/**
 * A HOME the image sets on purpose (not the user's own home) stays its HOME, files included, and the program must be
 * able to write there: the directory, or null where it is not the application's or was given to the user already.
 */
export function envHomeDir(ctx: TransformContext, given: (path: string, from: number) => boolean): string | null {
  const { options, plan } = ctx;
  const envHome = stageEnvHome(plan.stage.instructions.slice(0, plan.closingAt));
  if (!envHome || normalisePath(envHome.value) === normalisePath(options.home)) return null;
  const path = normaliseAbsolute(envHome.value);
  const application = classifyPath(envHome.value, options.home) === 'app' && isPlainAbsolute(envHome.value);
  return application && !ranAsPeak(ctx, envHome.at) && !given(path, envHome.at + 1) ? path : null;
}
