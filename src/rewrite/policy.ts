import type { Instruction } from 'dockerfile-ast';
import type { PathClass } from '../facts/paths.js';
import { finding } from './transform.js';
import type { Finding } from '../types.js';

/**
 * The findings of the ownership policy (src/model/dirs.ts `classifyPath`): what the user never gets, and why.
 * One table so the closing step, the VOLUME fix and COPY/ADD say the same thing about the same path.
 */
const REFUSED: Record<Exclude<PathClass, 'app'>, { rule: string; reason: string; hint: string }> = {
  system: {
    rule: 'system-dir-not-owned',
    reason: 'is a system directory (the operating system, a runtime or a tool chain)',
    hint: 'use a directory of the application (e.g. /app/data) for what the program writes',
  },
  trust: {
    rule: 'system-dir-not-owned',
    reason: 'holds configuration or trusted keys',
    hint: 'use a directory of the application (e.g. /app/data) for what the program writes',
  },
  kernel: {
    rule: 'system-dir-not-owned',
    reason: "is one of the kernel's file systems",
    hint: 'leave it to the container runtime',
  },
  'root-home': {
    rule: 'root-home-path',
    reason: "is under root's home, which is 0700 root: the user cannot reach it",
    hint: "install or configure outside /root (e.g. under the application's directory or the user's home)",
  },
  'other-home': {
    rule: 'other-user-home',
    reason: "is another user's home",
    hint: "give the program a directory of its own instead of another user's home",
  },
};

export function refusedFinding(at: Instruction, what: string, kind: PathClass, user: string): Finding {
  const refused = REFUSED[kind as Exclude<PathClass, 'app'>];
  return finding(refused.rule, at, `${what}: the path ${refused.reason}; it was not given to ${user}`, refused.hint, kind);
}
