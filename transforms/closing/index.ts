import type { TextEdit } from '../../src/edits.js';
import { can } from '../../src/facts/image.js';
import { endOffset, lineStartOffset } from '../../src/model/dockerfile.js';
import type { NewInstruction } from '../../src/rewrite/render.js';
import { finding, type Transform, type TransformContext } from '../../src/rewrite/transform.js';
import type { Finding } from '../../src/types.js';
import { refusedDirFindings } from './application-dirs.js';
import { closingInstructions, closingLine } from './line.js';
import { originalUserDirs } from './original-user-dirs.js';

/**
 * The closing ownership step: at the end of the stage (before a final `USER` of the Peak user), one `RUN` gives
 * the user what its program writes and nothing else: its home, where a step after the user block may have left
 * something there that is not the user's (home.ts); the application directories the stage made, the directories,
 * not the files in them (application-dirs.ts); what the original gave its own runtime user, and a HOME the image
 * sets (original-user-dirs.ts, env-home.ts); a server's run-time paths (server-paths.ts). line.ts puts them on one
 * line, which is added only when one of them has something to give.
 */
export const closing: Transform = {
  id: 'closing',
  summary:
    "Gives the user, at the end of the stage, what its program writes: the application's directories, a server's run-time paths, and its home where a later step may have left files there.",
  apply(ctx) {
    const { plan } = ctx;
    const original = originalUserDirs(ctx);
    const findings = [...refusedDirFindings(ctx), ...original.findings];
    const line = closingLine(ctx, original.dirs);
    if (line.give.length + line.dirsOnly.length === 0) return { edits: [], findings };
    if (!can.run(plan.base.facts)) return { edits: [], findings: [...findings, ...noShellFindings(ctx, line.dirsOnly)] };
    if (plan.userReadyIndex > plan.closingAt) return { edits: [], findings };
    return { edits: [insertAtClosing(ctx, closingInstructions(ctx, line))], findings };
  },
};

/** Without a shell there is no RUN to give the directories with. */
function noShellFindings(ctx: TransformContext, dirsOnly: string[]): Finding[] {
  const { plan } = ctx;
  if (dirsOnly.length === 0) return [];
  return [
    finding(
      'dir-not-owned',
      plan.stage.from,
      `the base has no shell to chown ${dirsOnly.join(' ')}; they stay owned by whoever the build made them for (root, or the user in force), not by ${ctx.options.user}`,
      'create them in a builder stage and COPY them with --chown',
    ),
  ];
}

/** Before the instruction the closing goes before, or after the stage's last one. */
function insertAtClosing({ model, plan, render }: TransformContext, items: NewInstruction[]): TextEdit {
  const { stage } = plan;
  return plan.closingAt < stage.instructions.length
    ? render.insertBefore(lineStartOffset(model, stage.instructions[plan.closingAt]), items)
    : render.insertAfter(endOffset(model, stage.instructions[stage.instructions.length - 1] ?? stage.from), items);
}
