import { can } from '../../src/facts/image.js';
import type { RuntimePath } from '../../src/facts/types.js';
import { stageServer } from '../../src/model/server.js';
import type { TransformContext } from '../../src/rewrite/transform.js';

/**
 * A server's run-time paths (src/facts/servers.ts): what the base image's program writes, e.g. nginx's cache and pid
 * file, as its copied configuration sets them; less what the recipe's lines give the user already.
 */
export function serverPaths({ model, plan, inputs }: TransformContext): RuntimePath[] {
  if (!can.run(plan.base.facts)) return [];
  const server = stageServer(model, plan.stage, plan.base.reference, inputs);
  const managed = plan.stage.instructions.filter((i) => plan.peak.isPeakManaged(i));
  const givenToUser = new Set(managed.flatMap((i) => [...plan.peak.ownedPaths(i)]));
  return (server?.paths ?? []).filter((p) => !givenToUser.has(p.path));
}
